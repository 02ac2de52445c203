"""Named random streams derived from one seed.

Every stochastic entity asks for its own stream by a typed
:class:`StreamName`: *who* draws (an entity of some kind, optionally one
member of it, such as an applicant at a desk) and *what for* (its purpose). A
stream depends only on ``(seed, name)``, never on creation order or on what
other streams drew, so adding a facility, or pulling a lever in one place,
leaves the draws of every other entity bit-identical (common random numbers),
and parallel workers reproduce serial runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["StreamFactory", "StreamName", "name_to_key"]


@dataclass(frozen=True, slots=True)
class StreamName:
    """The identity of one random stream: entity kind and name, purpose, member.

    ``purpose`` separates draws one entity makes for different reasons (when
    requests arrive, what each request is), so drawing more of one never
    shifts the other. ``member`` narrows the stream to one party at a shared
    entity (an applicant at a permit office), so the order in which parties
    arrive never decides which draw each one gets.
    """

    kind: str
    entity: str
    purpose: str
    member: str = ""

    def __str__(self) -> str:
        base = f"{self.kind}:{self.entity}/{self.purpose}"
        return f"{base}[{self.member}]" if self.member else base


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
        self._streams: dict[StreamName, np.random.Generator] = {}

    @property
    def entropy(self) -> Any:
        """The root entropy: the seed, or a SeedSequence's entropy (an int or ints)."""
        return self._root_entropy

    @property
    def root_key(self) -> tuple[int, ...]:
        """The spawn key every stream name's key is appended to."""
        return self._root_key

    def stream(self, name: StreamName) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            if not isinstance(name, StreamName):
                raise TypeError(f"stream names are StreamName, got {type(name).__name__}")
            seq = np.random.SeedSequence(
                self._root_entropy, spawn_key=self._root_key + name_to_key(str(name))
            )
            gen = np.random.Generator(np.random.PCG64(seq))
            self._streams[name] = gen
        return gen

    def names(self) -> list[str]:
        return sorted(str(n) for n in self._streams)
