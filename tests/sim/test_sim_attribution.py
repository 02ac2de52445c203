"""Critical-path milestones, join, clipping and delay attribution."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxsim.sim.attribution import Milestone, Segment, attribute, clipped, join


def test_segment_actual_and_excess() -> None:
    seg = Segment("permit", 10.0, 25.0, 12.0, "EPA")
    assert seg.actual == 15.0
    assert seg.excess == 3.0
    assert Segment("x", 0.0, 5.0, 8.0).excess == -3.0
    assert Segment("x", 0.0, 1.0, 1.0).detail == ""


def test_origin_has_an_empty_path() -> None:
    m = Milestone.origin(42.0)
    assert m.time == 42.0
    assert m.path == ()
    assert m.days_by_cause() == {}
    assert m.nominal_length() == 0.0


def test_then_appends_a_segment_from_the_current_time() -> None:
    m = Milestone.origin(5.0).then("permit", 20.0, 10.0, "EPA").then("build", 50.0, 30.0)
    assert m.time == 50.0
    assert m.path == (
        Segment("permit", 5.0, 20.0, 10.0, "EPA"),
        Segment("build", 20.0, 50.0, 30.0, ""),
    )


def test_then_does_not_mutate_the_original() -> None:
    base = Milestone.origin(0.0)
    base.then("a", 1.0, 1.0)
    assert base.path == ()


def test_then_rejects_going_back_in_time() -> None:
    with pytest.raises(ValueError, match="ends"):
        Milestone.origin(10.0).then("permit", 9.0, 1.0)
    # a rounding-sized step back is tolerated; zero-length segments are fine
    Milestone.origin(10.0).then("permit", 10.0 - 1e-12, 0.0)
    assert Milestone.origin(10.0).then("x", 10.0, 0.0).path[0].actual == 0.0


def test_by_cause_sums_repeated_causes() -> None:
    m = (
        Milestone.origin(0.0)
        .then("permit", 10.0, 8.0)
        .then("build", 30.0, 20.0)
        .then("permit", 35.0, 1.0)
    )
    assert m.days_by_cause() == {"permit": 15.0, "build": 20.0}
    assert m.excess_by_cause() == {"permit": 6.0, "build": 0.0}
    assert m.nominal_length() == 29.0


def test_join_keeps_the_latest() -> None:
    o = Milestone.origin(0.0)
    a = o.then("magnets", 40.0, 30.0)
    b = o.then("chips", 55.0, 50.0)
    c = o.then("build", 50.0, 50.0)
    assert join(a, b, c) is b
    assert join(c, a) is c
    assert join(a) is a


def test_join_tie_goes_to_the_first() -> None:
    o = Milestone.origin(0.0)
    a = o.then("a", 10.0, 10.0)
    b = o.then("b", 10.0, 5.0)
    assert join(a, b) is a
    assert join(b, a) is b


def test_join_needs_an_input() -> None:
    with pytest.raises(ValueError):
        join()


def test_clipped_keeps_the_part_after_from_time() -> None:
    m = (
        Milestone.origin(0.0)
        .then("permit:A", 10.0, 8.0, "A")
        .then("permit:B", 30.0, 15.0, "B")
        .then("permit:C", 45.0, 10.0, "C")
    )
    c = clipped(m, 20.0, 18.0)
    assert c.time == 45.0
    assert c.path == (
        Segment("permit:B", 20.0, 30.0, 0.0, "B"),
        Segment("permit:C", 30.0, 45.0, 18.0, "C"),
    )
    assert c.nominal_length() == 18.0
    assert sum(c.days_by_cause().values()) == 25.0


def test_clipped_at_a_segment_boundary_drops_that_segment() -> None:
    m = Milestone.origin(0.0).then("a", 10.0, 10.0).then("b", 20.0, 10.0)
    assert clipped(m, 10.0, 7.0).path == (Segment("b", 10.0, 20.0, 7.0),)


def test_clipped_when_already_done_is_an_origin() -> None:
    m = Milestone.origin(0.0).then("a", 10.0, 10.0)
    assert clipped(m, 10.0, 5.0) == Milestone.origin(10.0)
    assert clipped(m, 50.0, 5.0) == Milestone.origin(50.0)


def test_clipped_from_before_the_path_keeps_everything() -> None:
    m = Milestone.origin(0.0).then("a", 10.0, 4.0).then("b", 20.0, 6.0)
    c = clipped(m, 0.0, 9.0)
    assert [s.actual for s in c.path] == [10.0, 10.0]
    assert c.nominal_length() == 9.0


def test_attribute_worked_example() -> None:
    # plan: permit 100 + construction 200 + grid 300 = 600 on this branch; the plan's
    # longest branch is 630, so 30 days of float
    m = (
        Milestone.origin(0.0)
        .then("permit", 150.0, 100.0)  # +50
        .then("construction", 350.0, 200.0)  # on time
        .then("grid", 750.0, 300.0)  # +100
    )
    days, unused = attribute(m.path, 30.0)
    assert days == {"permit": 20.0, "construction": 0.0, "grid": 100.0}
    assert unused == 0.0
    assert sum(days.values()) + unused == 750.0 - 630.0


def test_attribute_float_absorbs_in_time_order() -> None:
    m = Milestone.origin(0.0).then("a", 12.0, 10.0).then("b", 25.0, 10.0)  # +2, +3
    days, unused = attribute(m.path, 4.0)
    assert days == {"a": 0.0, "b": 1.0}
    assert unused == 0.0


def test_attribute_ahead_of_plan_leaves_unused_float() -> None:
    m = Milestone.origin(0.0).then("a", 11.0, 10.0).then("b", 17.0, 10.0)  # +1, -3
    days, unused = attribute(m.path, 5.0)
    assert days == {"a": 0.0, "b": -4.0}
    assert unused == -4.0
    assert sum(days.values()) + unused == pytest.approx(17.0 - 25.0)


def test_attribute_without_float_is_the_excess() -> None:
    m = Milestone.origin(0.0).then("a", 12.0, 10.0).then("b", 20.0, 10.0).then("a", 25.0, 1.0)
    days, unused = attribute(m.path, 0.0)
    assert days == m.excess_by_cause()
    assert unused == 0.0


def test_attribute_with_negative_float_keeps_the_identity() -> None:
    # a critical branch whose nominal exceeds the plan: no absorption, unused is positive
    m = Milestone.origin(0.0).then("a", 12.0, 10.0)
    days, unused = attribute(m.path, -3.0)
    assert days == {"a": 2.0}
    assert unused == 3.0
    assert sum(days.values()) + unused == 12.0 - (10.0 - 3.0)


def test_attribute_of_an_empty_path() -> None:
    assert attribute((), 7.0) == ({}, -7.0)


# --------------------------------------------------------------------------- properties
times = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)
steps = st.lists(
    st.tuples(st.sampled_from(["permit", "build", "grid", "magnets", "chips"]), times, times),
    max_size=12,
)


def build(origin: float, spec: list[tuple[str, float, float]]) -> Milestone:
    m = Milestone.origin(origin)
    for cause, duration, nominal in spec:
        m = m.then(cause, m.time + duration, nominal)
    return m


@settings(max_examples=200, deadline=None, database=None)
@given(origin=times, spec=steps, float_days=times)
def test_attribute_sums_exactly_to_the_delay(
    origin: float, spec: list[tuple[str, float, float]], float_days: float
) -> None:
    m = build(origin, spec)
    days, unused = attribute(m.path, float_days)
    actual_length = m.time - origin
    planned_length = m.nominal_length() + float_days
    scale = max(1.0, actual_length, planned_length)
    assert sum(days.values()) + unused == pytest.approx(
        actual_length - planned_length, abs=1e-9 * scale
    )
    assert unused <= 0.0
    if unused < 0:  # float left over only when the entity beat its plan:
        # every positive excess was absorbed, so no cause is charged a delay
        assert all(d <= 0.0 for d in days.values())
        assert actual_length - planned_length <= unused + 1e-9 * scale
    # absorption only ever reduces a cause's excess, and never below zero from above
    excess = m.excess_by_cause()
    assert set(days) == set(excess)
    for cause, d in days.items():
        assert d <= excess[cause] + 1e-9 * scale
    assert sum(excess.values()) - sum(days.values()) == pytest.approx(
        float_days + unused, abs=1e-9 * scale
    )


@settings(max_examples=100, deadline=None, database=None)
@given(origin=times, spec=steps)
def test_path_tiles_origin_to_time(origin: float, spec: list[tuple[str, float, float]]) -> None:
    m = build(origin, spec)
    assert sum(m.days_by_cause().values()) == pytest.approx(m.time - origin, abs=1e-6)
    for a, b in pairwise(m.path):
        assert a.end == b.start


@settings(max_examples=150, deadline=None, database=None)
@given(origin=times, spec=steps, cut=st.floats(0.0, 1.0), nominal_total=times)
def test_clipped_tiles_from_time_to_time(
    origin: float, spec: list[tuple[str, float, float]], cut: float, nominal_total: float
) -> None:
    m = build(origin, spec)
    from_time = origin + cut * (m.time - origin)
    c = clipped(m, from_time, nominal_total)
    assert c.time == max(m.time, from_time)
    total = sum(c.days_by_cause().values())
    if m.time > from_time:
        assert total == pytest.approx(m.time - from_time, abs=1e-6)
        assert c.path[0].start == pytest.approx(from_time)
        assert c.nominal_length() == nominal_total
        assert all(s.start >= from_time for s in c.path)
    else:
        assert c == Milestone.origin(from_time)


@settings(max_examples=100, deadline=None, database=None)
@given(origin=times, branches=st.lists(steps, min_size=1, max_size=4))
def test_join_is_the_max_and_keeps_its_path(
    origin: float, branches: list[list[tuple[str, float, float]]]
) -> None:
    ms = [build(origin, b) for b in branches]
    j = join(*ms)
    assert j.time == max(m.time for m in ms)
    assert j is next(m for m in ms if m.time == j.time)


# ------------------------------------------------------------------ found by mutation testing
def test_clipped_before_a_late_first_segment_adds_an_opaque_head() -> None:
    # The path starts after from_time: the gap is charged to the first cause, so
    # the clipped path still tiles from_time .. time.
    m = Milestone(
        30.0, (Segment("permit_queue", 12.0, 20.0, 5.0), Segment("construction", 20.0, 30.0, 8.0))
    )
    c = clipped(m, 10.0, 9.0)
    assert c.path == (
        Segment("permit_queue", 10.0, 12.0, 0.0),
        Segment("permit_queue", 12.0, 20.0, 0.0),
        Segment("construction", 20.0, 30.0, 9.0),
    )


def test_clipped_milestone_without_a_path_is_one_wait() -> None:
    c = clipped(Milestone(30.0, ()), 10.0, 4.0)
    assert c == Milestone(30.0, (Segment("wait", 10.0, 30.0, 4.0),))
