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
- Every number has a type per unit (``Days``, ``Share``, ``Megawatts``,
  ``AmountPerYear``, ``PerYearRate``, ``Count``, ``DaysDist``...): finite, never
  a boolean or text, whole where it counts, inside a physical range, and below
  the limits of :mod:`models.limits` (whose messages give the limit and why).
  Dates are ``Date`` (1900-2200), ids ``Id`` (printable, bounded).
- Cross-references (suppliers, regions, authorities, materials, countries) are
  checked in :mod:`models.references`, after the shapes are valid.
- Messages print ids with :func:`shown_id` (escaped when they could deceive)
  and suggest names with :func:`did_you_mean` and :func:`choices`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
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
from pydantic import Strict as StrictType

from paxsim.models import limits
from paxsim.models.limits import Limit
from paxsim.sim.distributions import Distribution, Empirical, Exponential, Fixed, LogNormal, _Dist

__all__ = [
    "DIST_KINDS",
    "Authority",
    "Basket",
    "Coalition",
    "CommittedLoad",
    "Contract",
    "Country",
    "DataCenter",
    "DataCenterPipeline",
    "DataCenterStock",
    "Demand",
    "DemandStep",
    "Dist",
    "ExportControl",
    "Fab",
    "GridRegion",
    "Lane",
    "MagnetMaker",
    "Material",
    "MetalPlant",
    "Mine",
    "Phase",
    "PrebuiltUpgrade",
    "Scenario",
    "SeparationPlant",
    "Stockpile",
    "StudyPhase",
    "char_name",
    "choices",
    "closest",
    "did_you_mean",
    "shown_id",
    "shown_value",
]

DIST_KINDS = ("fixed", "uniform", "triangular", "lognormal", "exponential", "empirical")
_DIST_ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


# --------------------------------------------------------------------------- how values are shown
def shown_id(text: str) -> str:
    """An id or name as messages print it: quoted, and escaped if it could deceive.

    Non-printing characters (terminal escapes, right-to-left marks) and non-ASCII
    look-alikes (a Cyrillic 'а' in 'pаx_silica') are shown as escapes, with the
    first odd character named, so the reader sees what the file really holds.
    """
    if text.isascii() and text.isprintable():
        return repr(text)
    odd = next(c for c in text if not (c.isascii() and c.isprintable()))
    return f"{text!a} (holds {char_name(odd)})"


