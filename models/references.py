"""Cross-reference checks: every name a scenario uses must exist and make sense.

Run after the schema has checked shapes. Returns ``(dotted_path, message)``
pairs so the loader can name the file; an empty list means the scenario is
connected (a missing connection is a build-time error, not a silent hang).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from paxsim.models.scenario import Scenario

__all__ = ["check_references", "products_of"]

Issue = tuple[str, str]


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
    for name, maker in scenario.magnet_makers.items():
        if maker.enabled:
            out[name] = {maker.output}
    for name, fab in scenario.fabs.items():
        if fab.enabled:
            out[name] = {fab.output}
    for name, pile in scenario.stockpiles.items():
        if pile.enabled:
            out[name] = {pile.material}
    return out


def _choices(names: Iterable[str]) -> str:
    names = sorted(names)
    if len(names) > 12:
        return ", ".join(names[:12]) + f", ... ({len(names)} in all)"
    return ", ".join(names) if names else "(none defined)"


class _Checker:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.issues: list[Issue] = []
        self.products = products_of(scenario)
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

    def country(self, path: str, code: str) -> None:
        self.need(
            code in self.s.countries,
            path,
            f"unknown country {code!r}; defined countries: {_choices(self.s.countries)}",
        )

    def material(self, path: str, name: str) -> None:
        self.need(
            name in self.s.materials,
            path,
            f"unknown material {name!r}; defined materials: {_choices(self.s.materials)}",
        )

    def suppliers(self, path: str, names: list[str], material: str, buyer_country: str) -> None:
        for i, name in enumerate(names):
            where = f"{path}.{i}"
            if name not in self.products:
                self.issues.append(
                    (where, f"unknown supplier {name!r}; facilities: {_choices(self.products)}")
                )
                continue
            if material not in self.products[name]:
                self.issues.append(
                    (
                        where,
                        f"supplier {name!r} does not produce {material!r} "
                        f"(it makes: {_choices(self.products[name])})",
                    )
                )
                continue
            origin = self.country_of[name]
            if origin != buyer_country and (origin, buyer_country) not in self.lanes:
                self.issues.append(
                    (where, f"no lane from {origin} to {buyer_country} for supplier {name!r}")
                )

    def gates(self, path: str, ent: Any) -> None:
        for i, auth in enumerate(getattr(ent, "permits", [])):
            self.need(
                auth in self.s.authorities,
                f"{path}.permits.{i}",
                f"unknown permitting authority {auth!r}; defined: {_choices(self.s.authorities)}",
            )
        region = getattr(ent, "grid_region", None)
        if region is not None:
            self.need(
                region in self.s.grid,
                f"{path}.grid_region",
                f"unknown grid region {region!r}; defined: {_choices(self.s.grid)}",
            )

    def run(self) -> list[Issue]:
        s = self.s
        self.need(
            s.trust_coalition in s.coalitions,
            "trust_coalition",
            f"unknown coalition {s.trust_coalition!r}; defined: {_choices(s.coalitions)}",
        )
        for cname, coal in s.coalitions.items():
            for i, m in enumerate(coal.members):
                self.country(f"coalitions.{cname}.members.{i}.country", m.country)
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
                self.need(
                    other in s.export_controls and other != name,
                    f"export_controls.{name}.supersedes.{i}",
                    f"unknown export-control regime {other!r}; defined: "
                    f"{_choices(k for k in s.export_controls if k != name)}",
                )
        self._facilities()
        self._consumers()
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
            self.need(
                mine.basket in s.baskets,
                f"mines.{name}.basket",
                f"unknown basket {mine.basket!r}; defined: {_choices(s.baskets)}",
            )
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
                    f"{q!r} is not one of this plant's suppliers ({_choices(plant.suppliers)})",
                )
        for section in ("magnet_makers", "fabs"):
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
                            (f"{path}.suppliers.{mat}", f"{mat!r} is not in this recipe")
                        )
                        continue
                    self.suppliers(f"{path}.suppliers.{mat}", names, mat, conv.country)
        for name, pile in s.stockpiles.items():
            if pile.enabled:
                self.material(f"stockpiles.{name}.material", pile.material)
                for i, code in enumerate(pile.provenance):
                    self.country(f"stockpiles.{name}.provenance.{i}", code)

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
            for i, ph in enumerate(dc.phases):
                if ph.planned_online is not None and ph.planned_online < ph.start:
                    self.issues.append(
                        (f"{path}.phases.{i}.planned_online", "is before the phase's start")
                    )


def check_references(scenario: Scenario) -> list[Issue]:
    return _Checker(scenario).run()
