"""Validation of :class:`sim.queues.ServiceQueue` against queueing theory.

Written as a simulation validation study:

* every estimate comes from ``R`` independent replications, each seeded by a
  child of one root :class:`numpy.random.SeedSequence` through
  :class:`sim.random.StreamFactory` (streams ``arrivals`` and ``service``);
* each replication starts empty, runs a warm-up whose customers are discarded,
  then records every customer who arrives during the observation horizon (the
  run is drained, so no long-waiting customer is censored);
* the point estimate is the mean of the ``R`` replication means and the 95 %
  confidence interval uses Student's t with ``R - 1`` degrees of freedom;
* a check passes when the analytic value lies inside that interval *and* the
  interval is tight (half-width under 5 % of the analytic value), so a wide,
  uninformative interval cannot pass by accident.

Running ``python tests/sim/test_queue_validation.py`` prints the table of
figures (analytic, simulated mean, CI) for the documentation.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import simpy
from scipy import stats

from paxsim.sim.arrivals import poisson_arrivals
from paxsim.sim.queues import QueueLog, ServiceQueue
from paxsim.sim.random import StreamFactory, name_to_key

ROOT_SEED = 20_240_612
CONFIDENCE = 0.95
MAX_REL_HALF_WIDTH = 0.05


# --------------------------------------------------------------------------- theory
def erlang_c(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival has to wait in an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    if not rho < 1:
        raise ValueError("Erlang C needs rho < 1")
    # numerically stable: Erlang B by recursion, then C from B
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1 - rho * (1 - b))


def erlang_c_direct(lam: float, mu: float, c: int) -> float:
    """The textbook closed form, used to cross-check :func:`erlang_c`."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lambda)."""
    return erlang_c(lam, mu, c) / (c * mu - lam)


def mm1_sojourn(lam: float, mu: float) -> float:
    return 1.0 / (mu - lam)


# --------------------------------------------------------------------------- study design
@dataclass(frozen=True)
class Setting:
    label: str
    lam: float
    mu: float
    c: int
    replications: int
    warmup_days: float
    horizon_days: float  # observation horizon after warm-up

    @property
    def rho(self) -> float:
        return self.lam / (self.c * self.mu)


SETTINGS = {
    s.label: s
    for s in (
        # rho = 0.8, one server: about 16,000 observed customers per replication
        Setting("M/M/1 rho=0.8", lam=0.8, mu=1.0, c=1, replications=20,
                warmup_days=500.0, horizon_days=20_000.0),
        # rho = 0.7, three servers: about 12,600 observed customers per replication
        Setting("M/M/3 rho=0.7", lam=2.1, mu=1.0, c=3, replications=20,
                warmup_days=200.0, horizon_days=6_000.0),
        # rho = 0.5, one server: a second load point for the sojourn time
        Setting("M/M/1 rho=0.5", lam=0.5, mu=1.0, c=1, replications=10,
                warmup_days=100.0, horizon_days=8_000.0),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float
    replications: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}] (R={self.replications})"


def confidence_interval(rep_means: list[float] | np.ndarray) -> Estimate:
    x = np.asarray(rep_means, dtype=float)
    r = len(x)
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, r - 1)
    return Estimate(float(x.mean()), float(t * x.std(ddof=1) / math.sqrt(r)), r)


def validation_stream(factory: StreamFactory, name: str) -> np.random.Generator:
    """The stream the published validation figures were drawn from (docs/model.md).

    Derived as StreamFactory derived streams before names were typed, so the
    figures stay reproducible: the seeds were fixed before the results were seen.
    """
    root = np.random.SeedSequence(factory.entropy, spawn_key=factory.root_key + name_to_key(name))
    return np.random.Generator(np.random.PCG64(root))


def replication_factories(label: str, n: int) -> list[StreamFactory]:
    """One StreamFactory per replication, from independent SeedSequence children."""
    root = np.random.SeedSequence(ROOT_SEED, spawn_key=(zlib.crc32(label.encode()),))
    return [StreamFactory(child) for child in root.spawn(n)]


