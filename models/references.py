"""Cross-reference checks: every name a scenario uses must exist and make sense.

Run after the schema has checked shapes. Returns ``(dotted_path, message)``
pairs so the loader can name the file; an empty list means the scenario is
connected (a missing connection is a build-time error, not a silent hang).

Beyond names that exist: every id is unique across all sections, a reference
to a disabled entity is an error (the engine builds only enabled ones), and
data-center phases start inside the run unless ``time.allow_phases_outside_run``
says otherwise (:func:`scenario_warnings` then says what happens to them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from paxsim.models.scenario import Scenario, choices, did_you_mean, shown_id

__all__ = ["SECTIONS", "check_references", "products_of", "scenario_warnings"]

Issue = tuple[str, str]

#: Every table of entities by id, as dotted paths; ids are unique across all of them.
SECTIONS = (
    "countries",
    "coalitions",
    "materials",
    "baskets",
    "lanes",
    "authorities",
    "grid",
    "export_controls",
    "mines",
    "separation_plants",
    "metal_plants",
    "magnet_makers",
    "fabs",
    "stockpiles",
    "demands",
    "datacenters",
    "contracts",
    "policies.trusted_sourcing",
)


#: The sections whose entities can ship material, upstream first.
SUPPLIER_SECTIONS = (
    "mines",
    "separation_plants",
    "metal_plants",
    "magnet_makers",
    "fabs",
    "stockpiles",
)


def _section(scenario: Scenario, dotted: str) -> Mapping[str, Any]:
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _duplicate_ids(scenario: Scenario) -> Iterator[Issue]:
    owner: dict[str, str] = {}
    for section in SECTIONS:
        for name in _section(scenario, section):
            where = f"{section}.{name}"
            if name in owner:
                yield (
                    where,
                    f"id {shown_id(name)} is also used by {owner[name]}; every id must be "
                    "unique across all sections (rename one of them)",
                )
            else:
                owner[name] = where


def products_of(scenario: Scenario) -> dict[str, set[str]]:
    """Which materials each enabled supplier-capable facility can ship."""
    basket_materials: set[str] = set()
    for basket in scenario.baskets.values():
        basket_materials |= {m for m, share in basket.shares.items() if share > 0}
    out: dict[str, set[str]] = {}
    for name, mine in scenario.mines.items():
        if mine.enabled:
            out[name] = {mine.output}
    for name, plant in scenario.separation_plants.items():
        if plant.enabled:
            heavy = set(plant.heavy_materials)
            out[name] = {m for m in basket_materials if plant.heavy_capable or m not in heavy}
    for section in ("metal_plants", "magnet_makers"):
        for name, maker in getattr(scenario, section).items():
            if maker.enabled:
                out[name] = {maker.output}
    for name, fab in scenario.fabs.items():
        if fab.enabled:
            out[name] = {fab.output}
    for name, pile in scenario.stockpiles.items():
        if pile.enabled:
            out[name] = {pile.material}
    return out


def buyers_of(scenario: Scenario) -> dict[str, tuple[str, set[str]]]:
    """Every enabled buyer (plant, demand sink, data centre): its country and what it buys."""
    out: dict[str, tuple[str, set[str]]] = {}
    for name, plant in scenario.separation_plants.items():
        if plant.enabled:
            out[name] = (plant.country, {plant.input})
    for section in ("metal_plants", "magnet_makers", "fabs"):
        for name, conv in getattr(scenario, section).items():
            if conv.enabled:
                out[name] = (conv.country, set(conv.recipe))
    for name, dem in scenario.demands.items():
        if dem.enabled:
            out[name] = (dem.country, {dem.material})
    for name, dc in scenario.datacenters.items():
        if dc.enabled:
            out[name] = (dc.country, {dc.magnet_material, dc.accelerator_material})
    return out


def _unknown(kind: str, name: str, names: Iterable[str]) -> str:
    """Unknown name: 'did you mean', and the names defined (a long list cut to the closest)."""
    pool = list(names)
    hint = did_you_mean(name, pool)
    return f"unknown {kind} {shown_id(name)}{hint} (defined: {choices(pool, name)})"


def _disabled(kind: str, name: str, section: str) -> str:
    return (
        f"{kind} {shown_id(name)} is disabled ({section}.{name}.enabled = false): "
        "enable it, or stop referring to it here"
    )


class _Checker:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.issues: list[Issue] = []
        self.products = products_of(scenario)
        self.buyers = buyers_of(scenario)
        self.country_of: dict[str, str] = {}
        for table in scenario.facility_tables().values():
            for name, ent in table.items():
                self.country_of[name] = ent.country
        self.lanes: set[tuple[str, str]] = set()
        for lane in scenario.lanes.values():
            if lane.enabled:
                self.lanes.add((lane.from_country, lane.to_country))
                if not lane.one_way:
                    self.lanes.add((lane.to_country, lane.from_country))

    def need(self, ok: bool, path: str, message: str) -> None:
        if not ok:
            self.issues.append((path, message))

    def entity(self, path: str, kind: str, name: str, section: str) -> None:
        """``name`` must be an enabled entity of ``section``."""
        table = _section(self.s, section)
        if name not in table:
            self.issues.append((path, _unknown(kind, name, table)))
        elif not table[name].enabled:
            self.issues.append((path, _disabled(kind, name, section)))

    def country(self, path: str, code: str) -> None:
        self.need(code in self.s.countries, path, _unknown("country", code, self.s.countries))

    def material(self, path: str, name: str) -> None:
        self.need(name in self.s.materials, path, _unknown("material", name, self.s.materials))

    def _supplier_section(self, name: str) -> str | None:
        for section in SUPPLIER_SECTIONS:
            if name in _section(self.s, section):
                return section
        return None

    def suppliers(self, path: str, names: list[str], material: str, buyer_country: str) -> None:
        for i, name in enumerate(names):
            where = f"{path}.{i}"
            if name not in self.products:
                section = self._supplier_section(name)
                if section is not None:
                    message = (
                        f"unknown supplier {shown_id(name)} among enabled facilities: "
                        f"{section}.{name} is disabled (enabled = false); enable it, or "
                        "remove it from this list"
                    )
                else:
                    message = _unknown("supplier", name, self.products)
                self.issues.append((where, message))
                continue
            if material not in self.products[name]:
                makers = [k for k, made in self.products.items() if material in made]
                self.issues.append(
                    (
                        where,
                        f"supplier {shown_id(name)} does not produce {shown_id(material)} "
                        f"(it makes: {choices(self.products[name])}; "
                        f"{material} comes from: {choices(makers, name)})",
                    )
                )
                continue
            origin = self.country_of[name]
            if origin != buyer_country and (origin, buyer_country) not in self.lanes:
                self.issues.append(
                    (
                        where,
                        f"no lane from {origin} to {buyer_country} for supplier "
                        f"{shown_id(name)} (add one under [lanes])",
                    )
                )

    def gates(self, path: str, ent: Any) -> None:
        for i, auth in enumerate(getattr(ent, "permits", [])):
            self.entity(f"{path}.permits.{i}", "permitting authority", auth, "authorities")
        region = getattr(ent, "grid_region", None)
        if region is not None:
            self.entity(f"{path}.grid_region", "grid region", region, "grid")

    def run(self) -> list[Issue]:
        s = self.s
        self.issues.extend(_duplicate_ids(s))
        if self.issues:
            # With two entities under one id every reference to it is ambiguous: stop here.
            return self.issues
        self.entity("trust_coalition", "coalition", s.trust_coalition, "coalitions")
        for cname, coal in s.coalitions.items():
            for tier in ("members", "partners", "of_concern"):
                for i, m in enumerate(getattr(coal, tier)):
                    self.country(f"coalitions.{cname}.{tier}.{i}.country", m.country)
        for name, basket in s.baskets.items():
            for mat in basket.shares:
                self.material(f"baskets.{name}.shares.{mat}", mat)
        for name, lane in s.lanes.items():
            self.country(f"lanes.{name}.from", lane.from_country)
            self.country(f"lanes.{name}.to", lane.to_country)
        for section in ("authorities", "grid", "export_controls"):
            for name, ent in getattr(s, section).items():
                self.country(f"{section}.{name}.country", ent.country)
        for name, ctrl in s.export_controls.items():
            for i, mat in enumerate(ctrl.materials):
                self.material(f"export_controls.{name}.materials.{i}", mat)
            for i, code in enumerate(ctrl.exempt_countries):
                self.country(f"export_controls.{name}.exempt_countries.{i}", code)
            for i, other in enumerate(ctrl.supersedes):
                # Superseding a disabled regime is allowed: it has nothing to stop.
                self.need(
                    other in s.export_controls and other != name,
                    f"export_controls.{name}.supersedes.{i}",
                    _unknown("export-control regime", other, set(s.export_controls) - {name}),
                )
        self._facilities()
        self._consumers()
        self._pipelines()
        self._contracts()
        for name, pol in s.policies.trusted_sourcing.items():
            for i, code in enumerate(pol.countries):
                self.country(f"policies.trusted_sourcing.{name}.countries.{i}", code)
            for i, mat in enumerate(pol.materials):
                self.material(f"policies.trusted_sourcing.{name}.materials.{i}", mat)
        return self.issues

    def _facilities(self) -> None:
        s = self.s
        for section, table in s.facility_tables().items():
            for name, ent in table.items():
                self.country(f"{section}.{name}.country", ent.country)
                self.gates(f"{section}.{name}", ent)
        for name, mine in s.mines.items():
            if not mine.enabled:
                continue
            self.material(f"mines.{name}.output", mine.output)
            self.entity(f"mines.{name}.basket", "basket", mine.basket, "baskets")
        for name, plant in s.separation_plants.items():
            if not plant.enabled:
                continue
            path = f"separation_plants.{name}"
            self.material(f"{path}.input", plant.input)
            self.suppliers(f"{path}.suppliers", plant.suppliers, plant.input, plant.country)
            for i, q in enumerate(plant.qualified or []):
                self.need(
                    q in plant.suppliers,
                    f"{path}.qualified.{i}",
                    f"{shown_id(q)} is not one of this plant's suppliers "
                    f"({choices(plant.suppliers, q)})",
                )
        for section in ("metal_plants", "magnet_makers", "fabs"):
            for name, conv in getattr(s, section).items():
                if not conv.enabled:
                    continue
                path = f"{section}.{name}"
                self.material(f"{path}.output", conv.output)
                for mat in conv.recipe:
                    self.material(f"{path}.recipe.{mat}", mat)
                for mat, names in conv.suppliers.items():
                    if mat not in conv.recipe:
                        self.issues.append(
                            (
                                f"{path}.suppliers.{mat}",
                                f"{shown_id(mat)} is not in this recipe"
                                f"{did_you_mean(mat, conv.recipe)} "
                                f"(recipe: {choices(conv.recipe)})",
                            )
                        )
                        continue
                    self.suppliers(f"{path}.suppliers.{mat}", names, mat, conv.country)
        for name, pile in s.stockpiles.items():
            if pile.enabled:
                self.material(f"stockpiles.{name}.material", pile.material)
                for i, code in enumerate(pile.provenance):
                    self.country(f"stockpiles.{name}.provenance.{i}", code)
                if pile.ban_exporter is not None:
                    self.country(f"stockpiles.{name}.ban_exporter", pile.ban_exporter)
                for i, buyer in enumerate(pile.eligible):
                    self.buyer_of(f"stockpiles.{name}.eligible.{i}", buyer, name, pile.material)
                self.suppliers(
                    f"stockpiles.{name}.replenish_from",
                    pile.replenish_from,
                    pile.material,
                    pile.country,
                )

    def buyer_of(
        self, path: str, buyer: str, supplier: str, material: str, supplier_path: str = ""
    ) -> None:
        """``buyer`` must be an enabled buyer of ``material`` that ``supplier`` can reach."""
        buyers = self.buyers
        if buyer not in buyers:
            self.issues.append((path, _unknown("buyer", buyer, buyers)))
            return
        country, wants = buyers[buyer]
        if material not in wants:
            self.issues.append(
                (
                    path,
                    f"buyer {shown_id(buyer)} does not buy {shown_id(material)} "
                    f"(it buys: {choices(sorted(wants))})",
                )
            )
            return
        path = supplier_path or path
        before = len(self.issues)
        self.suppliers(path, [supplier], material, country)
        # suppliers() names list items; here the path is the single field itself
        self.issues[before:] = [(path, msg) for _, msg in self.issues[before:]]

    def _pipelines(self) -> None:
        """A pipeline's magnet and accelerator suppliers, like a data centre's."""
        for name, region in self.s.grid.items():
            pipe = region.datacenter_pipeline
            if not region.enabled or pipe is None:
                continue
            path = f"grid.{name}.datacenter_pipeline"
            self.material(f"{path}.magnet_material", pipe.magnet_material)
            self.material(f"{path}.accelerator_material", pipe.accelerator_material)
            self.suppliers(
                f"{path}.magnet_suppliers",
                pipe.magnet_suppliers,
                pipe.magnet_material,
                region.country,
            )
            self.suppliers(
                f"{path}.accelerator_suppliers",
                pipe.accelerator_suppliers,
                pipe.accelerator_material,
                region.country,
            )

    def _contracts(self) -> None:
        for name, c in self.s.contracts.items():
            if not c.enabled:
                continue
            path = f"contracts.{name}"
            self.material(f"{path}.material", c.material)
            self.buyer_of(f"{path}.buyer", c.buyer, c.supplier, c.material, f"{path}.supplier")
            if c.start is not None and c.end is not None and c.end <= c.start:
                self.issues.append((f"{path}.end", "is not after the contract's start"))

    def _consumers(self) -> None:
        s = self.s
        for name, dem in s.demands.items():
            if not dem.enabled:
                continue
            path = f"demands.{name}"
            self.country(f"{path}.country", dem.country)
            self.material(f"{path}.material", dem.material)
            self.suppliers(f"{path}.suppliers", dem.suppliers, dem.material, dem.country)
        for name, dc in s.datacenters.items():
            if not dc.enabled:
                continue
            path = f"datacenters.{name}"
            self.country(f"{path}.country", dc.country)
            self.gates(path, dc)
            self.material(f"{path}.magnet_material", dc.magnet_material)
            self.material(f"{path}.accelerator_material", dc.accelerator_material)
            self.suppliers(
                f"{path}.magnet_suppliers", dc.magnet_suppliers, dc.magnet_material, dc.country
            )
            self.suppliers(
                f"{path}.accelerator_suppliers",
                dc.accelerator_suppliers,
                dc.accelerator_material,
                dc.country,
            )
            self._phases(path, dc)

    def _phases(self, path: str, dc: Any) -> None:
        seen: dict[str, int] = {}
        for i, ph in enumerate(dc.phases):
            if ph.planned_online is not None and ph.planned_online < ph.start:
                self.issues.append(
                    (f"{path}.phases.{i}.planned_online", "is before the phase's start")
                )
            label = ph.name or f"phase{i + 1}"
            if label in seen:
                self.issues.append(
                    (
                        f"{path}.phases.{i}.name",
                        f"phase name {shown_id(label)} is also phase {seen[label]}'s; "
                        "phase names must be unique within a data center",
                    )
                )
            seen.setdefault(label, i)
            if not self.s.time.allow_phases_outside_run:
                problem = _outside_run(self.s, ph.start)
                if problem:
                    self.issues.append((f"{path}.phases.{i}.start", problem + _ALLOW))


_ALLOW = (
    "; move it inside the run, or set time.allow_phases_outside_run = true "
    "to accept it (a warning then says what happens)"
)


def _outside_run(scenario: Scenario, start: Any) -> str:
    time = scenario.time
    if start < time.start:
        return f"the phase starts on {start}, before the run starts ({time.start})"
    if start >= time.end:
        return f"the phase starts on {start}, when the run has ended ({time.end})"
    return ""


def check_references(scenario: Scenario) -> list[Issue]:
    return _Checker(scenario).run()


def scenario_warnings(scenario: Scenario) -> list[Issue]:
    """What a valid scenario asks for that changes results in a way worth saying."""
    out: list[Issue] = []
    time = scenario.time
    if not time.allow_phases_outside_run:
        return out
    for name, dc in scenario.datacenters.items():
        if not dc.enabled:
            continue
        for i, ph in enumerate(dc.phases):
            where = f"datacenters.{name}.phases.{i}.start"
            if ph.start < time.start:
                out.append(
                    (
                        where,
                        f"starts on {ph.start}, before time.start: it is started on "
                        f"{time.start} with no work done before the run (permits, grid "
                        "request and construction all begin then), and its delay is still "
                        "measured against its planned_online",
                    )
                )
            elif ph.start >= time.end:
                out.append(
                    (
                        where,
                        f"starts on {ph.start}, on or after time.end ({time.end}): it never "
                        "starts and is reported as not online by the horizon",
                    )
                )
    return out