def char_name(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE', or 'U+001B, a control character'."""
    import unicodedata

    name = unicodedata.name(char, "")
    if name:
        return f"U+{ord(char):04X} {name}"
    kind = "a control character" if unicodedata.category(char) == "Cc" else "an unnamed character"
    return f"U+{ord(char):04X}, {kind}"


def shown_value(value: Any, limit: int = 80) -> str:
    """A value a user gave, for a message: repr, escaped to ASCII, cut at ``limit``."""
    text = ascii(value) if isinstance(value, str) else repr(value)
    if not text.isascii() or not text.isprintable():
        text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def closest(given: str, names: Any, n: int = 3) -> list[str]:
    """The names most like ``given`` (difflib), best first."""
    pool = [str(x) for x in names]
    found = difflib.get_close_matches(given, pool, n=n, cutoff=0.6)
    if not found:
        lowered = {p.lower(): p for p in pool}
        found = [lowered[m] for m in difflib.get_close_matches(given.lower(), lowered, n=n)]
    return found


def did_you_mean(given: str, names: Any) -> str:
    """'; did you mean 'x'?' when a close name exists, else ''."""
    found = closest(given, names, n=1)
    return f"; did you mean {shown_id(found[0])}?" if found else ""


def choices(names: Any, given: str | None = None, *, full: bool = False) -> str:
    """The full list of names, or (when long) a count and the closest to ``given``."""
    pool = sorted(str(x) for x in names)
    if not pool:
        return "(none defined)"
    if full or len(pool) <= limits.MAX_LISTED:
        return ", ".join(shown_id(x) if not x.isascii() else x for x in pool)
    near = closest(given, pool, n=5) if given is not None else []
    if not near:
        return f"{len(pool)} defined, e.g. {', '.join(pool[:5])}"
    return f"{len(pool)} defined; closest: {', '.join(near)}"


# --------------------------------------------------------------------------- numbers
def _finite(value: int | float) -> float:
    """``value`` as a finite float, or a message saying why it is not one."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{shown_value(value, 40)} is too large to be a number here") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {number}")
    return number


def _a_number(value: Any) -> Any:
    """Refuse booleans, text and NaN/inf where a number is meant, before pydantic's checks."""
    if isinstance(value, bool):
        raise ValueError(
            f"not a valid number: got {str(value).lower()} (a boolean is not a number)"
        )
    if isinstance(value, str):
        raise ValueError(f"not a valid number: got the text {shown_value(value)}{_unquote(value)}")
    if isinstance(value, (int, float)):
        _finite(value)
    return value


def _a_count(value: Any) -> Any:
    """Refuse booleans, text and fractions where a whole number (a count) is meant."""
    if isinstance(value, bool):
        raise ValueError(
            f"not a valid integer: expected a whole number, got {str(value).lower()} "
            "(a boolean is not a number)"
        )
    if isinstance(value, str):
        raise ValueError(
            f"not a valid integer: expected a whole number, got the text {shown_value(value)}"
            + _unquote(value)
        )
    if isinstance(value, float):
        raise ValueError(f"not a valid integer: expected a whole number (a count), got {value:g}")
    return value


def _unquote(text: str) -> str:
    try:
        float(text)
    except ValueError:
        return ""
    return " (remove the quotes)"


def _number_text(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _at_most(limit: Limit) -> AfterValidator:
    def check(value: float) -> float:
        if value > limit.number:
            raise ValueError(limit.refuse(_number_text(value)))
        return value

    return AfterValidator(check)


def _at_least(limit: Limit) -> AfterValidator:
    def check(value: float) -> float:
        if value < limit.number:
            raise ValueError(limit.refuse(_number_text(value), above=False))
        return value

    return AfterValidator(check)


def _zero_or_at_least(limit: Limit) -> AfterValidator:
    def check(value: float) -> float:
        if 0 < value < limit.number:
            raise ValueError(limit.refuse(f"{value:g}", above=False) + "; 0 means none")
        return value

    return AfterValidator(check)


_NUM = BeforeValidator(_a_number)
_INT = BeforeValidator(_a_count)

# Every number a scenario holds is one of these: finite, never a boolean or text, in range.
#: A duration in days (0 allowed).
Days = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_DURATION_DAYS)
]
#: A duration in days that must be positive.
PositiveDays = Annotated[
    float, _NUM, StrictType(), Field(gt=0, allow_inf_nan=False), _at_most(limits.MAX_DURATION_DAYS)
]
#: Days between repeated events (a tick, a sample).
IntervalDays = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(gt=0, allow_inf_nan=False),
    _at_least(limits.MIN_INTERVAL_DAYS),
    _at_most(limits.MAX_DURATION_DAYS),
]
#: Days between cluster windows; 0 means no windows.
CycleDays = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(ge=0, allow_inf_nan=False),
    _zero_or_at_least(limits.MIN_INTERVAL_DAYS),
    _at_most(limits.MAX_DURATION_DAYS),
]
#: A fraction in [0, 1].
Share = Annotated[float, _NUM, StrictType(), Field(ge=0, le=1, allow_inf_nan=False)]
#: Grid headroom in MW.
Megawatts = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_GRID_MW)
]
PositiveMegawatts = Annotated[
    float, _NUM, StrictType(), Field(gt=0, allow_inf_nan=False), _at_most(limits.MAX_GRID_MW)
]
UpgradeMegawatts = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(gt=0, allow_inf_nan=False),
    _at_least(limits.MIN_UPGRADE_MW),
    _at_most(limits.MAX_GRID_MW),
]
#: One connection request in MW.
RequestMegawatts = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_REQUEST_MW)
]
PhaseMegawatts = Annotated[
    float, _NUM, StrictType(), Field(gt=0, allow_inf_nan=False), _at_most(limits.MAX_REQUEST_MW)
]
#: A flow in tonnes (or units, for accelerators) per year.
AmountPerYear = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(ge=0, allow_inf_nan=False),
    _at_most(limits.MAX_AMOUNT_PER_YEAR),
]
#: A stock in tonnes (or units).
Amount = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_AMOUNT)
]
#: Background arrivals per year at a gate.
PerYearRate = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(ge=0, allow_inf_nan=False),
    _at_most(limits.MAX_BACKGROUND_PER_YEAR),
]
#: Money per kW of capacity: a network upgrade's cost, a developer's tolerance.
UsdPerKw = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_USD_PER_KW)
]
#: Data-centre demand: GW (or TWh) per year.
GigawattsPerYear = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_GW_PER_YEAR)
]
#: Average load over connected capacity (never 0: energy would be undefined).
Utilisation = Annotated[float, _NUM, StrictType(), Field(gt=0, le=1, allow_inf_nan=False)]
#: Magnets in the equipment of one IT MW of data centre, in t.
MagnetTonnesPerMw = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(ge=0, allow_inf_nan=False),
    _at_most(limits.MAX_MAGNET_T_PER_MW),
]
#: Accelerators per IT MW of data centre.
AcceleratorsPerMw = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(ge=0, allow_inf_nan=False),
    _at_most(limits.MAX_ACCELERATORS_PER_MW),
]
#: A buyer's priority under shortage: tier 1 is served first, 9 last.
SupplyTier = Annotated[int, _INT, StrictType(), Field(ge=1, le=9)]
#: Servers: reviewers, study teams, factory slots (a whole number, at least 1).
Count = Annotated[int, _INT, StrictType(), Field(ge=1), _at_most(limits.MAX_COUNT)]
Backlog = Annotated[int, _INT, StrictType(), Field(ge=0), _at_most(limits.MAX_INITIAL_BACKLOG)]
TransformerCount = Annotated[
    int, _INT, StrictType(), Field(ge=0), _at_most(limits.MAX_TRANSFORMERS_PER_UPGRADE)
]
RecipeQuantity = Annotated[
    float,
    _NUM,
    StrictType(),
    Field(gt=0, allow_inf_nan=False),
    _at_most(limits.MAX_RECIPE_PER_UNIT),
]
Weight = Annotated[
    float, _NUM, StrictType(), Field(ge=0, allow_inf_nan=False), _at_most(limits.MAX_WEIGHT)
]


# --------------------------------------------------------------------------- dates
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> dt.date:
    """A TOML date (or ISO text) inside the stated range; anything else says how to write one."""
    how = "write a date as 2035-01-01 (year-month-day, no quotes)"
    if isinstance(value, dt.datetime):
        raise ValueError(f"not a valid date: {value.isoformat()} has a time of day; {how}")
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a valid date: {value} is not a day of the calendar") from None
    if not isinstance(value, dt.date):
        raise ValueError(f"not a valid date: {how}, got {shown_value(value)}")
    first, last = limits.EARLIEST_DATE, limits.LATEST_DATE
    if value < first.date:
        raise ValueError(
            f"{value.isoformat()} is before the earliest date paxsim accepts, "
            f"{first.shown()}: {first.why}"
        )
    if value > last.date:
        raise ValueError(
            f"{value.isoformat()} is after the latest date paxsim accepts, "
            f"{last.shown()}: {last.why}"
        )
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]