def run_mmc(
    lam: float, mu: float, c: int, factory: StreamFactory, until: float
) -> tuple[QueueLog, float]:
    """One M/M/c run: Poisson arrivals on [0, until], drained; returns the log and end time."""
    arrivals = validation_stream(factory, "arrivals")
    service = validation_stream(factory, "service")
    env = simpy.Environment()
    log = QueueLog()
    queue = ServiceQueue(env, "mmc", c, log)

    def customer(i: int) -> Generator[simpy.Event, Any, Any]:
        return queue.serve(f"c{i}", float(service.exponential(1.0 / mu)))

    env.process(poisson_arrivals(env, lam, arrivals, customer, until=until))
    env.run()
    return log, float(env.now)


@dataclass(frozen=True)
class RepStats:
    wq: float
    w: float
    p_wait: float
    n: int


@cache
def study(label: str) -> list[RepStats]:
    """Run (once per session) the replications of one setting."""
    s = SETTINGS[label]
    out = []
    for factory in replication_factories(label, s.replications):
        log, _ = run_mmc(s.lam, s.mu, s.c, factory, s.warmup_days + s.horizon_days)
        rec = np.array(
            [(r.arrival, r.start, r.end) for r in log.records if r.arrival >= s.warmup_days]
        )
        wq = rec[:, 1] - rec[:, 0]
        w = rec[:, 2] - rec[:, 0]
        out.append(RepStats(float(wq.mean()), float(w.mean()), float((wq > 0).mean()), len(rec)))
    return out


def estimate(label: str, field: str) -> Estimate:
    return confidence_interval([getattr(r, field) for r in study(label)])


def assert_validated(analytic: float, est: Estimate) -> None:
    assert est.contains(analytic), f"analytic {analytic:.4f} outside simulated CI {est}"
    assert est.half_width < MAX_REL_HALF_WIDTH * analytic, (
        f"CI too wide to validate anything: half-width {est.half_width:.4f} "
        f"vs analytic {analytic:.4f}"
    )


# --------------------------------------------------------------------------- theory self-checks
@pytest.mark.parametrize(("lam", "mu", "c"), [(0.8, 1, 1), (2.4, 1, 3), (7.0, 0.5, 20)])
def test_erlang_c_recursion_matches_closed_form(lam: float, mu: float, c: int) -> None:
    assert erlang_c(lam, mu, c) == pytest.approx(erlang_c_direct(lam, mu, c), rel=1e-12)


def test_erlang_c_reduces_to_mm1() -> None:
    # one server: P(wait) = rho and Wq = rho / (mu - lambda)
    assert erlang_c(0.8, 1.0, 1) == pytest.approx(0.8)
    assert mmc_wq(0.8, 1.0, 1) == pytest.approx(4.0)
    assert mmc_wq(2.4, 1.0, 3) == pytest.approx(1.0786516853932584)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("label", ["M/M/1 rho=0.8", "M/M/3 rho=0.7"])
def test_mmc_mean_wait_in_queue_matches_erlang_c(label: str) -> None:
    s = SETTINGS[label]
    assert_validated(mmc_wq(s.lam, s.mu, s.c), estimate(label, "wq"))


@pytest.mark.parametrize("label", ["M/M/1 rho=0.8", "M/M/3 rho=0.7"])
def test_mmc_probability_of_waiting_matches_erlang_c(label: str) -> None:
    s = SETTINGS[label]
    assert_validated(erlang_c(s.lam, s.mu, s.c), estimate(label, "p_wait"))


@pytest.mark.parametrize("label", ["M/M/1 rho=0.5", "M/M/1 rho=0.8"])
def test_mm1_mean_sojourn_is_one_over_mu_minus_lambda(label: str) -> None:
    s = SETTINGS[label]
    assert_validated(mm1_sojourn(s.lam, s.mu), estimate(label, "w"))


@pytest.mark.parametrize("label", ["M/M/3 rho=0.7"])
def test_mmc_mean_sojourn_is_wait_plus_service(label: str) -> None:
    s = SETTINGS[label]
    assert_validated(mmc_wq(s.lam, s.mu, s.c) + 1 / s.mu, estimate(label, "w"))


def test_replications_are_independent_and_reproducible() -> None:
    label = "M/M/1 rho=0.5"
    reps = study(label)
    assert len({r.wq for r in reps}) == len(reps)  # every replication differs
    again = replication_factories(label, 2)
    log, _ = run_mmc(0.5, 1.0, 1, again[0], 500.0)
    log2, _ = run_mmc(0.5, 1.0, 1, replication_factories(label, 2)[0], 500.0)
    assert log.records == log2.records


