"""Orders, shipments and lanes: how material moves between facilities.

A buyer sources a quantity from its suppliers in preference order. Each
supplier ships what it has from its output stock (only the pools the buyer
may accept, and under shortage only what the buyer's tier allows:
:mod:`~paxsim.models.allocation`); a shipment then passes export licensing (if a regime governs it),
a trusted-sourcing audit (if a policy asks for one) and the lane's transit,
and lands in the buyer's stock. What no supplier can ship is a shortage,
recorded with the reason the first-choice supplier gave.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import simpy

from paxsim.models.streams import Entity, Purpose
from paxsim.sim.attribution import Milestone
from paxsim.sim.distributions import _Dist
from paxsim.sim.stocks import Parts, PoolKey, Stock

if TYPE_CHECKING:
    from paxsim.models.allocation import Allocation
    from paxsim.models.context import SimContext
    from paxsim.models.culprits import CulpritTracer
    from paxsim.models.export_control import ExportRegimes
    from paxsim.models.ledger import Ledger
    from paxsim.models.recorder import Recorder
    from paxsim.models.scenario import Lane
    from paxsim.models.sourcing_rules import SourcingRules

__all__ = ["Logistics", "Receiver", "SourcingResult", "Supplier"]

Accept = Callable[[PoolKey], bool]


class Supplier(Protocol):
    name: str
    country: str

    def output_stock(self, material: str) -> Stock | None: ...

    def can_ship(self, day: float) -> bool: ...


class Receiver(Protocol):
    name: str
    country: str

    def receive(
        self, material: str, parts: Parts, arrival: Milestone | None, qty: float
    ) -> None: ...

    def denied(self, material: str, qty: float) -> None: ...


class SourcingResult:
    """What one sourcing attempt got, and why the rest could not be had."""

    __slots__ = ("first_reason", "got", "reasons")

    def __init__(self) -> None:
        self.got = 0.0
        self.reasons: list[tuple[str, str]] = []  # (supplier, reason)
        self.first_reason = ""

    def note(self, supplier: str, reason: str) -> None:
        self.reasons.append((supplier, reason))
        if not self.first_reason:
            self.first_reason = f"{reason}:{supplier}"


class _LaneDraws:
    """Transit times of one lane for one buyer, drawn ``BLOCK`` at a time from its stream."""

    BLOCK = 64
    __slots__ = ("_buffer", "dist", "rng")

    def __init__(self, dist: _Dist, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        self._buffer: list[float] = []

    def next(self) -> float:
        if not self._buffer:
            self._buffer = np.maximum(self.dist.sample_many(self.rng, self.BLOCK), 0.0).tolist()
            self._buffer.reverse()
        return self._buffer.pop()


class Logistics:
    """Moves lots from suppliers to buyers through export control, audit and transit.

    ``suppliers`` is filled by the world once every facility exists (they and
    logistics need each other).
    """

    def __init__(
        self,
        ctx: SimContext,
        lanes: dict[str, Lane],
        domestic_transit_days: _Dist,
        regimes: ExportRegimes,
        ledger: Ledger,
        recorder: Recorder,
        rules: SourcingRules,
        tracer: CulpritTracer,
        allocation: Allocation | None = None,
    ) -> None:
        from paxsim.models.allocation import Allocation

        self.ctx = ctx
        self.allocation = (
            allocation if allocation is not None else Allocation({}, None, ctx.step_days)
        )
        self.env = ctx.env
        self.regimes = regimes
        self.ledger = ledger
        self.recorder = recorder
        self.rules = rules
        self.tracer = tracer
        self.suppliers: dict[str, Supplier] = {}
        self._lanes: dict[tuple[str, str], _Dist] = {}
        for lane in lanes.values():
            if not lane.enabled:
                continue
            self._lanes[(lane.from_country, lane.to_country)] = lane.transit_days
            if not lane.one_way:
                self._lanes.setdefault((lane.to_country, lane.from_country), lane.transit_days)
        self._domestic = domestic_transit_days
        self._shipments = 0
        self._transit: dict[tuple[str, str], _LaneDraws] = {}
        self._routes: dict[tuple[int, str], tuple[list[str], list[Any]]] = {}

    def transit_dist(self, origin: str, destination: str) -> _Dist:
        if origin == destination:
            return self._lanes.get((origin, destination), self._domestic)
        return self._lanes[(origin, destination)]

    def _transit_days(self, origin: str, buyer: Receiver) -> float:
        """A transit time from the lane's stream for this buyer, drawn in blocks.

        A buyer with its own generator (a pipeline site: ``transit_rng``) draws
        from that instead, so thousands of one-off buyers need no stream each.
        """
        own = getattr(buyer, "transit_rng", None)
        if own is not None:
            return max(0.0, self.transit_dist(origin, buyer.country).sample(own))
        key = (origin, buyer.name)
        lane = self._transit.get(key)
        if lane is None:
            # One stream per lane and buyer: another buyer's shipments never shift these draws.
            rng = self.ctx.stream(
                Entity.LANE, f"{origin}>{buyer.country}", Purpose.TRANSIT, buyer.name
            )
            lane = _LaneDraws(self.transit_dist(origin, buyer.country), rng)
            self._transit[key] = lane
        return lane.next()

    # ------------------------------------------------------------------ sourcing
    def source(
        self,
        buyer: Receiver,
        material: str,
        qty: float,
        suppliers: list[str],
        accept: Accept | None,
        usable: Callable[[str], str | None] | None = None,
        order: Milestone | None = None,
        nominal_transit: float = 0.0,
    ) -> SourcingResult:
        """Take up to ``qty`` from suppliers in order and start the shipments.

        ``order`` (for traced orders, such as a data-center phase's) is the path
        up to now; each shipment extends it with licence, audit and transit.
        """
        governing = self.regimes.governing
        regulated = self.regimes.exporters
        now = self.env.now
        result = SourcingResult()
        remaining = qty
        buyer_country = buyer.country
        alloc = self.allocation
        buyer_name = buyer.name
        contract_buyer = getattr(buyer, "contract_buyer", buyer_name)
        own_tier = getattr(buyer, "supply_tier", 3)
        tier_of: dict[str, int] = {}
        for name, supplier, stock, country, always_ships in self._route(suppliers, material):
            if remaining <= 1e-9:
                break
            reason = usable(name) if usable is not None else None
            if reason is None and not always_ships and not supplier.can_ship(now):
                reason = "not_online"
            regimes: list[Any] = []
            if reason is None and country in regulated:
                regimes = governing(country, buyer_country, material, now)
                if regimes and regimes[0].spec.mode == "ban":
                    reason = "export_ban"
            if reason is None and stock is not None:
                tier = alloc.tier(contract_buyer, own_tier, name, material, now)
                tier_of[name] = tier
                allowed = alloc.allowed(
                    name, material, buyer_name, tier, remaining, stock.level, now
                )
                allowance = getattr(supplier, "allowance", None)
                if allowance is not None:
                    allowed = min(allowed, allowance(now))
                got = 0.0
                if allowed > 1e-9:
                    parts, got = stock.take_counted(allowed, accept)
                if got > 1e-9:
                    remaining -= got
                    result.got += got
                    alloc.taken(contract_buyer, name, material, got)
                    if allowance is not None:
                        supplier.released(got)
                    self._dispatch(
                        supplier, buyer, material, parts, got, regimes, order, nominal_transit
                    )
                if remaining > 1e-9:
                    if allowed < min(remaining + got, stock.level + got) - 1e-9:
                        # stock was there, but it is held for higher tiers or rationed
                        reason = "allocated_to_others"
                    else:
                        empty = stock.level <= 1e-9 or accept is None
                        reason = "supplier_short" if empty else "untrusted_stock"
            if reason is not None and remaining > 1e-9:
                result.note(name, reason)
        if tier_of:
            alloc.claim(list(tier_of), material, buyer_name, tier_of, remaining, now)
        return result

    def _route(self, suppliers: list[str], material: str) -> list[Any]:
        """Each named supplier with what sourcing asks of it, resolved once per list.

        (name, supplier, its output stock of ``material``, its country, whether
        it can always ship): a stockpile's release date must be checked, a
        plant's need not.
        """
        key = (id(suppliers), material)
        cached = self._routes.get(key)
        if cached is None or cached[0] is not suppliers:
            table = []
            for n in suppliers:
                sup = self.suppliers[n]
                always = getattr(sup, "always_ships", False)
                table.append((n, sup, sup.output_stock(material), sup.country, always))
            cached = (suppliers, table)  # holding the list keeps its id unique
            self._routes[key] = cached
        return cached[1]

    def _dispatch(
        self,
        supplier: Supplier,
        buyer: Receiver,
        material: str,
        parts: Parts,
        qty: float,
        regimes: list[Any],
        order: Milestone | None,
        nominal_transit: float,
    ) -> None:
        ledger = self.ledger
        ledger.in_transit[material] += qty
        ledger.shipped[material] += qty
        self._shipments += 1
        env = self.env
        now = env.now
        self.recorder.shipment(supplier.name, buyer.name, material, qty)
        audited = self.rules.has_mandates and (
            self.rules.audit_days(buyer.country, material, now) is not None
        )
        if audited or (regimes and any(r.spec.mode == "quota" for r in regimes)):
            env.process(
                self._ship(supplier, buyer, material, parts, regimes, order, nominal_transit)
            )
            return
        if regimes:
            self._licence_then_ship(
                supplier, buyer, material, parts, qty, regimes, order, nominal_transit, 0
            )
            return
        # The common case, no licence and no audit: one timeout with a callback,
        # the same outcome as _ship without the process machinery.
        if supplier.country != buyer.country:
            self.recorder.export(supplier, buyer, material, qty)
        arrival = env.timeout(
            self._transit_days(supplier.country, buyer),
            (buyer, material, parts, qty, order, nominal_transit),
        )
        arrival.callbacks.append(self._arrive)

    def _licence_then_ship(
        self,
        supplier: Supplier,
        buyer: Receiver,
        material: str,
        parts: Parts,
        qty: float,
        regimes: list[Any],
        milestone: Milestone | None,
        nominal_transit: float,
        index: int,
    ) -> None:
        """Licences one regime after another, by callbacks; then the transit.

        The same passage as :meth:`_ship` for lots needing licences only (no
        quota, no audit), which are thousands a run, without a process each.
        """
        env = self.env
        if index == len(regimes):
            if supplier.country != buyer.country:
                self.recorder.export(supplier, buyer, material, qty)
            arrival = env.timeout(
                self._transit_days(supplier.country, buyer),
                (buyer, material, parts, qty, milestone, nominal_transit),
            )
            arrival.callbacks.append(self._arrive)
            return
        regime = regimes[index]
        key = (buyer.name, material)
        awaiting = self.tracer.awaiting_licence
        awaiting[key] += 1
        applied = env.now

        def decided(granted: bool) -> None:
            after = milestone
            if after is not None:
                after = after.then("export_licence", env.now, 0.0, regime.name)
            awaiting[key] -= 1
            self.recorder.licence(
                regime.name, supplier.name, buyer.name, material, qty, applied, granted
            )
            if not granted:
                self._denied(supplier, buyer, material, parts, qty)
                return
            self._licence_then_ship(
                supplier, buyer, material, parts, qty, regimes, after, nominal_transit, index + 1
            )

        request_id = f"{supplier.name}>{buyer.name}#{self._shipments}"
        regime.apply_then(request_id, material, buyer.name, decided)

    def _denied(
        self, supplier: Supplier, buyer: Receiver, material: str, parts: Parts, qty: float
    ) -> None:
        """A denied lot goes back to the exporter's stock; the buyer orders again."""
        ledger = self.ledger
        ledger.in_transit[material] -= qty
        ledger.denied[material] += qty
        out = supplier.output_stock(material)
        assert out is not None
        out.put_parts(parts)
        buyer.denied(material, qty)

    def _arrive(self, event: simpy.Event) -> None:
        buyer, material, parts, qty, order, nominal_transit = event.value  # type: ignore[misc]
        milestone = None
        if order is not None:
            milestone = order.then("transit", self.env.now, nominal_transit)
        self.ledger.in_transit[material] -= qty
        buyer.receive(material, parts, milestone, qty)

    def _ship(
        self,
        supplier: Supplier,
        buyer: Receiver,
        material: str,
        parts: Parts,
        regimes: list[Any],
        order: Milestone | None,
        nominal_transit: float,
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        ledger = self.ledger
        awaiting = self.tracer.awaiting_licence
        qty = Stock.total(parts)
        milestone = order
        for regime in regimes:
            awaiting[(buyer.name, material)] += 1
            request_id = f"{supplier.name}>{buyer.name}#{self._shipments}"
            applied = env.now
            granted = yield from regime.apply(request_id, material, qty, applicant=buyer.name)
            if milestone is not None:
                milestone = milestone.then("export_licence", env.now, 0.0, regime.name)
            if granted and regime.spec.mode == "quota":
                yield from regime.wait_for_quota(qty)
                if milestone is not None:
                    milestone = milestone.then("export_quota", env.now, 0.0, regime.name)
            awaiting[(buyer.name, material)] -= 1
            self.recorder.licence(
                regime.name, supplier.name, buyer.name, material, qty, applied, granted
            )
            if not granted:
                self._denied(supplier, buyer, material, parts, qty)
                return
        if supplier.country != buyer.country:
            self.recorder.export(supplier, buyer, material, qty)
        audit = self.rules.audit_days(buyer.country, material, env.now)
        if audit is not None:
            audit_rng = self.ctx.stream(Entity.BUYER, buyer.name, Purpose.AUDIT)
            yield env.timeout(max(0.0, audit.sample(audit_rng)))
            if milestone is not None:
                milestone = milestone.then("trusted_audit", env.now, 0.0)
        yield env.timeout(self._transit_days(supplier.country, buyer))
        if milestone is not None:
            milestone = milestone.then("transit", env.now, nominal_transit)
        ledger.in_transit[material] -= qty
        buyer.receive(material, parts, milestone, qty)
