"""Background interconnection requests: other developers' load and generation.

Each region has one arrival stream and one attribute stream per kind (load,
generation, and the backlog already queued at the start). What a request is
and every duration or coin it may need is drawn the moment it arrives, in
blocks, in arrival order. So the draws depend on the region's own streams
alone: a lever in another region (which can change only *when* things happen
here, through the shared transformer pool) changes no draw in this one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from paxsim.models.grid.request import PhasePlan, RequestDraws, collapse_parallel
from paxsim.models.scenario import GridRegion
from paxsim.sim.distributions import _Dist

__all__ = ["AttributeBlocks", "BackgroundAttributes", "PredrawnDraws"]

BLOCK = 128


class PredrawnDraws(RequestDraws):
    """A background request's draws, fixed at arrival; a private stream for any extra."""

    def __init__(
        self,
        spec: GridRegion,
        readiness: float,
        plan: PhasePlan,
        uniforms: list[float],
        post_u: float,
        post_p: float,
        build: float,
        upgrade: float,
        connection: float,
        seed: int,
    ) -> None:
        self.spec = spec
        self._readiness = readiness
        self._plan = plan
        self._uniforms = uniforms
        self._post_u = post_u
        self._post_p = post_p
        self._build = build
        self._upgrade = upgrade
        self._connection = connection
        self._seed = seed
        self._extra: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:  # type: ignore[override]
        """Draws beyond the fixed set (extra transformers, extra coins) come from here."""
        if self._extra is None:
            self._extra = np.random.Generator(np.random.PCG64(self._seed))
        return self._extra

    def readiness_days(self) -> float:
        return self._readiness

    def phase_plan(self) -> PhasePlan:
        return self._plan

    def uniform(self) -> float:
        if self._uniforms:
            return self._uniforms.pop()
        return float(self.rng.random())

    def post_study_withdraws(self) -> bool:
        return self._post_u < self._post_p

    def generation_build_days(self) -> float:
        return self._build

    def upgrade_days(self) -> float:
        return self._upgrade

    def connection_days(self) -> float:
        return self._connection

    def transformer_rng(self) -> np.random.Generator:
        return self.rng


class BackgroundAttributes:
    """What one arriving background request is."""

    __slots__ = (
        "build_days",
        "draws",
        "mw",
        "patience",
        "speculative",
        "tolerance",
        "withdrawal_probability",
    )

    def __init__(
        self,
        mw: float,
        withdrawal_probability: float,
        draws: PredrawnDraws,
        speculative: bool = False,
        patience: float | None = None,
        tolerance: float | None = None,
        build_days: float | None = None,
    ) -> None:
        self.patience = patience
        self.tolerance = tolerance  # USD/kW of assigned upgrade cost it will bear
        self.build_days = build_days  # a data-centre site's own build
        self.mw = mw
        self.withdrawal_probability = withdrawal_probability
        self.draws = draws
        self.speculative = speculative


def _nonneg(dist: _Dist, rng: np.random.Generator, n: int) -> list[float]:
    return np.maximum(dist.sample_many(rng, n), 0.0).tolist()


class AttributeBlocks:
    """Serves one background request's attributes after another, drawn ``BLOCK`` at a time.

    The order of draws within a block is fixed, so the values depend only on
    the stream and on how many requests arrived before, never on timing.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        spec: GridRegion,
        size_dist: _Dist,
        speculative_share: float | None = None,
        tolerance_dist: _Dist | None = None,
        build_dist: _Dist | None = None,
        patience_dist: _Dist | None = None,
    ) -> None:
        """``speculative_share`` and ``patience_dist`` default to the region's; the tolerance
        and build time are drawn only if given."""
        self.rng = rng
        self.spec = spec
        self.size_dist = size_dist
        self.speculative_share = (
            spec.speculative_share if speculative_share is None else speculative_share
        )
        self.tolerance_dist = tolerance_dist
        self.build_dist = build_dist
        self.patience_dist = (
            spec.background_patience_days if patience_dist is None else patience_dist
        )
        self._phases = spec.phases()
        self._buffer: list[BackgroundAttributes] = []

    def __iter__(self) -> Iterator[BackgroundAttributes]:
        return self

    def __next__(self) -> BackgroundAttributes:
        if not self._buffer:
            self._buffer = self._block()[::-1]
        return self._buffer.pop()

    def _block(self) -> list[BackgroundAttributes]:
        rng, spec, n = self.rng, self.spec, BLOCK
        mw = _nonneg(self.size_dist, rng, n)
        p_total = spec.background_withdrawal_probability.sample_many(rng, n).tolist()
        readiness = _nonneg(spec.readiness_days, rng, n)
        phase_days = [_nonneg(p.days, rng, n) for p in self._phases]
        phase_p = [p.withdrawal_probability.sample_many(rng, n).tolist() for p in self._phases]
        coins = rng.random((n, len(self._phases))).tolist()
        post_u = rng.random(n).tolist()
        post_p = spec.generation_post_study_withdrawal.sample_many(rng, n).tolist()
        build = _nonneg(spec.generation_build_days, rng, n)
        upgrade = _nonneg(spec.upgrade_days, rng, n)
        connection = _nonneg(spec.connection_days, rng, n)
        seeds = rng.integers(0, 2**63, size=n).tolist()
        # drawn only where the region sets it, so other regions' draws never change
        patience_dist = self.patience_dist
        patience = _nonneg(patience_dist, rng, n) if patience_dist is not None else [None] * n
        speculative = (rng.random(n) < self.speculative_share).tolist()
        tolerance = self._optional(self.tolerance_dist, n)
        build_days = self._optional(self.build_dist, n)
        medians = [p.days.median() for p in self._phases]
        names = [p.name for p in self._phases]
        out = []
        for i in range(n):
            plan = [
                (names[k], phase_days[k][i], medians[k], phase_p[k][i]) for k in range(len(names))
            ]
            if spec.parallel_studies:
                plan = collapse_parallel(plan)
            draws = PredrawnDraws(
                spec,
                readiness[i],
                plan,
                coins[i][::-1],
                post_u[i],
                post_p[i],
                build[i],
                upgrade[i],
                connection[i],
                seeds[i],
            )
            out.append(
                BackgroundAttributes(
                    mw[i],
                    p_total[i],
                    draws,
                    speculative[i],
                    patience[i],
                    tolerance[i],
                    build_days[i],
                )
            )
        return out

    def _optional(self, dist: _Dist | None, n: int) -> list[float | None]:
        """Draws only for what is given, so a stream's other draws never shift."""
        if dist is None:
            return [None] * n
        return list(_nonneg(dist, self.rng, n))
