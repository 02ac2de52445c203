"""The scenario schema: every table a scenario file may hold, validated by pydantic.

Conventions:
- Unknown keys are errors (``extra="forbid"``), so typos never pass silently.
- Durations are in days and say so in the field name; any duration, rate or
  probability may be a bare number or a distribution table
  (``{dist = "lognormal", median = 365, p90 = 730}``).
- Every entity carries ``source``: a citation from calibration.md, or
  ``"assumption: <why>"``. ``sources`` may cite individual fields.
- Every named entity has ``enabled`` so that a scenario extending another can
  switch an inherited entity off.
- Cross-references (suppliers, regions, authorities, materials, countries) are
  checked in :mod:`models.references`, after the shapes are valid.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from paxsim.sim.distributions import Distribution, Fixed, _Dist

__all__ = [
    "DIST_KINDS",
    "Authority",
    "Basket",
    "Coalition",
    "Country",
    "DataCenter",
    "Demand",
    "Dist",
    "ExportControl",
    "Fab",
    "GridRegion",
    "Lane",
    "MagnetMaker",
    "Material",
    "Mine",
    "Phase",
    "PrebuiltUpgrade",
    "Scenario",
    "SeparationPlant",
    "Stockpile",
    "StudyPhase",
]

DIST_KINDS = ("fixed", "uniform", "triangular", "lognormal", "exponential", "empirical")
_DIST_ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


def _parse_distribution(value: Any) -> _Dist:
    """A bare number is a fixed value; a table must name one of ``DIST_KINDS``."""
    if isinstance(value, _Dist):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a distribution table, got {value!r}")
    if isinstance(value, (int, float)):
        return Fixed(value=float(value))
    if not isinstance(value, dict):
        raise ValueError(
            f"expected a number or a distribution table such as "
            f'{{dist = "triangular", min = 1, mode = 2, max = 4}}, got {value!r}'
        )
    kind = value.get("dist")
    if kind not in DIST_KINDS:
        raise ValueError(f"unknown distribution {kind!r}; allowed: {', '.join(DIST_KINDS)}")
    try:
        return _DIST_ADAPTER.validate_python(value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"] if p != kind]
            where = f"'{'.'.join(loc)}': " if loc else ""
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{where}{msg}")
        raise ValueError(f"{kind} distribution: " + "; ".join(problems)) from None


#: A duration, rate or probability: a number or a distribution table.
#: SerializeAsAny: dump the concrete distribution's fields, not the (empty) base's.
Dist = Annotated[SerializeAsAny[_Dist], BeforeValidator(_parse_distribution)]


def _nonnegative(value: _Dist, what: str) -> _Dist:
    if value.lower_bound() < 0:
        raise ValueError(
            f"{what} must not go below 0 (lowest possible value {value.lower_bound()})"
        )
    return value


def _probability(value: _Dist) -> _Dist:
    if value.lower_bound() < 0 or value.upper_bound() > 1:
        raise ValueError(
            "a probability must stay within [0, 1] "
            f"(range given: {value.lower_bound()}..{value.upper_bound()})"
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Entity(Strict):
    """Fields every named entity shares."""

    enabled: bool = True
    source: str = Field(min_length=3, description="citation, or 'assumption: <why>'")
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str = ""


# --------------------------------------------------------------------------- time and places
class TimeSettings(Strict):
    start: dt.date
    end: dt.date
    step_days: float = Field(7.0, gt=0, le=92)
    sample_every_days: float = Field(30.0, gt=0)
    warm_start: bool = Field(
        True, description="input stocks start full (cover_days of use) instead of empty"
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeSettings:
        if self.end <= self.start:
            raise ValueError(f"time.end ({self.end}) must be after time.start ({self.start})")
        return self

    @property
    def horizon_days(self) -> float:
        return float((self.end - self.start).days)


class Country(Strict):
    name: str
    source: str = ""


class Membership(Strict):
    country: str
    joined: dt.date
    left: dt.date | None = None
    source: str = Field(min_length=3)


class Coalition(Entity):
    name: str
    members: list[Membership] = Field(default_factory=list)


class Material(Strict):
    unit: Literal["t", "units", "t REO"]
    description: str = ""


class Basket(Entity):
    """Shares of a concentrate's REO content that end up in each oxide material."""

    shares: dict[str, float]

    @field_validator("shares")
    @classmethod
    def _shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in shares.values()):
            raise ValueError("basket shares must be >= 0")
        if sum(shares.values()) > 1.0 + 1e-9:
            raise ValueError(f"basket shares sum to {sum(shares.values()):.4f}, more than 1")
        return shares