# --------------------------------------------------------------------------- ids and names
def _printable(text: str, what: str, limit: Limit) -> str:
    if not text:
        raise ValueError(f"{what} must not be empty")
    if not text.isprintable():
        odd = next(c for c in text if not c.isprintable())
        raise ValueError(
            f"{what} {text!a} holds a non-printing character ({char_name(odd)}); "
            "use printable characters only"
        )
    if len(text) > limit.number:
        raise ValueError(limit.refuse(f"a {what} of {len(text):,} characters"))
    return text


def _id(text: str) -> str:
    return _printable(text, "id", limits.MAX_ID_CHARS)


#: The key of an entity table (``grid.<id>``): printable, bounded, unique across sections.
Id = Annotated[str, AfterValidator(_id)]


# --------------------------------------------------------------------------- distributions
def _check_parameter(kind: str, key: str, value: Any) -> None:
    """Distribution parameters are numbers (or lists of numbers): never booleans or text."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, (bool, str)):
            got = shown_value(item) if isinstance(item, str) else str(item).lower()
            raise ValueError(
                f"{kind} distribution: '{key}' must be a number, got {got}"
                + (_unquote(item) if isinstance(item, str) else " (a boolean)")
            )
        if isinstance(item, (int, float)):
            try:
                _finite(item)
            except ValueError as exc:
                raise ValueError(f"{kind} distribution: '{key}' {exc}") from None


def _parse_distribution(value: Any) -> _Dist:
    """A bare number is a fixed value; a table must name one of ``DIST_KINDS``."""
    if isinstance(value, _Dist):
        return value
    if isinstance(value, bool):
        raise ValueError(
            f"expected a number or a distribution table, got {str(value).lower()} "
            "(a boolean is not a number)"
        )
    if isinstance(value, (int, float)):
        return Fixed(value=_finite(value))
    if not isinstance(value, dict):
        raise ValueError(
            f"expected a number or a distribution table such as "
            f'{{dist = "triangular", min = 1, mode = 2, max = 4}}, got {shown_value(value)}'
            + (_unquote(value) if isinstance(value, str) else "")
        )
    kind = value.get("dist")
    if kind not in DIST_KINDS:
        hint = did_you_mean(kind, DIST_KINDS) if isinstance(kind, str) else ""
        raise ValueError(
            f"unknown distribution {shown_value(kind)}{hint}; allowed: {', '.join(DIST_KINDS)}"
        )
    for key, param in value.items():
        if key != "dist":
            _check_parameter(kind, str(key), param)
    try:
        dist = _DIST_ADAPTER.validate_python(value)
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
    if isinstance(dist, LogNormal):
        spread = dist.p90 / dist.median_value
        if spread > limits.MAX_LOGNORMAL_SPREAD.number:
            raise ValueError(
                limits.MAX_LOGNORMAL_SPREAD.refuse(f"lognormal p90 / median = {spread:g}")
            )
    return dist


#: A duration, rate or probability: a number or a distribution table.
#: SerializeAsAny: dump the concrete distribution's fields, not the (empty) base's.
Dist = Annotated[SerializeAsAny[_Dist], BeforeValidator(_parse_distribution)]


def _scale(value: _Dist) -> tuple[float, str]:
    """How large draws get: the upper bound, else the p90 (lognormal) or mean (exponential)."""
    upper = value.upper_bound()
    if math.isfinite(upper):
        return upper, "largest possible value"
    if isinstance(value, LogNormal):
        return value.p90, "p90"
    if isinstance(value, Exponential):
        return value.mean_value, "mean"
    return value.mean(), "mean"


def _nonnegative(value: _Dist, what: str) -> _Dist:
    if value.lower_bound() < 0:
        raise ValueError(
            f"{what} must not go below 0 (lowest possible value {value.lower_bound():g})"
        )
    return value


def _ranged(what: str, limit: Limit) -> Callable[[_Dist], _Dist]:
    """A check that draws are >= 0 and that their scale stays within ``limit``."""

    def check(value: _Dist) -> _Dist:
        _nonnegative(value, what)
        scale, which = _scale(value)
        if scale > limit.number:
            raise ValueError(limit.refuse(f"its {which}, {scale:g},"))
        return value

    return check


def _probability(value: _Dist) -> _Dist:
    if value.lower_bound() < 0 or value.upper_bound() > 1:
        raise ValueError(
            "a probability must stay within [0, 1] "
            f"(range given: {value.lower_bound():g}..{value.upper_bound():g})"
        )
    return value


_duration = _ranged("a duration", limits.MAX_DURATION_DAYS)


def _interval(value: _Dist) -> _Dist:
    """Days between repeated events: never 0, with a mean of at least a day."""
    _duration(value)
    zero_mass = (isinstance(value, Fixed) and value.value == 0) or (
        isinstance(value, Empirical)
        and any(s == 0 and p > 0 for s, p in zip(value.samples, value._probs(), strict=True))
    )
    if zero_mass:
        raise ValueError("an interval must never be 0 days (the event would repeat forever)")
    if value.mean() < limits.MIN_INTERVAL_DAYS.number:
        raise ValueError(
            limits.MIN_INTERVAL_DAYS.refuse(
                f"a mean interval of {value.mean():g} days", above=False
            )
        )
    return value


#: A duration in days: never below 0, scale at most a century.
DaysDist = Annotated[Dist, AfterValidator(_duration)]
#: Days between repeated events (outages).
IntervalDist = Annotated[Dist, AfterValidator(_interval)]
#: A probability: every draw in [0, 1].
ProbabilityDist = Annotated[Dist, AfterValidator(_probability)]
#: The size of one background grid request in MW.
RequestMegawattsDist = Annotated[
    Dist, AfterValidator(_ranged("a request size", limits.MAX_REQUEST_MW))
]


#: A developer's cost tolerance in USD per kW (one draw per request).
CostDist = Annotated[Dist, AfterValidator(_ranged("a cost per kW", limits.MAX_USD_PER_KW))]

#: A yes/no switch: ``true`` or ``false``, never 1 or "yes".
Flag = Annotated[bool, StrictType()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Entity(Strict):
    """Fields every named entity shares."""

    enabled: Flag = True
    source: str = Field(min_length=3, description="citation, or 'assumption: <why>'")
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str = ""


# --------------------------------------------------------------------------- time and places
class TimeSettings(Strict):
    start: Date
    end: Date
    step_days: Annotated[IntervalDays, Field(le=92)] = 7.0
    sample_every_days: IntervalDays = 30.0
    warm_start: Flag = Field(
        True, description="input stocks start full (cover_days of use) instead of empty"
    )
    allow_phases_outside_run: Flag = Field(
        False,
        description="accept data-center phases that start before time.start (they are "
        "started on time.start with nothing done before) or on/after time.end (they never "
        "start); each is reported as a warning",
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeSettings:
        if self.end <= self.start:
            raise ValueError(f"time.end ({self.end}) must be after time.start ({self.start})")
        horizon = limits.MAX_HORIZON_YEARS
        years = (self.end - self.start).days / 365.25
        if years > horizon.number:
            raise ValueError(horizon.refuse(f"a horizon of {years:.1f} years"))
        return self

    @property
    def horizon_days(self) -> float:
        return float((self.end - self.start).days)


class DataCenterStock(Strict):
    """A country's data-centre load already online at the start, outside the modelled pipelines.

    ``gw`` is facility load at the meter (connected capacity, IT x PUE);
    energy is ``gw x utilisation x 8.76`` TWh a year.
    """

    gw: GigawattsPerYear
    utilisation: Utilisation
    source: str = Field(min_length=3)


class Country(Strict):
    name: str
    source: str = ""
    datacenter_stock: DataCenterStock | None = None


class Membership(Strict):
    country: str
    joined: Date
    left: Date | None = None
    source: str = Field(min_length=3)


class Coalition(Entity):
    """Countries by tier, with dates: ``members`` sign the coalition's declaration;
    ``partners`` take part without signing; ``of_concern`` are countries of concern.
    Every other country is neutral."""

    name: str
    members: list[Membership] = Field(default_factory=list)
    partners: list[Membership] = Field(default_factory=list)
    of_concern: list[Membership] = Field(default_factory=list)


#: A country's standing towards the trust coalition on a given day.
TrustTier = Literal["signatory", "partner", "neutral", "concern"]


def _signatories_only() -> list[Literal["signatory", "partner", "neutral"]]:
    return ["signatory"]


class RulesOfOrigin(Strict):
    """How a lot's origin, and so its trust, is decided.

    Origin follows *substantial transformation*: every processing stage (mine,
    separation, magnet making, fab) is a qualifying stage in its country, and a
    lot carries the stages of its inputs, except inputs below
    ``de_minimis_mass_share`` of the output's mass, which count as touched but
    confer no origin. A lot is trusted on a day when every stage it carries is
    in a country of one of ``trusted_tiers`` that day and no facility on that
    path is a foreign entity of concern.
    """

    de_minimis_mass_share: Share = 0.0
    trusted_tiers: list[Literal["signatory", "partner", "neutral"]] = Field(
        default_factory=_signatories_only, min_length=1
    )
    source: str = Field("assumption: every input confers origin; signatories only", min_length=3)


class Material(Strict):
    unit: Literal["t", "units", "t REO"]
    description: str = ""
    unit_mass_t: Annotated[float, _NUM, StrictType(), Field(gt=0, allow_inf_nan=False)] | None = (
        Field(None, description="mass of one unit, in t, for materials counted in units")
    )


class Basket(Entity):
    """Shares of a concentrate's REO content that end up in each oxide material."""

    shares: dict[str, Share]

    @field_validator("shares")
    @classmethod
    def _shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if sum(shares.values()) > 1.0 + 1e-9:
            raise ValueError(f"basket shares sum to {sum(shares.values()):.4f}, more than 1")
        return shares


