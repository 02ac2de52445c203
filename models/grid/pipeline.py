"""A region's data-centre pipeline: load requests by the GW, and the sites that come online.

The named campuses are a few dozen phases; a nation's data-centre build-out is
thousands of requests. Each region with a ``datacenter_pipeline`` receives a
Poisson stream of them, its volume following the pipeline's path of GW (or
TWh) requested per year. They share the region's studies, capacity line and
upgrades with every other request, so they are where congestion comes from.

What happens to one is decided by the grid gate (studies, readiness, the
assigned upgrade cost against its tolerance); this module turns the volume
path into arrival times and keeps each site's record: when it committed (and
began building), when it was energised, when it came online (both done), or
why it left. The ``pipeline_requests`` table is what the national table is
built from.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Generator, Iterator
from typing import Any

import simpy

from paxsim.models.context import SimContext
from paxsim.models.grid.background import AttributeBlocks
from paxsim.models.grid.request import GridRequest
from paxsim.models.scenario import DataCenterPipeline, GridRegion
from paxsim.models.streams import Entity, Purpose
from paxsim.sim.arrivals import piecewise_poisson_times
from paxsim.sim.calendar import DAYS_PER_YEAR
from paxsim.sim.records import RecordList

__all__ = ["KIND", "PIPELINE_COLUMNS", "PipelineSites", "request_rate_path"]

#: The ``kind`` of a pipeline request at the grid gate and in ``queue_records``.
KIND = "datacenter"

PIPELINE_COLUMNS = (
    "region",
    "country",
    "request_id",
    "mw",
    "arrival",
    "committed",
    "energized",
    "online",
    "assigned_cost_usd_per_kw",
    "outcome",
    "equipped",
    "magnet_trusted_share",
    "accelerator_trusted_share",
)


def request_rate_path(
    pipeline: DataCenterPipeline, to_days: Callable[[dt.date], float]
) -> list[tuple[float, float]]:
    """(from day, requests per day): each step's GW a year over the mean request size."""
    mean_mw = pipeline.request_mw.mean()
    path = [(-math.inf, 0.0)]
    for step in sorted(pipeline.requests, key=lambda st: st.start):
        gw = step.gw(pipeline.utilisation)
        day = to_days(step.start)
        path.append((float(day), gw * 1000.0 / mean_mw / DAYS_PER_YEAR if mean_mw > 0 else 0.0))
    return path


class PipelineSites:
    """The arrivals of one region's pipeline, and the record of every site."""

    def __init__(
        self,
        ctx: SimContext,
        region: str,
        spec: GridRegion,
        pipeline: DataCenterPipeline,
        table: RecordList | None = None,
    ) -> None:
        self.env = ctx.env
        self.region = region
        self.country = spec.country
        self.pipeline = pipeline
        self.table = table if table is not None else RecordList(PIPELINE_COLUMNS)
        self._live: dict[int, GridRequest] = {}
        #: set by the world when sites order magnets and accelerators (SiteSupply)
        self.supply: Any = None
        self._equipping: dict[int, simpy.Process] = {}
        path = request_rate_path(pipeline, ctx.calendar.to_days)
        self.times: Iterator[float] = piecewise_poisson_times(
            ctx.stream(Entity.GRID, region, Purpose.ARRIVALS, KIND), path, ctx.horizon_days
        )
        self.attributes = AttributeBlocks(
            ctx.stream(Entity.GRID, region, Purpose.ATTRIBUTES, KIND),
            spec,
            pipeline.request_mw,
            speculative_share=pipeline.speculative_share,
            tolerance_dist=pipeline.cost_tolerance_usd_per_kw,
            build_dist=pipeline.build_days,
            patience_dist=pipeline.patience_days,
        )
        self.start_committed(ctx)

    def start_committed(self, ctx: SimContext) -> None:
        """Load committed before the run: sites come online evenly until each ``online_by``.

        Their online days are known at the start, so they need no events: each
        is recorded at once, ``online`` if its day falls inside the run, else
        ``pending`` (censored).
        """
        rng = ctx.stream(Entity.GRID, self.region, Purpose.BACKLOG, KIND)
        size = self.pipeline.request_mw
        count = 0
        for block in self.pipeline.committed:
            last_day = max(0.0, ctx.calendar.to_days(block.online_by))
            left_mw = block.gw * 1000.0
            while left_mw > 1e-9:
                mw = min(left_mw, max(1.0, size.sample(rng)))
                left_mw -= mw
                day = float(rng.uniform(0.0, last_day))
                inside = day <= ctx.horizon_days
                self.table.rows.append(
                    (
                        self.region,
                        self.country,
                        f"committed{count}",
                        mw,
                        0.0,
                        0.0,
                        day if inside else math.nan,
                        day if inside else math.nan,
                        math.nan,
                        "online" if inside else "pending",
                        math.nan,
                        math.nan,
                        math.nan,
                    )
                )
                count += 1

    def arrived(self, req: GridRequest) -> None:
        self._live[id(req)] = req

    def commit(self, req: GridRequest, build_days: float) -> None:
        """The site commits (capacity allocated, or its upgrade share accepted), builds,
        and orders its magnets and accelerators."""
        req.committed = self.env.now
        req.site_ready = self.env.now + build_days
        supply = self.supply
        if supply is not None and supply.orders_anything:
            it_mw = req.mw / self.pipeline.pue
            self._equipping[id(req)] = self.env.process(
                supply.equip(self._site_id(req), it_mw, req.draws.rng)
            )

    def _site_id(self, req: GridRequest) -> str:
        return f"{self.region}/{req.request_id}"

    def energized(self, req: GridRequest) -> None:
        """Online once its building is done and its equipment is in (now, or when they are)."""
        env = self.env
        equipping = self._equipping.get(id(req))
        if equipping is not None:
            env.process(self._finish(req, equipping))
            return
        wait = req.site_ready - env.now
        if wait <= 0:
            self._record(req, env.now, "online")
            return

        def built(_event: simpy.Event) -> None:
            self._record(req, env.now, "online")

        env.timeout(wait).callbacks.append(built)

    def _finish(
        self, req: GridRequest, equipping: simpy.Process
    ) -> Generator[simpy.Event, Any, None]:
        wait = req.site_ready - self.env.now
        if wait > 0:
            yield self.env.timeout(wait)
        if not equipping.triggered:
            yield equipping
        self._record(req, self.env.now, "online")

    def left(self, req: GridRequest, outcome: str) -> None:
        self._record(req, math.nan, outcome)

    def close(self) -> None:
        """At the horizon: sites not yet online are recorded as ``pending`` (censored)."""
        for req in list(self._live.values()):
            self._record(req, math.nan, "pending")

    def _record(self, req: GridRequest, online: float, outcome: str) -> None:
        self._live.pop(id(req), None)
        equipping = self._equipping.pop(id(req), None)
        equipped = math.nan
        if equipping is not None and equipping.triggered:
            equipped = float(equipping.value or 0.0)
        supply = self.supply
        magnets = accelerators = math.nan
        if supply is not None:
            site = self._site_id(req)
            magnets = supply.trusted_share(site, supply.spec.magnet_material)
            accelerators = supply.trusted_share(site, supply.spec.accelerator_material)
        self.table.rows.append(
            (
                self.region,
                self.country,
                req.request_id,
                req.mw,
                req.arrival,
                req.committed,
                req.energized_day,
                online,
                req.assigned_cost,
                outcome,
                equipped,
                magnets,
                accelerators,
            )
        )