class Lane(Entity):
    """Transit between two countries (both directions unless ``one_way``)."""

    from_country: str = Field(alias="from")
    to_country: str = Field(alias="to")
    transit_days: Dist
    one_way: bool = False

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("transit_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "transit_days")


# --------------------------------------------------------------------------- gates
class Authority(Entity):
    """A permitting office: reviewers in parallel, a review time, background load."""

    country: str
    reviewers: int = Field(ge=1)
    review_days: Dist
    review_days_by_kind: dict[str, Dist] = Field(default_factory=dict)
    background_per_year: float = Field(0.0, ge=0)
    background_mix: dict[str, float] = Field(default_factory=lambda: {"other": 1.0})
    litigation_probability: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    litigation_days: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    litigation_outcome: Literal["delay", "requeue"] = "delay"
    shot_clock_days: float | None = Field(None, gt=0)

    @field_validator("review_days", "litigation_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "duration")

    @field_validator("review_days_by_kind")
    @classmethod
    def _nonneg_kinds(cls, v: dict[str, _Dist]) -> dict[str, _Dist]:
        for kind, d in v.items():
            _nonnegative(d, f"review_days_by_kind.{kind}")
        return v

    @field_validator("litigation_probability")
    @classmethod
    def _prob(cls, v: _Dist) -> _Dist:
        return _probability(v)

    @field_validator("background_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("background_mix needs non-negative weights with a positive sum")
        return v


class TransformerSupply(Strict):
    """Transformers for network upgrades come from a finite pool of factory slots."""

    factory_slots: int = Field(ge=1)
    build_days: Dist
    background_per_year: float = Field(0.0, ge=0)
    source: str = Field(min_length=3)

    @field_validator("build_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "build_days")


class StudyPhase(Strict):
    """One phase of an interconnection study (cluster study, restudy, facilities study)."""

    name: str
    days: Dist
    withdrawal_probability: Dist = Field(default_factory=lambda: Fixed(value=0.0))

    @field_validator("days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "days")

    @field_validator("withdrawal_probability")
    @classmethod
    def _prob(cls, v: _Dist) -> _Dist:
        return _probability(v)


class PrebuiltUpgrade(Strict):
    """Transmission built ahead of need: ``mw`` of headroom ready on ``ready``."""

    ready: dt.date
    mw: float = Field(gt=0)
    source: str = Field(min_length=3)


class GridRegion(Entity):
    """An interconnection queue: cluster windows, study phases, spare MW, upgrades.

    ``study_days`` is shorthand for a single study phase; give ``study_phases``
    for a multi-phase process (not both).
    """

    country: str
    spare_mw: float = Field(ge=0)
    study_teams: int = Field(ge=1)
    study_days: Dist | None = None
    study_phases: list[StudyPhase] = Field(default_factory=list)
    cluster_cycle_days: float = Field(0.0, ge=0)
    first_window_days: float = Field(0.0, ge=0)
    restudy_days: Dist | None = None
    queue_order: Literal["first_come", "first_ready"] = "first_come"
    readiness_days: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    first_ready_withdrawal_factor: float = Field(0.3, ge=0, le=1)
    parallel_studies: bool = False
    connection_days: Dist
    upgrade_days: Dist
    upgrade_mw: float = Field(gt=0)
    transformers_per_upgrade: int = Field(1, ge=0)
    flexible_connection_share: float = Field(0.0, ge=0, le=1)
    prebuilt_upgrades: list[PrebuiltUpgrade] = Field(default_factory=list)
    reserved_mw: float = Field(0.0, ge=0)
    initial_backlog: int = Field(0, ge=0, description="background requests queued at the start")
    background_load_per_year: float = Field(0.0, ge=0)
    background_load_mw: Dist = Field(default_factory=lambda: Fixed(value=100.0))
    background_generation_per_year: float = Field(0.0, ge=0)
    background_generation_mw: Dist = Field(default_factory=lambda: Fixed(value=100.0))
    background_withdrawal_probability: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    generation_build_days: Dist = Field(default_factory=lambda: Fixed(value=730.0))
    generation_post_study_withdrawal: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    withdrawal_probability: Dist = Field(default_factory=lambda: Fixed(value=0.0))

    @field_validator(
        "study_days",
        "connection_days",
        "upgrade_days",
        "background_load_mw",
        "background_generation_mw",
        "restudy_days",
        "readiness_days",
        "generation_build_days",
    )
    @classmethod
    def _nonneg(cls, v: _Dist | None) -> _Dist | None:
        return None if v is None else _nonnegative(v, "value")

    @field_validator(
        "background_withdrawal_probability",
        "withdrawal_probability",
        "generation_post_study_withdrawal",
    )
    @classmethod
    def _prob(cls, v: _Dist) -> _Dist:
        return _probability(v)

    @model_validator(mode="after")
    def _one_study_form(self) -> GridRegion:
        if (self.study_days is None) == (not self.study_phases):
            raise ValueError("give exactly one of study_days (one phase) or study_phases")
        return self

    def phases(self) -> list[StudyPhase]:
        """The study phases; ``study_days`` becomes one phase named 'study'."""
        if self.study_phases:
            return self.study_phases
        assert self.study_days is not None
        return [StudyPhase(name="study", days=self.study_days)]


class ExportControl(Entity):
    """A licensing regime on lots leaving ``country``: licence, ban, or quota."""

    country: str
    materials: list[str] = Field(min_length=1)
    start: dt.date
    end: dt.date | None = None
    mode: Literal["licence", "ban", "quota"] = "licence"
    quota_per_year: float | None = Field(None, ge=0)
    reviewers: int = Field(1, ge=1)
    review_days: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    denial_probability: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    background_per_year: float = Field(0.0, ge=0)
    exempt_countries: list[str] = Field(default_factory=list)
    supersedes: list[str] = Field(
        default_factory=list, description="regimes that stop applying while this one is in force"
    )

    @field_validator("review_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "review_days")

    @field_validator("denial_probability")
    @classmethod
    def _prob(cls, v: _Dist) -> _Dist:
        return _probability(v)

    @model_validator(mode="after")
    def _ordered(self) -> ExportControl:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if (self.mode == "quota") != (self.quota_per_year is not None):
            raise ValueError("quota_per_year is needed with mode = 'quota', and only then")
        return self


# --------------------------------------------------------------------------- facilities
class Outages(Strict):
    """Random disruptions: time between them and how long each lasts."""

    every_days: Dist
    duration_days: Dist
    capacity_lost: float = Field(1.0, gt=0, le=1)

    @field_validator("every_days", "duration_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "value")


class CapacityChange(Strict):
    date: dt.date
    capacity: float = Field(ge=0)
    source: str = Field(min_length=3)


class Facility(Entity):
    """What every producing facility shares."""

    country: str
    status: Literal["operating", "planned"] = "operating"
    project_start: dt.date | None = None
    permits: list[str] = Field(default_factory=list)
    construction_days: Dist | None = None
    grid_region: str | None = None
    grid_mw: float = Field(0.0, ge=0)
    ramp_days: float = Field(0.0, ge=0)
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    outages: Outages | None = None
    cover_days: float = Field(60.0, gt=0, description="input stock target, days of use")
    reorder_days: float = Field(30.0, ge=0, description="reorder when cover falls below")
    trusted_only_from: dt.date | None = None

    @model_validator(mode="after")
    def _planned_needs_build(self) -> Facility:
        if self.status == "planned":
            missing = [
                name
                for name in ("project_start", "construction_days")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    f"a planned facility needs {' and '.join(missing)} "
                    "(when its project starts and how long it takes to build)"
                )
        if self.grid_mw > 0 and self.grid_region is None:
            raise ValueError("grid_mw is set but grid_region is not")
        if self.reorder_days > self.cover_days:
            raise ValueError(
                f"reorder_days ({self.reorder_days}) must not exceed cover_days ({self.cover_days})"
            )
        if self.construction_days is not None:
            _nonnegative(self.construction_days, "construction_days")
        return self


class Mine(Facility):
    capacity_t_per_year: float = Field(ge=0)
    basket: str
    output: str = "concentrate"


class SeparationPlant(Facility):
    """Feed capacity in t REO of concentrate per year; outputs follow basket x yield."""

    capacity_t_per_year: float = Field(ge=0)
    recovery_yield: float = Field(gt=0, le=1)
    heavy_capable: bool = False
    heavy_from: dt.date | None = None
    input: str = "concentrate"
    suppliers: list[str] = Field(min_length=1)
    qualified: list[str] | None = None
    qualification_days: Dist = Field(default_factory=lambda: Fixed(value=180.0))
    heavy_materials: list[str] = Field(default_factory=lambda: ["dy_oxide", "tb_oxide"])

    @field_validator("qualification_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "qualification_days")


class Converter(Facility):
    """Turns inputs into one output by a recipe (inputs per unit of output)."""

    output: str
    recipe: dict[str, float] = Field(min_length=1)
    suppliers: dict[str, list[str]]

    @field_validator("recipe")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: q for k, q in v.items() if q <= 0}
        if bad:
            raise ValueError(f"recipe quantities must be > 0, got {bad}")
        return v

    @model_validator(mode="after")
    def _every_input_has_suppliers(self) -> Converter:
        missing = [m for m in self.recipe if not self.suppliers.get(m)]
        if missing:
            raise ValueError(f"no suppliers given for recipe input(s): {', '.join(missing)}")
        return self


class MagnetMaker(Converter):
    capacity_t_per_year: float = Field(ge=0)
    output: str = "ndfeb_magnet"


class Fab(Converter):
    """Accelerator output = wafer starts x AI share x good dies per wafer."""

    wafer_starts_per_month: float = Field(ge=0)
    ai_wafer_share: float = Field(gt=0, le=1)
    good_dies_per_wafer: float = Field(gt=0)
    output: str = "accelerator"

    @property
    def capacity_units_per_year(self) -> float:
        return self.wafer_starts_per_month * 12 * self.ai_wafer_share * self.good_dies_per_wafer


class Demand(Entity):
    """The rest of the economy: buys a material at a rate from suppliers in order."""

    country: str
    material: str
    rate_per_year: float = Field(ge=0)
    growth_per_year: float = Field(0.0, ge=-0.5, le=1.0)
    suppliers: list[str] = Field(min_length=1)
    cover_days: float = Field(30.0, gt=0)
    reorder_days: float = Field(15.0, ge=0)
    trusted_only_from: dt.date | None = None


class Stockpile(Entity):
    """A reserve that holds material and can be released from a date."""

    country: str
    material: str
    initial: float = Field(ge=0)
    release_from: dt.date
    provenance: list[str] = Field(default_factory=list)


class Phase(Strict):
    it_mw: float = Field(gt=0)
    start: dt.date
    planned_online: dt.date | None = None
    name: str | None = None


class DataCenter(Entity):
    """A data-center project of phases, each gated by permits, grid, build and supply."""

    country: str
    grid_region: str
    permits: list[str] = Field(default_factory=list)
    permit_mode: Literal["sequence", "parallel"] = "sequence"
    permit_per_phase: bool = False
    pue: float = Field(1.3, ge=1.0, le=3.0)
    construction_days: Dist
    equipment_lead_days: Dist
    accelerator_install_days: Dist = Field(default_factory=lambda: Fixed(value=30.0))
    magnet_t_per_mw: float = Field(ge=0)
    accelerators_per_mw: float = Field(ge=0)
    magnet_material: str = "ndfeb_magnet"
    accelerator_material: str = "accelerator"
    magnet_suppliers: list[str] = Field(default_factory=list)
    accelerator_suppliers: list[str] = Field(default_factory=list)
    trusted_only_from: dt.date | None = None
    colocated_generation_share: float = Field(0.0, ge=0, le=1)
    colocated_build_days: Dist = Field(default_factory=lambda: Fixed(value=0.0))
    designated_site: bool = False
    phases: list[Phase] = Field(min_length=1)

    @field_validator(
        "construction_days",
        "equipment_lead_days",
        "accelerator_install_days",
        "colocated_build_days",
    )
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "duration")

    @model_validator(mode="after")
    def _suppliers_when_needed(self) -> DataCenter:
        if self.magnet_t_per_mw > 0 and not self.magnet_suppliers:
            raise ValueError("magnet_t_per_mw > 0 needs magnet_suppliers")
        if self.accelerators_per_mw > 0 and not self.accelerator_suppliers:
            raise ValueError("accelerators_per_mw > 0 needs accelerator_suppliers")
        return self


# --------------------------------------------------------------------------- policies
class TrustedSourcing(Entity):
    """From ``start``, buyers in ``countries`` accept only trusted-origin lots of ``materials``."""

    countries: list[str] = Field(min_length=1)
    materials: list[str] = Field(min_length=1)
    start: dt.date
    audit_days: Dist = Field(default_factory=lambda: Fixed(value=0.0))

    @field_validator("audit_days")
    @classmethod
    def _nonneg(cls, v: _Dist) -> _Dist:
        return _nonnegative(v, "audit_days")


class Policies(Strict):
    trusted_sourcing: dict[str, TrustedSourcing] = Field(default_factory=dict)


# --------------------------------------------------------------------------- the scenario
class Scenario(Strict):
    name: str
    description: str = ""
    extends: str | None = None
    time: TimeSettings
    trust_coalition: str
    countries: dict[str, Country]
    coalitions: dict[str, Coalition] = Field(default_factory=dict)
    materials: dict[str, Material]
    baskets: dict[str, Basket] = Field(default_factory=dict)
    lanes: dict[str, Lane] = Field(default_factory=dict)
    domestic_transit_days: Dist = Field(default_factory=lambda: Fixed(value=7.0))
    authorities: dict[str, Authority] = Field(default_factory=dict)
    grid: dict[str, GridRegion] = Field(default_factory=dict)
    transformers: TransformerSupply | None = None
    export_controls: dict[str, ExportControl] = Field(default_factory=dict)
    mines: dict[str, Mine] = Field(default_factory=dict)
    separation_plants: dict[str, SeparationPlant] = Field(default_factory=dict)
    magnet_makers: dict[str, MagnetMaker] = Field(default_factory=dict)
    fabs: dict[str, Fab] = Field(default_factory=dict)
    stockpiles: dict[str, Stockpile] = Field(default_factory=dict)
    demands: dict[str, Demand] = Field(default_factory=dict)
    datacenters: dict[str, DataCenter] = Field(default_factory=dict)
    policies: Policies = Field(default_factory=Policies)

    def facility_tables(self) -> dict[str, dict[str, Any]]:
        """Supplier-capable tables by section name (enabled entities only)."""
        tables: dict[str, dict[str, Any]] = {
            "mines": self.mines,
            "separation_plants": self.separation_plants,
            "magnet_makers": self.magnet_makers,
            "fabs": self.fabs,
            "stockpiles": self.stockpiles,
        }
        return {sec: {k: v for k, v in t.items() if v.enabled} for sec, t in tables.items()}
