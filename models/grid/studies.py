"""Interconnection studies: readiness, cluster windows, study phases, restudies.

1. *Readiness* (only under ``queue_order = "first_ready"``): the request must
   show it is ready (site control, deposits: ``readiness_days``) before it may
   join a study. Speculative background and pipeline requests are turned
   away at entry by the gate (they never reach this point).
2. *Studies.* With ``cluster_cycle_days > 0`` requests wait for the next
   window and are studied together as a cluster: each study phase takes one
   draw (from the region's study stream) for the whole cluster and needs one
   of the region's study teams. After each phase, each member may withdraw; a
   withdrawal triggers a restudy of the rest of the cluster
   (``restudy_days``). Without clusters every request is studied on its own,
   first come first served, phase by phase (as everywhere before
   ``individual_studies_until``, the date a region moved to clusters).
   ``parallel_studies`` runs the
   phases at the same time (the longest sets the pace). A designated site
   skips the window and goes to the front of the study queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np
import simpy

from paxsim.models.grid.request import GridRequest, PhasePlan, RequestDraws
from paxsim.models.scenario import GridRegion
from paxsim.sim.attribution import Milestone
from paxsim.sim.queues import QueueLog, ServiceQueue
from paxsim.sim.records import QueueRecord

__all__ = ["Studies"]


class Studies:
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: GridRegion,
        log: QueueLog,
        cluster_rng: np.random.Generator,
        horizon_days: float,
        individual_until_day: float = -math.inf,
    ) -> None:
        """Before ``individual_until_day`` requests are studied alone even where clusters run."""
        self.env = env
        self.name = name
        self.spec = spec
        self.log = log
        self.queue = ServiceQueue(env, f"grid:{name}", spec.study_teams, log, prioritised=True)
        self._cluster_draws = RequestDraws(cluster_rng, spec)
        self._pending: list[GridRequest] = []
        self._clusters = 0
        self._individual_until = individual_until_day
        #: (generation?, cluster MW) -> USD/kW each member pays; set by the gate
        self.pricing: Callable[[bool, float], float] | None = None
        if spec.cluster_cycle_days > 0:
            env.process(self._windows(horizon_days))

    # ------------------------------------------------------------------ planning figures
    def nominal_days(self) -> float:
        medians = [p.days.median() for p in self.spec.phases()]
        return max(medians) if self.spec.parallel_studies else sum(medians)

    def next_window(self, now: float) -> float:
        cycle = self.spec.cluster_cycle_days
        if cycle <= 0:
            return now
        first = self.spec.first_window_days
        if now <= first:
            return first
        return first + math.ceil((now - first) / cycle - 1e-12) * cycle

    # ------------------------------------------------------------------ one request
    def study(self, req: GridRequest, start: Milestone) -> Generator[simpy.Event, Any, None]:
        """Take a request through its studies (a process body); fills ``req.path``."""
        done = self.env.event()

        def then() -> None:
            done.succeed()

        self.begin(req, start, then)
        yield done

    def begin(self, req: GridRequest, start: Milestone, then: Callable[[], None]) -> None:
        """Start a request's readiness, window and study phases; call ``then()`` when done.

        Driven by callbacks, not a process: background requests, thousands a
        run, cost one timeout per study phase and nothing else.
        """
        req.path = start
        if self.spec.queue_order == "first_ready":
            ready_days = req.draws.readiness_days()
            if ready_days > 0:

                def ready(_event: simpy.Event) -> None:
                    req.path = req.path.then(
                        "interconnection_queue", self.env.now, 0.0, "readiness"
                    )
                    self._enter(req, then)

                self.env.timeout(ready_days).callbacks.append(ready)
                return
        self._enter(req, then)

    def _enter(self, req: GridRequest, then: Callable[[], None]) -> None:
        def finished() -> None:
            self._log_request(req)
            then()

        clustered = self.spec.cluster_cycle_days > 0 and self.env.now >= self._individual_until
        if clustered and not req.designated:
            self._enter_cluster(req, finished)
        else:
            self._study_alone(req, iter(req.draws.phase_plan()), finished)

    def _enter_cluster(self, req: GridRequest, finished: Callable[[], None]) -> None:
        req.done = self.env.event()
        req.done.callbacks.append(lambda _event: finished())
        self._pending.append(req)

    def _patience(self, req: GridRequest) -> float | None:
        """How long it waits for a team; where clusters begin later, no longer than that.

        A request still waiting for an individual study when the region moves to
        cluster studies is handed to the first cluster (as ERCOT's Batch Zero
        took in the pending large loads).
        """
        if (
            self.spec.cluster_cycle_days <= 0
            or math.isinf(self._individual_until)
            or req.designated
        ):
            return req.patience
        until = self._individual_until - self.env.now
        if until <= 0:
            return req.patience
        return until if req.patience is None else min(req.patience, until)

    def _study_alone(
        self,
        req: GridRequest,
        plan: Iterator[tuple[str, float, float, float]],
        finished: Callable[[], None],
    ) -> None:
        """The next study phase of a request studied on its own, first come first served."""
        step = next(plan, None)
        if step is None:
            finished()
            return
        phase_name, days, nominal, p_withdraw = step

        def phase_done(record: QueueRecord) -> None:
            if math.isnan(req.study_start):
                req.study_start = record.start
            req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
            req.path = req.path.then(
                "interconnection_study", record.end, nominal, f"{self.name}/{phase_name}"
            )
            if req.withdraws(p_withdraw):
                req.withdrawn = True
                finished()
                return
            self._study_alone(req, plan, finished)

        def gave_up(record: QueueRecord) -> None:
            if self.env.now >= self._individual_until - 1e-9 and self.spec.cluster_cycle_days > 0:
                # The process moved to clusters while it waited: it joins the next one.
                self._enter_cluster(req, finished)
                return
            req.withdrawn = req.reneged = True
            finished()

        self.queue.submit(
            f"{req.request_id}:{phase_name}",
            days,
            kind=req.kind,
            background=req.background,
            on_done=phase_done,
            priority=0 if req.designated else 1,
            patience=self._patience(req),
            on_renege=gave_up,
        )

    # ------------------------------------------------------------------ clusters
    def _windows(self, horizon_days: float) -> Generator[simpy.Event, Any, None]:
        """At every window, the requests waiting form a cluster and start their studies."""
        while True:
            wait = self.next_window(self.env.now) - self.env.now
            if wait <= 0:
                wait = self.spec.cluster_cycle_days
            if self.env.now + wait > horizon_days:
                return
            yield self.env.timeout(wait)
            # Requests handed over from individual studies at this very instant
            # (their patience ends now) join this window, not the next one.
            yield self.env.timeout(0)
            if self._pending:
                members, self._pending = self._pending, []
                self._clusters += 1
                self.env.process(self._run_cluster(members, self._clusters))

    def _phase_service(
        self, label: str, days: float, kind: str, priority: int
    ) -> Generator[simpy.Event, Any, QueueRecord]:
        record = yield from self.queue.serve(label, days, kind=kind, priority=priority)
        return record

    def _cluster_plan(self) -> PhasePlan:
        return self._cluster_draws.phase_plan()

    def _run_cluster(
        self, members: list[GridRequest], number: int
    ) -> Generator[simpy.Event, Any, None]:
        live = list(members)
        for phase_name, days, nominal, p_withdraw in self._cluster_plan():
            if not live:
                break
            record = yield from self._phase_service(
                f"cluster{number}:{phase_name}", days, f"cluster:{phase_name}", 1
            )
            for req in live:
                if math.isnan(req.study_start):
                    req.study_start = record.start
                req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
                req.path = req.path.then(
                    "interconnection_study", record.end, nominal, f"{self.name}/{phase_name}"
                )
            leaving = [r for r in live if r.withdraws(p_withdraw)]
            coin = {id(r) for r in leaving}
            leaving += self._priced_out([r for r in live if id(r) not in coin])
            for req in leaving:
                req.withdrawn = True
            live = [r for r in live if not r.withdrawn]
            if leaving and live and self.spec.restudy_days is not None:
                redo = max(0.0, self.spec.restudy_days.sample(self._cluster_draws.rng))
                record = yield from self._phase_service(
                    f"cluster{number}:restudy", redo, "cluster:restudy", 1
                )
                for req in live:
                    req.restudies += 1
                    req.path = req.path.then("interconnection_queue", record.start, 0.0, self.name)
                    req.path = req.path.then(
                        "interconnection_restudy", record.end, 0.0, f"{self.name}/{phase_name}"
                    )
        for req in members:
            assert req.done is not None
            req.done.succeed()

    def _priced_out(self, staying: list[GridRequest]) -> list[GridRequest]:
        """A decision point: members see their pro-rata upgrade cost; those above tolerance leave.

        Each withdrawal lowers the cluster's MW and so, where capacity is
        available, the share the others pay; members are re-priced until
        nobody else leaves. Requests without a tolerance (ours) never leave here.
        """
        if self.pricing is None:
            return []
        out: list[GridRequest] = []
        while True:
            cost = {
                gen: self.pricing(gen, sum(r.mw for r in staying if self._gen(r) == gen))
                for gen in (False, True)
            }
            for r in staying:
                r.assigned_cost = cost[self._gen(r)]
            leaving = [
                r for r in staying if r.tolerance is not None and r.assigned_cost > r.tolerance
            ]
            if not leaving:
                return out
            out += leaving
            gone = {id(r) for r in leaving}
            staying = [r for r in staying if id(r) not in gone]

    @staticmethod
    def _gen(req: GridRequest) -> bool:
        return req.kind == "generation"

    def _log_request(self, req: GridRequest) -> None:
        start = req.study_start if not math.isnan(req.study_start) else self.env.now
        self.log.add(
            QueueRecord(
                f"grid:{self.name}:requests",
                req.request_id,
                req.kind,
                req.background,
                req.arrival,
                start,
                self.env.now,
                "withdrawn" if req.withdrawn else "studied",
            )
        )
