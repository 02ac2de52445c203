"""The limits paxsim states and enforces before any work starts, each with its reason.

A scenario outside a limit is refused by the loader with a message that gives
the limit and the reason (:meth:`Limit.refuse`). The limits are physical
("no phase draws more than 10 GW") or practical ("a run's work grows with its
horizon"); none is tuned to the default world, which sits far inside every one.
README.md ("Limits") lists this table; tests/test_schema_limits.py checks that
the two agree. (The batch command's own limits, such as ``--reps``, live with
the batch runner: the engine cannot import the domain.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "LIMITS",
    "MAX_ACCELERATORS_PER_MW",
    "MAX_AMOUNT",
    "MAX_AMOUNT_PER_YEAR",
    "MAX_BACKGROUND_PER_YEAR",
    "MAX_COUNT",
    "MAX_DIES_PER_WAFER",
    "MAX_DURATION_DAYS",
    "MAX_EXTENDS_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_GRID_MW",
    "MAX_GW_PER_YEAR",
    "MAX_HORIZON_YEARS",
    "MAX_ID_CHARS",
    "MAX_INITIAL_BACKLOG",
    "MAX_LISTED",
    "MAX_LOGNORMAL_SPREAD",
    "MAX_MAGNET_T_PER_MW",
    "MAX_NAME_CHARS",
    "MAX_NESTING_DEPTH",
    "MAX_RECIPE_PER_UNIT",
    "MAX_REQUEST_MW",
    "MAX_TRANSFORMERS_PER_UPGRADE",
    "MAX_USD_PER_KW",
    "MAX_WAFER_STARTS_PER_MONTH",
    "MAX_WEIGHT",
    "MIN_INTERVAL_DAYS",
    "MIN_UPGRADE_MW",
    "Limit",
    "limits_table",
]


@dataclass(frozen=True)
class Limit:
    """One stated limit: what it bounds, the bound, its unit and why."""

    name: str
    value: float | int | dt.date
    unit: str
    why: str
    applies_to: str

    @property
    def number(self) -> float:
        """The bound of a numeric limit."""
        if isinstance(self.value, dt.date):
            raise TypeError(f"the {self.name} limit is a date")
        return float(self.value)

    @property
    def date(self) -> dt.date:
        """The bound of a date limit."""
        if not isinstance(self.value, dt.date):
            raise TypeError(f"the {self.name} limit is a number")
        return self.value

    def shown(self) -> str:
        if isinstance(self.value, dt.date):
            return self.value.isoformat()
        if isinstance(self.value, int) or float(self.value).is_integer():
            return f"{int(self.value):,}{' ' + self.unit if self.unit else ''}"
        return f"{self.value:g}{' ' + self.unit if self.unit else ''}"

    def refuse(self, given: str, *, above: bool = True) -> str:
        """The message for a value past this limit."""
        side = "above the limit of" if above else "below the minimum of"
        return f"{given} is {side} {self.shown()}: {self.why}"


def _limit(name: str, value: float | int | dt.date, unit: str, applies_to: str, why: str) -> Limit:
    limit = Limit(name, value, unit, why, applies_to)
    _ALL.append(limit)
    return limit


_ALL: list[Limit] = []

# ----------------------------------------------------------------------------- input files
MAX_FILE_BYTES = _limit(
    "file size",
    5_000_000,
    "bytes",
    "a scenario file and every file it extends",
    "the default world is 86 kB; reading stops at the limit, so a device such as "
    "/dev/zero or a huge file cannot hang paxsim or exhaust memory",
)
MAX_NESTING_DEPTH = _limit(
    "nesting depth",
    16,
    "levels",
    "tables and arrays inside one another (files and --set values)",
    "the deepest value in the schema is 6 levels down; deeper input is not a scenario "
    "and would exhaust the TOML parser's recursion",
)
MAX_EXTENDS_DEPTH = _limit(
    "extends chain",
    8,
    "files",
    "parents followed through `extends`",
    "a longer chain is almost always a cycle or a mistake",
)
MAX_NAME_CHARS = _limit(
    "scenario name",
    80,
    "characters",
    "`name`",
    "the name becomes part of output folder names, which file systems cap at 255 bytes",
)
MAX_ID_CHARS = _limit(
    "id length",
    100,
    "characters",
    "every entity id (a table key such as `grid.<id>`) and phase name",
    "ids appear in every result row and message; longer ones are pasted text, not names",
)

# ----------------------------------------------------------------------------- time
MAX_HORIZON_YEARS = _limit(
    "horizon",
    60,
    "years",
    "`time.end` - `time.start`",
    "a run's work grows with its horizon (weekly production ticks, background "
    "arrivals at every gate); 60 years covers any planning question",
)
EARLIEST_DATE = _limit(
    "earliest date",
    dt.date(1900, 1, 1),
    "",
    "every date in a scenario",
    "an earlier date is a typo; result tables hold pandas timestamps, which begin in 1677",
)
LATEST_DATE = _limit(
    "latest date",
    dt.date(2200, 12, 31),
    "",
    "every date in a scenario",
    "result tables hold pandas timestamps, which end on 2262-04-11; 2200 leaves "
    "room for delays reported past the horizon",
)
MAX_DURATION_DAYS = _limit(
    "duration",
    36_525,
    "days",
    "every duration, and the scale (upper bound, p90 or mean) of every duration distribution",
    "a century; any longer step never ends inside the longest horizon",
)
MIN_INTERVAL_DAYS = _limit(
    "interval between repeated events",
    1,
    "day",
    "`time.step_days`, `time.sample_every_days`, `cluster_cycle_days` (when not 0), "
    "the mean of `outages.every_days`",
    "each interval is one simulation event; shorter ones multiply the work "
    "without changing results in a model whose inputs are in days",
)
MAX_LOGNORMAL_SPREAD = _limit(
    "lognormal spread",
    1_000,
    "times the median",
    "p90 / median of every lognormal distribution",
    "wider spreads put draws 20 orders of magnitude apart, which is a typo in the "
    "median or the p90 (the default world's widest is 2.3x)",
)

# ----------------------------------------------------------------------------- queues
MAX_BACKGROUND_PER_YEAR = _limit(
    "background rate",
    10_000,
    "requests per year",
    "`background_per_year`, `background_load_per_year`, `background_generation_per_year`",
    "each background request is simulated; 10x the busiest calibrated desk (1,000 "
    "a year) keeps a 60-year run to minutes, and 1e308 would never finish",
)
MAX_INITIAL_BACKLOG = _limit(
    "initial backlog",
    10_000,
    "requests",
    "`grid.<id>.initial_backlog`",
    "each queued request is simulated from day 0; the largest calibrated backlog is 90",
)
MAX_COUNT = _limit(
    "servers",
    100_000,
    "",
    "`reviewers`, `study_teams`, `transformers.factory_slots`",
    "a count of people or factory slots; the largest calibrated one is 1,000",
)
MAX_TRANSFORMERS_PER_UPGRADE = _limit(
    "transformers per upgrade",
    20,
    "",
    "`grid.<id>.transformers_per_upgrade`",
    "each upgrade block orders this many transformers from the shared pool",
)

# ----------------------------------------------------------------------------- power
MIN_UPGRADE_MW = _limit(
    "smallest upgrade block",
    10,
    "MW",
    "`grid.<id>.upgrade_mw`",
    "a request larger than the spare MW builds ceil(deficit / upgrade_mw) blocks, each "
    "with its transformer orders; tiny blocks turn one request into thousands of orders",
)
MAX_REQUEST_MW = _limit(
    "one grid request",
    10_000,
    "MW",
    "phases' `it_mw`, facilities' `grid_mw`, the scale of `background_*_mw`",
    "the largest campuses announced are ~5 GW",
)
MAX_GRID_MW = _limit(
    "grid headroom",
    1_000_000,
    "MW",
    "`spare_mw`, `upgrade_mw`, prebuilt and reserved upgrades",
    "1 TW, about the whole US generating fleet",
)

MAX_USD_PER_KW = _limit(
    "cost per kW",
    100_000,
    "USD/kW",
    "`upgrade_cost_usd_per_kw`, the scale of `*cost_tolerance_usd_per_kw`",
    "network upgrades cost tens to hundreds of USD per kW; 100x the dearest is a typo",
)
MAX_GW_PER_YEAR = _limit(
    "demand per year",
    10_000,
    "GW or TWh per year",
    "`datacenter_pipeline.requests` steps (`gw_per_year`, `twh_per_year`), `datacenter_stock.gw`",
    "several times the world's data-centre load (~50 GW average in 2024)",
)

# ----------------------------------------------------------------------------- material
MAX_AMOUNT_PER_YEAR = _limit(
    "flow",
    1e9,
    "t or units per year",
    "capacities, capacity changes, demand rates, quotas",
    "2,500x world rare-earth mining (390 kt in 2024) and 100x yearly accelerator "
    "output; larger values are typos and push stock arithmetic towards overflow",
)
MAX_AMOUNT = _limit(
    "stock",
    1e9,
    "t or units",
    "stockpiles' `initial`",
    "far above any national reserve (tens of kt); larger values are typos and push "
    "stock arithmetic towards overflow",
)
MAX_WAFER_STARTS_PER_MONTH = _limit(
    "wafer starts",
    10_000_000,
    "per month",
    "`fabs.<id>.wafer_starts_per_month`",
    "several times the world's leading-edge capacity",
)
MAX_DIES_PER_WAFER = _limit(
    "good dies per wafer",
    10_000,
    "",
    "`fabs.<id>.good_dies_per_wafer`",
    "a 300 mm wafer holds a few hundred accelerator dies",
)
MAX_ACCELERATORS_PER_MW = _limit(
    "accelerators per MW",
    100_000,
    "",
    "`datacenters.<id>.accelerators_per_mw`",
    "a megawatt feeds about a thousand accelerators",
)
MAX_MAGNET_T_PER_MW = _limit(
    "magnets per MW",
    100,
    "t",
    "`datacenters.<id>.magnet_t_per_mw`",
    "calibrated at 0.15 t per MW",
)
MAX_RECIPE_PER_UNIT = _limit(
    "recipe quantity",
    1_000,
    "per unit of output",
    "`recipe` entries of magnet makers and fabs",
    "an input per unit of output; the calibrated ones are below 1",
)
MAX_WEIGHT = _limit(
    "mix weight",
    1e6,
    "",
    "authorities' `background_mix` weights",
    "relative weights; only their ratios matter",
)

#: Lists of names in messages are given in full up to this many, else a count and
#: the closest matches (not a stated limit on input, so not in ``LIMITS``).
MAX_LISTED = 30

LIMITS: tuple[Limit, ...] = tuple(_ALL)


def limits_table() -> str:
    """The limits as a Markdown table (README.md's "Limits" section holds this text)."""
    rows = ["| limit | value | applies to | why |", "|---|---|---|---|"]
    for limit in LIMITS:
        rows.append(f"| {limit.name} | {limit.shown()} | {limit.applies_to} | {limit.why} |")
    return "\n".join(rows)