class Lane(Entity):
    """Transit between two countries (both directions unless ``one_way``)."""

    from_country: str = Field(alias="from")
    to_country: str = Field(alias="to")
    transit_days: DaysDist
    one_way: Flag = False

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- gates
class Authority(Entity):
    """A permitting office: reviewers in parallel, a review time, background load."""

    country: str
    reviewers: Count
    review_days: DaysDist
    review_days_by_kind: dict[str, DaysDist] = Field(default_factory=dict)
    background_per_year: PerYearRate = 0.0
    background_mix: dict[str, Weight] = Field(default_factory=lambda: {"other": 1.0})
    litigation_probability: ProbabilityDist = Field(default_factory=lambda: Fixed(value=0.0))
    litigation_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    litigation_outcome: Literal["delay", "requeue"] = "delay"
    shot_clock_days: PositiveDays | None = None

    @field_validator("background_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or sum(v.values()) <= 0:
            raise ValueError("background_mix needs non-negative weights with a positive sum")
        return v


class TransformerSupply(Strict):
    """Large power transformers for network upgrades, from finite factory capacity.

    With ``units_per_year`` (factory capacity), every order (ours and the
    background's) takes the next free slot on the production line, one unit
    every ``365.25 / units_per_year`` days, first come first served, and is
    delivered ``build_days`` after its slot begins: the lead time is the wait
    for a slot plus manufacture, so it grows with the backlog of orders
    against capacity. ``initial_backlog`` units are on order at the start.
    Without ``units_per_year`` (the older form), ``factory_slots`` orders are
    built in parallel, each taking ``build_days``.
    """

    factory_slots: Count = 1
    units_per_year: PerYearRate | None = None
    build_days: DaysDist
    background_per_year: PerYearRate = 0.0
    initial_backlog: Backlog = 0
    source: str = Field(min_length=3)
    sources: dict[str, str] = Field(default_factory=dict)


class StudyPhase(Strict):
    """One phase of an interconnection study (cluster study, restudy, facilities study)."""

    name: Id
    days: DaysDist
    withdrawal_probability: ProbabilityDist = Field(default_factory=lambda: Fixed(value=0.0))


class RateStep(Strict):
    """From ``start`` on, requests arrive at ``per_year`` (until the next step)."""

    start: Date
    per_year: PerYearRate
    source: str = Field(min_length=3)


#: Hours in a (365.25-day) year: GW x utilisation x 8.766 = TWh a year.
HOURS_PER_YEAR = 8766.0


class DemandStep(Strict):
    """From ``start`` on, data-centre load requests arrive at this volume per year.

    Give the volume as facility load requested (``gw_per_year``) or as the
    energy those requests would use (``twh_per_year``, turned into GW by the
    pipeline's ``utilisation``): exactly one of the two.
    """

    start: Date
    gw_per_year: GigawattsPerYear | None = None
    twh_per_year: GigawattsPerYear | None = None
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_unit(self) -> DemandStep:
        if (self.gw_per_year is None) == (self.twh_per_year is None):
            raise ValueError("give exactly one of gw_per_year or twh_per_year")
        return self

    def gw(self, utilisation: float) -> float:
        """Requested facility load per year, in GW."""
        if self.gw_per_year is not None:
            return self.gw_per_year
        assert self.twh_per_year is not None
        return self.twh_per_year / (HOURS_PER_YEAR / 1000.0 * utilisation)


class CommittedLoad(Strict):
    """Data-centre load already committed (capacity contracted) when the run starts.

    ``gw`` at the meter comes online between the start and ``online_by``,
    spread evenly, in sites of the pipeline's ``request_mw``. Its capacity was
    contracted before the run, so it takes nothing from the region's line.
    """

    gw: GigawattsPerYear
    online_by: Date
    source: str = Field(min_length=3)


class DataCenterPipeline(Strict):
    """A region's stream of data-centre load requests, beside the named campuses.

    Requests arrive as a Poisson stream whose volume follows ``requests`` (GW
    or TWh a year, by date); each asks for ``request_mw`` of facility load at
    the meter. A request is studied like any load request. A speculative one
    (``speculative_share``: no site control or financing) withdraws once its
    studies end, or is turned away at entry under ``queue_order = "first_ready"``.
    A serious one that must wait for an upgrade learns its assigned cost (the
    share of a new upgrade its MW cause, at the region's
    ``upgrade_cost_usd_per_kw``) and withdraws if that exceeds its own
    ``cost_tolerance_usd_per_kw``. Once it commits, its site is built
    (``build_days``) while it waits for capacity; it is online when both are done.
    """

    requests: list[DemandStep] = Field(min_length=1)
    request_mw: RequestMegawattsDist
    committed: list[CommittedLoad] = Field(default_factory=list)
    speculative_share: Share = 0.0
    cost_tolerance_usd_per_kw: CostDist | None = Field(
        None, description="none: requests never withdraw on their assigned upgrade cost"
    )
    build_days: DaysDist
    patience_days: DaysDist | None = Field(
        None,
        description="how long a site waits in a line (for a study team, or for capacity) "
        "before it gives up and builds elsewhere; none: it waits for ever",
    )
    utilisation: Utilisation
    pue: Annotated[float, _NUM, StrictType(), Field(ge=1.0, le=3.0, allow_inf_nan=False)] = 1.3
    magnet_t_per_mw: MagnetTonnesPerMw = Field(
        0.0, description="magnets a committed site orders per IT MW (0: none)"
    )
    magnet_material: str = "ndfeb_magnet"
    magnet_suppliers: list[str] = Field(default_factory=list)
    equipment_lead_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    accelerators_per_mw: AcceleratorsPerMw = Field(
        0.0, description="accelerators a committed site orders per IT MW (0: none)"
    )
    accelerator_material: str = "accelerator"
    accelerator_suppliers: list[str] = Field(default_factory=list)
    supply_tier: SupplyTier = 1
    source: str = Field(min_length=3)
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str = ""

    @model_validator(mode="after")
    def _orders_have_suppliers(self) -> DataCenterPipeline:
        if self.magnet_t_per_mw > 0 and not self.magnet_suppliers:
            raise ValueError("magnet_t_per_mw > 0 needs magnet_suppliers")
        if self.accelerators_per_mw > 0 and not self.accelerator_suppliers:
            raise ValueError("accelerators_per_mw > 0 needs accelerator_suppliers")
        return self


class PrebuiltUpgrade(Strict):
    """Transmission built ahead of need: ``mw`` of headroom ready on ``ready``."""

    ready: Date
    mw: PositiveMegawatts
    source: str = Field(min_length=3)


class ReservedUpgrade(Strict):
    """Watt-bit coordination: an upgrade started on ``start`` for designated sites only.

    It is built like any upgrade (``upgrade_days`` of the region, transformers
    from the shared pool) and its ``mw`` are reserved when it lands: it never
    creates free capacity, it brings dated capacity forward for the sites
    designated to use it. A ``start`` before the run counts the time already
    spent building.
    """

    start: Date
    mw: PositiveMegawatts
    source: str = Field(min_length=3)


class GridRegion(Entity):
    """An interconnection queue: cluster windows, study phases, spare MW, upgrades.

    ``study_days`` is shorthand for a single study phase; give ``study_phases``
    for a multi-phase process (not both).
    """

    country: str
    spare_mw: Megawatts
    study_teams: Count
    study_days: DaysDist | None = None
    study_phases: list[StudyPhase] = Field(default_factory=list)
    cluster_cycle_days: CycleDays = 0.0
    first_window_days: Days = 0.0
    restudy_days: DaysDist | None = None
    queue_order: Literal["first_come", "first_ready"] = "first_come"
    readiness_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    background_patience_days: DaysDist | None = Field(
        None,
        description="how long a background request waits for a study team before it "
        "withdraws while waiting (reneges); none: it never gives up while waiting",
    )
    speculative_share: Share = Field(
        0.0,
        description="share of background requests that are speculative (no site control or "
        "financing): under first_come they are studied and then withdraw; under first_ready "
        "readiness screening turns them away at entry",
    )
    parallel_studies: Flag = False
    connection_days: DaysDist
    upgrade_days: DaysDist
    upgrade_mw: UpgradeMegawatts
    transformers_per_upgrade: TransformerCount = 1
    upgrade_crews: Count | None = Field(
        None,
        description="network upgrades that can be under construction at once (the utility's "
        "capital programme and crews); more wait their turn. None: no limit",
    )
    upgrade_cost_usd_per_kw: UsdPerKw = Field(
        0.0,
        description="what a network upgrade costs per kW it adds; a load request that must "
        "wait for an upgrade is assigned the cost of the MW it adds to the deficit",
    )
    background_cost_tolerance_usd_per_kw: CostDist | None = Field(
        None,
        description="each background load request's tolerance for its assigned upgrade cost; "
        "above it, it withdraws (none: background load never withdraws on cost)",
    )
    generation_hosting_mw: Megawatts = Field(
        0.0,
        description="spare injection capacity for generation at the start; a generation "
        "request beyond what is spare is assigned the upgrade cost of the rest",
    )
    generation_hosting_growth_mw_per_year: Megawatts = Field(
        0.0, description="injection capacity added each year by transmission expansion"
    )
    generation_upgrade_cost_usd_per_kw: UsdPerKw = Field(
        0.0, description="what the network upgrade for generation beyond the hosting capacity costs"
    )
    background_generation_cost_tolerance_usd_per_kw: CostDist | None = Field(
        None,
        description="each background generation request's tolerance for its assigned upgrade "
        "cost; with it, generation withdraws on cost and readiness, not on fixed probabilities",
    )
    individual_studies_until: Date | None = Field(
        None,
        description="with cluster_cycle_days: before this date requests are studied one at a "
        "time, first come first served (the process before cluster reform)",
    )
    datacenter_pipeline: DataCenterPipeline | None = None
    flexible_connection_share: Share = 0.0
    prebuilt_upgrades: list[PrebuiltUpgrade] = Field(default_factory=list)
    reserved_upgrades: list[ReservedUpgrade] = Field(default_factory=list)
    initial_backlog: Backlog = Field(0, description="background requests queued at the start")
    background_load_per_year: PerYearRate = 0.0
    background_load_steps: list[RateStep] = Field(
        default_factory=list,
        description="a rate path: from each step's start, load requests arrive at its "
        "per_year (before the first step, background_load_per_year)",
    )
    background_load_mw: RequestMegawattsDist = Field(default_factory=lambda: Fixed(value=100.0))
    background_generation_per_year: PerYearRate = 0.0
    background_generation_steps: list[RateStep] = Field(
        default_factory=list,
        description="a rate path for generation requests, like background_load_steps",
    )
    background_generation_mw: RequestMegawattsDist = Field(
        default_factory=lambda: Fixed(value=100.0)
    )
    background_withdrawal_probability: ProbabilityDist = Field(
        default_factory=lambda: Fixed(value=0.0)
    )
    generation_build_days: DaysDist = Field(default_factory=lambda: Fixed(value=730.0))
    generation_post_study_withdrawal: ProbabilityDist = Field(
        default_factory=lambda: Fixed(value=0.0)
    )

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
    start: Date
    end: Date | None = None
    mode: Literal["licence", "ban", "quota"] = "licence"
    quota_per_year: AmountPerYear | None = None
    reviewers: Count = 1
    review_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    denial_probability: ProbabilityDist = Field(default_factory=lambda: Fixed(value=0.0))
    background_per_year: PerYearRate = 0.0
    exempt_countries: list[str] = Field(default_factory=list)
    supersedes: list[str] = Field(
        default_factory=list, description="regimes that stop applying while this one is in force"
    )

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

    every_days: IntervalDist
    duration_days: DaysDist
    capacity_lost: Annotated[Share, Field(gt=0)] = 1.0


class CapacityChange(Strict):
    date: Date
    capacity: AmountPerYear
    source: str = Field(min_length=3)


class Facility(Entity):
    """What every producing facility shares."""

    country: str
    status: Literal["operating", "planned"] = "operating"
    project_start: Date | None = None
    permits: list[str] = Field(default_factory=list)
    construction_days: DaysDist | None = None
    grid_region: str | None = None
    grid_mw: RequestMegawatts = 0.0
    ramp_days: Days = 0.0
    capacity_changes: list[CapacityChange] = Field(default_factory=list)
    outages: Outages | None = None
    cover_days: PositiveDays = Field(60.0, description="input stock target, days of use")
    reorder_days: Days = Field(30.0, description="reorder when cover falls below")
    trusted_only_from: Date | None = None
    owner: str = Field("", description="who owns the facility (for the record)")
    foreign_entity_of_concern: Flag = Field(
        False,
        description="owned or controlled by an entity of a country of concern: output that "
        "passes through it is never trusted",
    )
    supply_tier: SupplyTier = Field(
        2,
        description="priority of this plant's input orders under shortage (1 first); "
        "a contract may set another tier for one supplier",
    )

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
        return self


class Mine(Facility):
    capacity_t_per_year: AmountPerYear
    basket: str
    output: str = "concentrate"


class SeparationPlant(Facility):
    """Feed capacity in t REO of concentrate per year; outputs follow basket x yield."""

    capacity_t_per_year: AmountPerYear
    recovery_yield: Annotated[Share, Field(gt=0)]
    heavy_capable: Flag = False
    heavy_from: Date | None = None
    input: str = "concentrate"
    suppliers: list[str] = Field(min_length=1)
    qualified: list[str] | None = None
    qualification_days: DaysDist = Field(default_factory=lambda: Fixed(value=180.0))
    heavy_materials: list[str] = Field(default_factory=lambda: ["dy_oxide", "tb_oxide"])


class Converter(Facility):
    """Turns inputs into one output by a recipe (inputs per unit of output)."""

    output: str
    recipe: dict[str, RecipeQuantity] = Field(min_length=1)
    suppliers: dict[str, list[str]]

    @model_validator(mode="after")
    def _every_input_has_suppliers(self) -> Converter:
        missing = [m for m in self.recipe if not self.suppliers.get(m)]
        if missing:
            raise ValueError(f"no suppliers given for recipe input(s): {', '.join(missing)}")
        return self


class MagnetMaker(Converter):
    capacity_t_per_year: AmountPerYear
    output: str = "ndfeb_magnet"


class MetalPlant(Converter):
    """Oxide to metal or alloy (NdPr oxide into NdPr metal by electrolysis), the stage
    between separation and magnet making; ``capacity_t_per_year`` is metal out."""

    capacity_t_per_year: AmountPerYear
    output: str = "ndpr_metal"


class Fab(Converter):
    """Accelerator output = wafer starts x AI share x good dies per wafer."""

    wafer_starts_per_month: Annotated[
        float,
        _NUM,
        StrictType(),
        Field(ge=0, allow_inf_nan=False),
        _at_most(limits.MAX_WAFER_STARTS_PER_MONTH),
    ]
    ai_wafer_share: Annotated[Share, Field(gt=0)]
    good_dies_per_wafer: Annotated[
        float,
        _NUM,
        StrictType(),
        Field(gt=0, allow_inf_nan=False),
        _at_most(limits.MAX_DIES_PER_WAFER),
    ]
    output: str = "accelerator"

    @property
    def capacity_units_per_year(self) -> float:
        return self.wafer_starts_per_month * 12 * self.ai_wafer_share * self.good_dies_per_wafer


class Demand(Entity):
    """The rest of the economy: buys a material at a rate from suppliers in order."""

    country: str
    material: str
    rate_per_year: AmountPerYear
    growth_per_year: Annotated[
        float, _NUM, StrictType(), Field(ge=-0.5, le=1.0, allow_inf_nan=False)
    ] = 0.0
    suppliers: list[str] = Field(min_length=1)
    cover_days: PositiveDays = 30.0
    reorder_days: Days = 15.0
    trusted_only_from: Date | None = None
    supply_tier: SupplyTier = Field(
        3, description="priority under shortage (1 first): the rest of the economy comes last"
    )


class Stockpile(Entity):
    """A strategic reserve with release rules.

    It may ship from ``release_from`` once its trigger holds: ``"date"`` (from
    that date on), ``"export_ban"`` (while ``ban_exporter`` bans exports of its
    material to the stockpile's own country) or ``"shortage"`` (whenever an eligible buyer's other
    suppliers fall short: it is always their last supplier). ``eligible`` names
    the buyers who may draw; each gets the stockpile as its last supplier
    without restating its list. ``release_t_per_year`` caps what it releases.
    """

    country: str
    material: str
    initial: Amount
    release_from: Date
    release_on: Literal["date", "export_ban", "shortage"] = "date"
    ban_exporter: str | None = None
    release_t_per_year: AmountPerYear | None = None
    eligible: list[str] = Field(default_factory=list)
    provenance: list[str] = Field(default_factory=list)
    replenish_t_per_year: AmountPerYear | None = Field(
        None,
        description="while it is not releasing, buy back up to ``initial`` at this rate from "
        "``replenish_from`` (last in line: tier 9)",
    )
    replenish_from: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ban_names_exporter(self) -> Stockpile:
        if (self.release_on == "export_ban") != (self.ban_exporter is not None):
            raise ValueError('give ban_exporter exactly when release_on = "export_ban"')
        if (self.replenish_t_per_year is None) != (not self.replenish_from):
            raise ValueError("give replenish_t_per_year and replenish_from together")
        return self


class Contract(Entity):
    """An offtake contract: ``buyer`` takes ``material`` from ``supplier`` at ``tier``.

    Under shortage a supplier's stock goes to the highest tier first (1), then
    pro rata by what each buyer still needs within a tier. The contract holds
    from ``start`` to ``end`` (the whole run if not given) and, with
    ``t_per_year``, for that volume only: beyond it the buyer falls back to its
    own ``supply_tier``. A supplier the buyer does not list is added as its
    last supplier, so a new contract never restates a buyer's list.
    """

    buyer: str
    supplier: str
    material: str
    tier: SupplyTier = 1
    t_per_year: AmountPerYear | None = None
    start: Date | None = None
    end: Date | None = None


class Phase(Strict):
    it_mw: PhaseMegawatts
    start: Date
    planned_online: Date | None = None
    name: Id | None = None


class DataCenter(Entity):
    """A data-center project of phases, each gated by permits, grid, build and supply."""

    country: str
    grid_region: str
    permits: list[str] = Field(default_factory=list)
    permit_mode: Literal["sequence", "parallel"] = "sequence"
    permit_per_phase: Flag = False
    pue: Annotated[float, _NUM, StrictType(), Field(ge=1.0, le=3.0, allow_inf_nan=False)] = 1.3
    construction_days: DaysDist
    equipment_lead_days: DaysDist
    accelerator_install_days: DaysDist = Field(default_factory=lambda: Fixed(value=30.0))
    magnet_t_per_mw: MagnetTonnesPerMw
    accelerators_per_mw: AcceleratorsPerMw
    magnet_material: str = "ndfeb_magnet"
    accelerator_material: str = "accelerator"
    magnet_suppliers: list[str] = Field(default_factory=list)
    accelerator_suppliers: list[str] = Field(default_factory=list)
    trusted_only_from: Date | None = None
    colocated_generation_share: Share = 0.0
    colocated_build_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    designated_site: Flag = False
    supply_tier: SupplyTier = Field(
        1,
        description="priority of the phases' magnet and accelerator orders under shortage "
        "(1 first): equipment for data centres is served before the rest of the economy",
    )
    phases: list[Phase] = Field(min_length=1)

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
    start: Date
    audit_days: DaysDist = Field(default_factory=lambda: Fixed(value=0.0))
    qualifying_tiers: list[Literal["signatory", "partner", "neutral"]] | None = Field(
        None,
        description="tiers whose stages qualify under this mandate (none: the scenario's "
        "rules_of_origin.trusted_tiers)",
    )


class Policies(Strict):
    trusted_sourcing: dict[Id, TrustedSourcing] = Field(default_factory=dict)


def _scenario_name(text: str) -> str:
    return _printable(text, "scenario name", limits.MAX_NAME_CHARS)


# --------------------------------------------------------------------------- the scenario
class Scenario(Strict):
    name: Annotated[str, AfterValidator(_scenario_name)]
    description: str = ""
    extends: str | None = None
    time: TimeSettings
    trust_coalition: str
    rules_of_origin: RulesOfOrigin = Field(default_factory=RulesOfOrigin)
    countries: dict[Id, Country]
    coalitions: dict[Id, Coalition] = Field(default_factory=dict)
    materials: dict[Id, Material]
    baskets: dict[Id, Basket] = Field(default_factory=dict)
    lanes: dict[Id, Lane] = Field(default_factory=dict)
    domestic_transit_days: DaysDist = Field(default_factory=lambda: Fixed(value=7.0))
    authorities: dict[Id, Authority] = Field(default_factory=dict)
    grid: dict[Id, GridRegion] = Field(default_factory=dict)
    transformers: TransformerSupply | None = None
    export_controls: dict[Id, ExportControl] = Field(default_factory=dict)
    mines: dict[Id, Mine] = Field(default_factory=dict)
    separation_plants: dict[Id, SeparationPlant] = Field(default_factory=dict)
    metal_plants: dict[Id, MetalPlant] = Field(default_factory=dict)
    magnet_makers: dict[Id, MagnetMaker] = Field(default_factory=dict)
    fabs: dict[Id, Fab] = Field(default_factory=dict)
    stockpiles: dict[Id, Stockpile] = Field(default_factory=dict)
    demands: dict[Id, Demand] = Field(default_factory=dict)
    datacenters: dict[Id, DataCenter] = Field(default_factory=dict)
    contracts: dict[Id, Contract] = Field(default_factory=dict)
    policies: Policies = Field(default_factory=Policies)

    def facility_tables(self) -> dict[str, dict[str, Any]]:
        """Supplier-capable tables by section name (enabled entities only)."""
        tables: dict[str, dict[str, Any]] = {
            "mines": self.mines,
            "separation_plants": self.separation_plants,
            "metal_plants": self.metal_plants,
            "magnet_makers": self.magnet_makers,
            "fabs": self.fabs,
            "stockpiles": self.stockpiles,
        }
        return {sec: {k: v for k, v in t.items() if v.enabled} for sec, t in tables.items()}