# --------------------------------------------------------------------------- Little's law
def time_average_in_system(arrival: np.ndarray, leave: np.ndarray, t0: float, t1: float) -> float:
    """Integrate N(t) = #arrived - #left over [t0, t1] by sweeping the event times."""
    times = np.concatenate([arrival, leave, [t0, t1]])
    steps = np.concatenate([np.ones(len(arrival)), -np.ones(len(leave)), [0.0, 0.0]])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    n_after = np.cumsum(steps)  # N on [times[k], times[k+1])
    dt = np.diff(np.clip(times, t0, t1))
    return float(np.sum(n_after[:-1] * dt) / (t1 - t0))


@pytest.fixture(scope="module")
def long_run() -> tuple[Any, float, float]:
    horizon = 15_000.0
    factory = StreamFactory(np.random.SeedSequence(ROOT_SEED, spawn_key=(7,)))
    log, end = run_mmc(1.6, 1.0, 2, factory, horizon)  # M/M/2, rho = 0.8
    return log.to_frame(), horizon, end


def test_littles_law_holds_exactly_on_a_drained_run(long_run: tuple[Any, float, float]) -> None:
    frame, _, end = long_run
    arrival = frame["arrival"].to_numpy()
    departure = frame["end"].to_numpy()
    start = frame["start"].to_numpy()
    assert len(frame) > 20_000
    lam_hat = len(frame) / end
    # system: L = lambda W; line only: Lq = lambda Wq; servers: Ls = lambda * service
    l_sys = time_average_in_system(arrival, departure, 0.0, end)
    l_queue = time_average_in_system(arrival, start, 0.0, end)
    l_serv = time_average_in_system(start, departure, 0.0, end)
    assert l_sys == pytest.approx(lam_hat * (departure - arrival).mean(), rel=1e-9)
    assert l_queue == pytest.approx(lam_hat * (start - arrival).mean(), rel=1e-9)
    assert l_serv == pytest.approx(lam_hat * (departure - start).mean(), rel=1e-9)
    # servers are busy rho of the time: L_service = c * utilisation ~ lambda / mu
    assert l_serv == pytest.approx(1.6, rel=0.02)


def test_littles_law_on_an_observation_window(long_run: tuple[Any, float, float]) -> None:
    """Over a window cut mid-run (customers in the system at both ends), L ~ lambda W."""
    frame, horizon, _ = long_run
    t0, t1 = 2_000.0, horizon - 2_000.0
    inside = frame[(frame["arrival"] >= t0) & (frame["arrival"] < t1)]
    l_window = time_average_in_system(frame["arrival"].to_numpy(), frame["end"].to_numpy(), t0, t1)
    lam_hat = len(inside) / (t1 - t0)
    w_hat = float((inside["end"] - inside["arrival"]).mean())
    assert l_window == pytest.approx(lam_hat * w_hat, rel=0.01)


# --------------------------------------------------------------------------- cluster windows
def periodic_window(period: float) -> Callable[[float], float]:
    """Windows at 0, T, 2T, ...: the first one at or after ``now``."""
    return lambda now: math.ceil(now / period - 1e-12) * period


def model_window(period: float) -> Callable[[float], float]:
    """``GridRegionGate.next_window`` on a stand-in carrying only its spec fields."""
    interconnection = pytest.importorskip("paxsim.models.grid.studies")
    gate = SimpleNamespace(spec=SimpleNamespace(cluster_cycle_days=period, first_window_days=0.0))
    return lambda now: interconnection.Studies.next_window(gate, now)


def run_cluster_windows(
    factory: StreamFactory,
    rate: float,
    period: float,
    study_days: float,
    until: float,
    next_window: Callable[[float], float],
) -> tuple[np.ndarray, QueueLog]:
    """Requests wait for the next window, then an infinite-server study of fixed length."""
    env = simpy.Environment()
    log = QueueLog()
    studies = ServiceQueue(env, "cluster-study", None, log)
    submitted: dict[str, float] = {}

    def request(i: int) -> Generator[simpy.Event, Any, None]:
        rid = f"r{i}"
        submitted[rid] = env.now
        window = next_window(env.now)
        if window > env.now:
            yield env.timeout(window - env.now)
        yield from studies.serve(rid, study_days)

    env.process(
        poisson_arrivals(env, rate, validation_stream(factory, "arrivals"), request, until=until)
    )
    env.run()
    rows = np.array([(submitted[r.request_id], r.end) for r in log.records])
    return rows, log


