"""Named random streams derived from one seed.

Every stochastic entity asks for its own stream by name. A stream depends only
on ``(seed, name)``, never on creation order, so adding a facility leaves the
draws of all the others unchanged, and parallel workers reproduce serial runs.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["StreamFactory", "name_to_key"]


def name_to_key(name: str) -> tuple[int, ...]:
    """Stable 128-bit spawn key for a stream name (Python's ``hash`` is salted)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class StreamFactory:
    """Hands out one independent ``numpy.random.Generator`` per name.

    ``entropy`` is the run's seed, or a ``SeedSequence`` (for example a batch
    replication's child sequence). Asking twice for the same name returns the
    same generator object, so a process can re-fetch its stream cheaply.
    """

    def __init__(self, entropy: int | np.random.SeedSequence) -> None:
        if isinstance(entropy, np.random.SeedSequence):
            self._root_entropy = entropy.entropy
            self._root_key: tuple[int, ...] = tuple(entropy.spawn_key)
        else:
            if not isinstance(entropy, (int, np.integer)) or int(entropy) < 0:
                raise ValueError(f"seed must be a non-negative integer, got {entropy!r}")
            self._root_entropy = int(entropy)
            self._root_key = ()
        self._streams: dict[str, np.random.Generator] = {}

    @property
    def entropy(self) -> object:
        return self._root_entropy

    def stream(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            seq = np.random.SeedSequence(
                self._root_entropy, spawn_key=self._root_key + name_to_key(name)
            )
            gen = np.random.Generator(np.random.PCG64(seq))
            self._streams[name] = gen
        return gen

    def names(self) -> list[str]:
        return sorted(self._streams)
