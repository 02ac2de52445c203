"""Study metrics on hand-made frames whose right answers are worked out by hand, then a batch."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paxsim import load_scenario, simulate
from paxsim.batch import compare, run_batch
from paxsim.batch_cli import format_headlines
from paxsim.models.results import metrics as m
from paxsim.sim import stats
from paxsim.sim.replications import Backend

TINY = Path(__file__).parent / "scenarios" / "tiny.toml"
H = 1000.0  # horizon of the hand-made frames, days


def _phases() -> pd.DataFrame:
    """One replication, three phases, no replication column (a single run).

    a: 100 MW, planned 100, online 200 (late 100 d)
    b: 300 MW, planned 150, not online by the horizon (censored)
    c: 100 MW, planned 40, online 50 (late 10 d)
    """
    return pd.DataFrame(
        {
            "phase_id": ["a", "b", "c"],
            "country": ["XX", "YY", "XX"],
            "region": ["r1", "r2", "r1"],
            "it_mw": [100.0, 300.0, 100.0],
            "planned_day": [100.0, 150.0, 40.0],
            "online_day": [200.0, np.nan, 50.0],
            "held_back_by": ["grid", "not online by horizon (grid)", "permit_review"],
            "days_grid": [70.0, np.nan, 0.0],
            "days_permit_review": [30.0, np.nan, 10.0],
            "days_export_quota": [0.0, np.nan, 0.0],
        }
    )


def _reps(values: list[list[float]], planned: float = 100.0) -> pd.DataFrame:
    """One phase per row of ``values`` (online days by replication), all in country XX."""
    rows = [
        {
            "replication": rep,
            "phase_id": f"p{i}",
            "country": "XX",
            "region": "r1",
            "it_mw": 10.0,
            "planned_day": planned,
            "online_day": day,
        }
        for i, days in enumerate(values)
        for rep, day in enumerate(days)
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ metrics
def test_full_power_day_counts_censored_mw_at_the_horizon() -> None:
    out = m.mw_weighted_full_power_day(_phases(), H).iloc[0]
    # (100·200 + 300·1000 + 100·50) / 500
    assert out["full_power_day"] == pytest.approx(325_000 / 500)
    # (100·100 + 300·850 + 100·10) / 500
    assert out["mw_weighted_delay_days"] == pytest.approx(266_000 / 500)
    assert out["censored_mw"] == 300 and out["censored_share"] == pytest.approx(0.6)
    assert out["group"] == "all" and out["replication"] == 0
    by = m.mw_weighted_full_power_day(_phases(), H, by="country").set_index("group")
    assert by.loc["XX", "full_power_day"] == pytest.approx(125.0)
    assert by.loc["YY", "full_power_day"] == H and by.loc["YY", "censored_share"] == 1.0


def test_day_share_online_is_inf_after_the_horizon_never_dropped() -> None:
    p = _phases()
    assert m.day_share_online(p, 0.2, H)["day"].iloc[0] == 50.0  # c alone: 100 of 500 MW
    assert m.day_share_online(p, 0.4, H)["day"].iloc[0] == 200.0  # a and c
    late = m.day_share_online(p, 0.5, H, by="country").set_index("group")["day"]
    assert late["XX"] == 50.0 and late["YY"] == np.inf  # XX: c is half its MW; YY kept as +inf
    assert math.isinf(m.day_share_online(p, 0.5, H)["day"].iloc[0])
    with pytest.raises(ValueError, match="share"):
        m.day_share_online(p, 0.0, H)


def test_mw_years_lost_and_the_stranded_curve_agree() -> None:
    p = _phases()
    lost = m.mw_years_lost(p, H)["mw_years_lost"].iloc[0]
    assert lost == pytest.approx((100 * 100 + 300 * 850 + 100 * 10) / 365.25)
    curve = m.stranded_mw(p, [0, 45, 100, 160, 500, H], H).set_index("day")["stranded_mw"]
    assert list(curve) == [0.0, 100.0, 100.0, 400.0, 300.0, 300.0]
    days = np.linspace(0, H, 200_001)
    dense = m.stranded_mw(p, days, H)["stranded_mw"].to_numpy()
    assert np.trapezoid(dense, days) / 365.25 == pytest.approx(lost, rel=1e-3)
    with pytest.raises(ValueError, match="horizon"):
        m.stranded_mw(p, [H + 1], H)


def test_stranded_curve_matches_a_direct_count_on_many_groups() -> None:
    rng = np.random.default_rng(3)
    n = 400
    p = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(40), 10),
            "phase_id": np.tile([f"p{i}" for i in range(10)], 40),
            "country": np.tile(list("ABCDEABCDE"), 40),
            "it_mw": rng.integers(1, 300, n).astype(float),
            "planned_day": rng.uniform(0, 1200, n).round(),
            "online_day": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, H, n).round()),
        }
    )
    days = [0.0, 1.0, 250.0, 250.5, 999.0, H]
    got = m.stranded_mw(p, days, H, by="country").set_index(["replication", "group", "day"])
    online = p["online_day"].fillna(np.inf)
    for t in days:
        mask = (p["planned_day"] <= t) & (online > t)
        want = p["it_mw"].where(mask, 0.0).groupby([p["replication"], p["country"]]).sum()
        have = got.xs(t, level="day")["stranded_mw"]
        np.testing.assert_allclose(have.to_numpy(), want.to_numpy())


def test_stranded_summary_by_hand() -> None:
    p = pd.concat(
        [
            _phases(),
            _phases().iloc[[0]].assign(phase_id="later", planned_day=1200.0, online_day=np.nan),
        ]
    )
    s = m.stranded_summary(p, H).iloc[0]
    assert s["peak_stranded_mw"] == 400.0  # a and b together, days 150-200
    assert s["stranded_mw_at_horizon"] == 300.0  # b; "later" is not due by the horizon
    assert s["stranded_days"] == pytest.approx(10 + 900)  # [40, 50) and [100, 1000)
    assert s["mw_years_lost"] == pytest.approx(m.mw_years_lost(p, H)["mw_years_lost"].iloc[0])


def test_p_on_time_only_where_informative() -> None:
    mixed = _reps([[90.0, 95.0, 130.0]])  # on time, on time, late
    out = m.p_on_time(mixed, H).iloc[0]
    assert out["p_on_time"] == pytest.approx(2 / 3) and out["note"] == ""
    assert (out["low"], out["high"]) == pytest.approx(stats.proportion_interval(2, 3))
    assert out["warning"]  # 3 replications: steps of 33 points
    late = m.p_on_time(_reps([[120.0, 130.0, np.nan]]), H).iloc[0]
    assert math.isnan(late["p_on_time"]) and math.isnan(late["low"])
    assert late["note"] == "always late in 3 replications"
    early = m.p_on_time(_reps([[90.0, 95.0]]), H).iloc[0]
    assert math.isnan(early["p_on_time"]) and early["note"] == "always on time in 2 replications"
    # planned after the horizon and not online: undetermined, not late
    undue = m.p_on_time(_reps([[np.nan, np.nan]], planned=H + 50), H).iloc[0]
    assert undue["due"] == 0 and undue["note"] == "no phase due by the horizon"


def test_p_on_time_of_a_group_counts_each_replication_once() -> None:
    two = _reps([[90.0, 130.0, 90.0], [130.0, 130.0, 90.0]])  # shares 0.5, 0, 1
    out = m.p_on_time(two, H).iloc[0]
    assert out["p_on_time"] == pytest.approx(0.5)
    wider = stats.proportion_interval(3, 6)  # as if the 6 phase-replications were independent
    assert out["high"] - out["low"] > wider[1] - wider[0]


def test_attribution_includes_stranded_phases_and_sums_to_delay() -> None:
    p = _phases()
    att = m.delay_attribution(p, H)
    assert set(att["phase_id"]) == {"a", "b", "c"}  # b is not online: still there
    b = att[att["phase_id"] == "b"]
    assert list(b["cause"]) == ["after_horizon: grid"] and b["days"].iloc[0] == H - 150
    assert "export_quota" not in set(att["cause"])  # zero everywhere
    sums = att.groupby("phase_id")["days"].sum()
    assert sums["a"] == 100.0 and sums["c"] == 10.0  # online - planned
    summary = m.attribution_summary(att, by="country").set_index(["group", "cause"])
    assert summary.loc[("XX", "grid"), "mean_days"] == 70.0
    assert summary.loc[("XX", "permit_review"), "mean_days"] == 40.0
    assert summary.loc[("YY", "after_horizon: grid"), "mean_days"] == 850.0


def test_attribution_summary_sums_within_a_replication_first() -> None:
    frame = pd.concat(
        [_phases().assign(replication=r, online_day=[200.0 + r, np.nan, 50.0]) for r in range(3)]
    )
    frame["days_grid"] = np.where(frame["phase_id"] == "a", frame["online_day"] - 130.0, 0.0)
    att = m.delay_attribution(frame, H)
    out = m.attribution_summary(att, by=None).set_index("cause")
    assert (out["n"] == 3).all()  # one value per replication, not per phase
    # causes of all phases add up to the mean censored delay summed over phases
    total = (frame["online_day"].fillna(H) - frame["planned_day"]).sum() / 3
    assert out["mean_days"].sum() == pytest.approx(total)
    assert (out.loc[["grid"], "halfwidth"] > 0).all()
    assert out.loc[["grid"], "warning"].str.contains("normality").all()


def test_national_gw_reads_the_country_total() -> None:
    national = pd.DataFrame(
        {
            "replication": [0] * 6,
            "country": ["US", "US", "US", "JP", "JP", "JP"],
            "region": ["installed_base", "ercot", "all", "installed_base", "kansai", "all"],
            "year": [2027] * 6,
            "gw_online": [25.0, 10.0, 35.0, 2.5, 0.5, 3.0],
        }
    )
    by = m.national_gw(national, 2027).set_index("group")["gw_online"]
    assert by.to_dict() == {"JP": 3.0, "US": 35.0}
    assert m.national_gw(national, 2027, by=None)["gw_online"].iloc[0] == 38.0
    assert set(m.national_gw(national, 2027, by="region")["group"]) == {
        "installed_base",
        "ercot",
        "kansai",
    }
    with pytest.raises(ValueError, match="2030"):
        m.national_gw(national, 2030)


# ------------------------------------------------------------------------------ summaries
def test_warnings_fire_at_the_thresholds() -> None:
    assert m.replications_for_quantile(0.1) == 29 == m.replications_for_quantile(0.9)
    assert m.replications_for_quantile(0.5) == 6
    assert "no CI" in m.replication_warning(1, "mean")
    assert "normality" in m.replication_warning(9, "mean")
    assert m.replication_warning(10, "mean") == ""
    assert "extreme value" in m.replication_warning(28, "quantile", 0.1)
    assert "P10/P90" in m.replication_warning(28, "quantile", 0.9)
    assert m.replication_warning(29, "quantile", 0.1) == ""
    assert m.replication_warning(5, "median") and m.replication_warning(6, "median") == ""
    assert m.replication_warning(9, "proportion") and m.replication_warning(10, "proportion") == ""
    with pytest.raises(ValueError, match="needs q"):
        m.replication_warning(5, "quantile")


def test_summarise_keeps_inf_in_quantiles_and_censors_the_mean() -> None:
    frame = pd.DataFrame(
        {"replication": [0, 1, 2, 3], "group": "all", "day": [10.0, 20.0, np.inf, np.nan]}
    )
    out = m.summarise(frame, "day", censor_at=100.0).iloc[0]
    assert out["n"] == 3  # NaN is a missing replication; +inf is not
    assert out["mean"] == pytest.approx(130 / 3)
    assert out["p90"] == np.inf and out["p50"] == 20.0
    assert out["censored"] == 1 and "after the horizon" in out["warning"]
    assert "extreme value" in out["quantile_warning"]
    with pytest.raises(ValueError, match="censor_at"):
        m.summarise(frame, "day")
    with pytest.raises(ValueError, match="several rows"):
        m.summarise(pd.concat([frame, frame]), "day", censor_at=100.0)


def test_paired_ci_shrinks_with_positive_correlation() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(500.0, 50.0, 30)
    base = pd.DataFrame({"replication": range(30), "group": "all", "v": x})
    policy = base.assign(v=x - 20.0 + rng.normal(0, 5, 30))  # same streams, 20 d earlier
    unpaired = base.assign(v=rng.permutation(policy["v"].to_numpy()))  # correlation destroyed
    paired = m.paired(base, policy, "v").iloc[0]
    loose = m.paired(base, unpaired, "v").iloc[0]
    assert paired["diff_mean"] == pytest.approx(loose["diff_mean"])  # same values, other order
    assert paired["diff_mean"] == pytest.approx((policy["v"] - base["v"]).mean())
    assert paired["halfwidth"] < loose["halfwidth"] / 5
    assert paired["variance_ratio"] < 0.05 < loose["variance_ratio"]
    assert abs(paired["diff_mean"] + 20) < 2
    assert paired["warning"] == ""  # 30 replications are enough for everything
    assert paired["quantile_warning"] == ""


def test_paired_counts_censored_values_at_the_horizon() -> None:
    base = pd.DataFrame({"replication": [0, 1], "group": "all", "day": [np.inf, 300.0]})
    policy = base.assign(day=[400.0, 250.0])
    out = m.paired(base, policy, "day", censor_at=H).iloc[0]
    assert out["diff_mean"] == pytest.approx(((400 - H) + (250 - 300)) / 2)
    assert out["censored_base"] == 1 and out["censored_policy"] == 0
    assert "in base" in out["warning"]
    never = m.paired(base.assign(day=np.inf), policy.assign(day=np.inf), "day", censor_at=H)
    assert math.isnan(never["diff_mean"].iloc[0])  # unknown, not "no difference"
    assert "difference unknown" in never["warning"].iloc[0]


def test_inputs_that_would_mislead_are_refused() -> None:
    p = _phases()
    with pytest.raises(ValueError, match="beyond horizon"):
        m.mw_years_lost(p, 150.0)  # a came online at day 200: not this run's horizon
    with pytest.raises(ValueError, match="lacks column"):
        m.mw_years_lost(p.drop(columns="it_mw"), H)
    with pytest.raises(ValueError, match="by must be"):
        m.mw_years_lost(p, H, by="continent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="horizon_days"):
        m.headline_table(p)


def test_headline_differences_withhold_p_on_time_when_both_always_late() -> None:
    base = _reps([[120.0, 130.0, 140.0]])
    policy = _reps([[110.0, 115.0, 125.0]])
    out = m.headline_differences(base, policy, H, start=pd.Timestamp("2025-01-01"))
    row = out[(out["metric"] == "p_on_time") & (out["group"] == "all")].iloc[0]
    assert math.isnan(row["diff_mean"]) and "always late" in row["why_withheld"]
    full = out[(out["metric"] == "full_power_day") & (out["group"] == "all")].iloc[0]
    assert full["diff_mean"] == pytest.approx(-40 / 3)
    assert full["base_mean_date"] == pd.Timestamp("2025-01-01") + pd.Timedelta(days=130)


# ------------------------------------------------------------------------------ real runs
def test_headlines_of_a_single_run_and_a_batch(tmp_path: Path) -> None:
    run = simulate(load_scenario(TINY), 3)
    table = m.headline_table(run)
    assert set(table["group"]) == {"BB", "all"}
    full = table[(table["metric"] == "full_power_day") & (table["group"] == "all")].iloc[0]
    p = run.projects
    expected = (p["it_mw"] * p["online_day"].fillna(1461.0)).sum() / p["it_mw"].sum()
    assert full["mean"] == pytest.approx(expected)
    assert full["mean_date"] == run.start + pd.Timedelta(days=math.floor(expected))

    batch = run_batch(
        load_scenario(TINY),
        reps=2,
        seed=5,
        out=tmp_path / "b",
        backend=Backend("serial"),
        progress=False,
    )
    heads = m.headline_table(batch)
    metrics = set(heads["metric"])
    assert {"full_power_day", "day_90pct_online", "mw_years_lost", "p_on_time"} <= metrics
    assert {"gw_online_2028", "gw_online_2030"} <= metrics
    assert (
        heads.loc[heads["metric"] == "gw_online_2030", "note"].iloc[0] == "2030 is not in the run"
    )
    assert (heads.loc[heads["metric"] == "full_power_day", "n"] == 2).all()
    lost = heads[(heads["metric"] == "mw_years_lost") & (heads["group"] == "all")].iloc[0]
    per_rep = m.mw_years_lost(batch.projects, batch.horizon_days)["mw_years_lost"]
    assert lost["mean"] == pytest.approx(per_rep.mean())


def test_comparison_headlines_are_written_and_printed(tmp_path: Path) -> None:
    same = compare(TINY, TINY, reps=2, seed=4, out=tmp_path / "c", backend=Backend("serial"))
    heads = same.headlines()
    live = heads[heads["n"] > 0]
    assert (live["diff_mean"].fillna(0) == 0).all()  # identical streams: no difference
    written = same.write(tmp_path / "c" / "comparison")
    assert tmp_path / "c" / "comparison" / "headlines.csv" in written
    text = format_headlines(heads)
    assert "full_power_day" in text and "[1] n=2 < 10" in text