CLUSTER = SimpleNamespace(
    period=90.0, study=150.0, rate=0.5, periods=40, warmup_periods=1, replications=10
)
WINDOWS = {"helper": periodic_window, "GridRegionGate": model_window}


def cluster_study(window: str) -> Estimate:
    """Mean submission-to-study-end time over replications, checking each record."""
    c = CLUSTER
    next_window = WINDOWS[window](c.period)
    warmup = c.warmup_periods * c.period
    rep_means = []
    root = np.random.SeedSequence(ROOT_SEED, spawn_key=(90,))
    for child in root.spawn(c.replications):
        rows, log = run_cluster_windows(
            StreamFactory(child),
            c.rate,
            c.period,
            c.study,
            warmup + c.periods * c.period,
            next_window,
        )
        frame = log.to_frame()
        # every study starts on a window and runs exactly S with no queueing
        phase = np.mod(frame["start"].to_numpy() / c.period + 0.5, 1.0) - 0.5
        assert np.abs(phase).max() < 1e-9
        assert np.allclose(frame["service"], c.study)
        assert np.all(frame["wait"] == 0)
        kept = rows[rows[:, 0] >= warmup]
        rep_means.append(float((kept[:, 1] - kept[:, 0]).mean()))
    return confidence_interval(rep_means)


@pytest.mark.parametrize("window", list(WINDOWS))
def test_cluster_window_mean_total_time_is_half_period_plus_study(window: str) -> None:
    assert_validated(CLUSTER.period / 2 + CLUSTER.study, cluster_study(window))


@pytest.mark.parametrize(
    ("now", "expected"),
    [(0.0, 0.0), (1e-6, 90.0), (45.0, 90.0), (90.0, 90.0), (90.5, 180.0), (179.9, 180.0)],
)
def test_model_next_window_with_first_window_at_zero(now: float, expected: float) -> None:
    assert model_window(90.0)(now) == pytest.approx(expected)
    assert periodic_window(90.0)(now) == pytest.approx(expected)


def test_model_next_window_first_window_and_no_clustering() -> None:
    interconnection = pytest.importorskip("paxsim.models.grid.studies")
    nw = interconnection.Studies.next_window

    def gate(cycle: float, first: float) -> SimpleNamespace:
        return SimpleNamespace(
            spec=SimpleNamespace(cluster_cycle_days=cycle, first_window_days=first)
        )

    # before the first window: wait for it; after: every cycle from it
    assert nw(gate(30.0, 100.0), 5.0) == 100.0
    assert nw(gate(30.0, 100.0), 100.0) == 100.0
    assert nw(gate(30.0, 100.0), 101.0) == pytest.approx(130.0)
    assert nw(gate(30.0, 100.0), 160.0) == pytest.approx(160.0)
    # no clustering: served at once
    assert nw(gate(0.0, 100.0), 42.0) == 42.0
    # never returns a window materially in the past
    for now in np.linspace(0, 1000, 2001):
        w = nw(gate(30.0, 100.0), float(now))
        assert now - 1e-9 <= w < max(now, 100.0) + 30.0


# --------------------------------------------------------------------------- report
def report() -> str:  # pragma: no cover - documentation helper
    lines = ["quantity | analytic | simulated mean | 95 % CI | R | rel. half-width"]
    rows: list[tuple[str, float, Estimate]] = []
    for label, s in SETTINGS.items():
        rows.append((f"{label} Wq", mmc_wq(s.lam, s.mu, s.c), estimate(label, "wq")))
        rows.append((f"{label} P(wait)", erlang_c(s.lam, s.mu, s.c), estimate(label, "p_wait")))
        rows.append((f"{label} W", mmc_wq(s.lam, s.mu, s.c) + 1 / s.mu, estimate(label, "w")))
    rows.append(
        ("cluster window T/2+S", CLUSTER.period / 2 + CLUSTER.study, cluster_study("helper"))
    )
    for name, analytic, est in rows:
        lines.append(
            f"{name} | {analytic:.4f} | {est.mean:.4f} | [{est.low:.4f}, {est.high:.4f}] | "
            f"{est.replications} | {est.half_width / analytic:.2%}"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(report())
