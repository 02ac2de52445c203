"""The national table: data-centre load online and energy used, by country, region and year.

Three parts add up to a country's figure:

* the **installed base** (``countries.<id>.datacenter_stock``): facility load
  already online at the start, outside the modelled pipelines;
* **pipeline sites** that came online in the run (``pipeline_requests``);
* the **named campuses** at full power (``projects``; first power does not
  count, so a flexible connection's early share is never a headline).

Load is facility load at the meter (IT x PUE), in GW at the end of each
calendar year; energy is what that load uses over the year at the stated
utilisation (each site from the day it came online), in TWh. Sites not
online by the horizon are not in the load; they are in ``pipeline_requests``
as ``pending`` (censored), with what they were waiting for.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from paxsim.models.scenario import Scenario

__all__ = ["ALL_REGIONS", "INSTALLED_BASE", "NATIONAL_COLUMNS", "national_table"]

#: The region label of a country's installed base, and of its total.
INSTALLED_BASE = "installed_base"
ALL_REGIONS = "all"
NATIONAL_COLUMNS = ("country", "region", "year", "gw_online", "twh")

_HOURS_PER_DAY = 24.0
_MWH_PER_TWH = 1e6


def _years(scenario: Scenario) -> list[int]:
    """Calendar years that end inside the run."""
    start, end = scenario.time.start, scenario.time.end
    return [y for y in range(start.year, end.year + 1) if dt.date(y + 1, 1, 1) <= end]


def _utilisation(scenario: Scenario, region: str) -> float:
    """A region's AI-era utilisation: its pipeline's, else its country's installed base's."""
    spec = scenario.grid[region]
    if spec.datacenter_pipeline is not None:
        return spec.datacenter_pipeline.utilisation
    stock = scenario.countries[spec.country].datacenter_stock
    return stock.utilisation if stock is not None else 1.0


def _sites(scenario: Scenario, projects: pd.DataFrame, pipeline: pd.DataFrame) -> pd.DataFrame:
    """Every site online in the run: region, country, MW at the meter, online day, utilisation."""
    parts = []
    if len(pipeline):
        on = pipeline[pipeline["outcome"] == "online"]
        parts.append(_site_frame(on, "mw", "online"))
    if len(projects):
        done = projects[projects["online_by_horizon"].astype(bool)]
        parts.append(_site_frame(done, "grid_mw", "online_day"))
    if not parts:
        return pd.DataFrame(columns=["region", "country", "mw", "online_day", "utilisation"])
    sites = pd.concat(parts, ignore_index=True)
    sites["utilisation"] = [_utilisation(scenario, r) for r in sites["region"]]
    return sites


def _site_frame(rows: pd.DataFrame, mw: str, online: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": rows["region"].astype(str),
            "country": rows["country"].astype(str),
            "mw": rows[mw].astype(float),
            "online_day": rows[online].astype(float),
        }
    )


def national_table(
    scenario: Scenario, projects: pd.DataFrame, pipeline: pd.DataFrame
) -> pd.DataFrame:
    """GW online at each year's end and TWh used in the year, by country and region (and all)."""
    years = _years(scenario)
    start = scenario.time.start
    bounds = np.array([float((dt.date(y, 1, 1) - start).days) for y in [*years, years[-1] + 1]])
    year_start, year_end = bounds[:-1], bounds[1:]
    sites = _sites(scenario, projects, pipeline)
    rows: list[tuple[str, str, int, float, float]] = []
    regions_by_country: dict[str, list[str]] = {}
    for region, spec in scenario.grid.items():
        if spec.enabled:
            regions_by_country.setdefault(spec.country, []).append(region)
    for country in sorted(set(regions_by_country) | _stock_countries(scenario)):
        totals = np.zeros((len(years), 2))
        stock = scenario.countries[country].datacenter_stock
        if stock is not None:
            gw = np.full(len(years), stock.gw)
            twh = gw * stock.utilisation * (year_end - year_start) * _HOURS_PER_DAY / 1000.0
            totals += np.column_stack([gw, twh])
            rows += _rows(country, INSTALLED_BASE, years, gw, twh)
        for region in sorted(regions_by_country.get(country, [])):
            mine = sites[sites["region"] == region]
            mw = mine["mw"].to_numpy(dtype=float)
            day = mine["online_day"].to_numpy(dtype=float)
            util = mine["utilisation"].to_numpy(dtype=float)
            gw = np.array([mw[day <= end].sum() for end in year_end]) / 1000.0
            # each site's MW x hours online within the year x utilisation
            days_online = np.clip(year_end[:, None] - np.maximum(year_start[:, None], day), 0, None)
            twh = (days_online * _HOURS_PER_DAY * (mw * util)).sum(axis=1) / _MWH_PER_TWH
            totals += np.column_stack([gw, twh])
            rows += _rows(country, region, years, gw, twh)
        rows += _rows(country, ALL_REGIONS, years, totals[:, 0], totals[:, 1])
    return pd.DataFrame(rows, columns=list(NATIONAL_COLUMNS))


def _stock_countries(scenario: Scenario) -> set[str]:
    return {c for c, spec in scenario.countries.items() if spec.datacenter_stock is not None}


def _rows(
    country: str, region: str, years: list[int], gw: np.ndarray, twh: np.ndarray
) -> list[tuple[str, str, int, float, float]]:
    return [
        (country, region, year, float(g), float(t))
        for year, g, t in zip(years, gw, twh, strict=True)
    ]
