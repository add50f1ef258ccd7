"""Working-time arithmetic, computed by hand: openings, jobs paused at closing, holidays,
overtime, working minutes, and the pauses read back from a job's start and end."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.calendars import (
    calendar_intervals,
    finish_job,
    intersect,
    job_pauses,
    merge,
    month_of_day,
    working_minutes,
)

DAY = 1440.0
OFFICE = [(7.0, 15.5)]  # 07:00-15:30, 510 minutes
WEEKDAYS = [0, 1, 2, 3, 4]


def at(day: int, hour: float) -> float:
    """Minutes since Monday 00:00 of ``day`` (0 = the first Monday) at ``hour``."""
    return day * DAY + hour * 60.0


def office(closed: list[int] | None = None, span: float = 4 * 7 * DAY) -> np.ndarray:
    return calendar_intervals(OFFICE, WEEKDAYS, closed or [], span)


def job(intervals: np.ndarray, t: float, pre: float, site: float, trip: float, overtime: float):
    return finish_job(
        intervals[:, 0].tolist(), intervals[:, 1].tolist(), t, pre, site, trip, overtime
    )


def test_office_hours_open_on_working_days_only() -> None:
    cal = office()
    assert cal[0].tolist() == [at(0, 7), at(0, 15.5)], f"Monday 07:00-15:30, got {cal[0]}"
    assert cal[4].tolist() == [at(4, 7), at(4, 15.5)], f"the fifth opening is Friday: {cal[4]}"
    assert cal[5].tolist() == [at(7, 7), at(7, 15.5)], f"after Friday comes Monday: {cal[5]}"
    assert len(cal) == 20, f"four weeks of five days should give 20 openings, got {len(cal)}"


def test_a_holiday_closes_its_day() -> None:
    cal = office(closed=[7])  # the second Monday
    assert cal[5].tolist() == [at(8, 7), at(8, 15.5)], f"Monday closed, Tuesday next: {cal[5]}"


def test_spans_of_a_day_and_touching_days_merge() -> None:
    lunch = calendar_intervals([(7, 12), (13, 15.5)], [0], [], DAY)
    assert lunch.tolist() == [[420.0, 720.0], [780.0, 930.0]], f"a lunch break: {lunch}"
    always = calendar_intervals([(0, 24)], range(7), [], 3 * DAY)
    assert always.tolist() == [[0.0, 3 * DAY]], f"round the clock is one interval: {always}"


def test_job_paused_at_closing_resumes_at_opening_with_the_trip() -> None:
    # Friday 14:00: 10 min to the site, 180 min there. 80 min done by 15:30, 100 left; Monday
    # 07:00 the crew drives 10 min back and finishes at 08:50.
    arrive, done, pauses, overtime = job(office(), at(4, 14), 10, 180, 10, 0)
    assert arrive == at(4, 14) + 10, f"first arrival Friday 14:10, got {arrive}"
    assert done == at(7, 7) + 10 + 100, f"done Monday 08:50 ({at(7, 8 + 50 / 60)}), got {done}"
    assert (pauses, overtime) == (1, 0.0), f"one pause and no overtime, got {pauses}, {overtime}"


def test_job_across_a_weekend_and_a_holiday() -> None:
    _, done, pauses, _ = job(office(closed=[7]), at(4, 14), 10, 180, 10, 0)
    assert done == at(8, 7) + 110, f"Monday is a holiday: done Tuesday 08:50, got {done}"
    assert pauses == 1, "a weekend and a holiday are one pause"


def test_a_long_job_pauses_every_evening() -> None:
    # Monday 07:00, 1200 minutes of work with a 15-minute trip: 510 on Monday, Tuesday
    # 15 + 495, Wednesday 15 + 195: done at 10:30.
    _, done, pauses, _ = job(office(), at(0, 7), 0, 1200, 15, 0)
    assert done == at(2, 7) + 15 + 195, f"done Wednesday 10:30, got {done}"
    assert pauses == 2


def test_overtime_lets_a_job_finish_when_the_rest_fits() -> None:
    start = at(4, 14)
    _, done, pauses, overtime = job(office(), start, 10, 180, 10, 100)
    assert (done, pauses, overtime) == (start + 190, 0, 100.0), (
        f"100 min left at closing fit into 100 min of overtime: got {done}, {pauses}, {overtime}"
    )
    _, done, pauses, _ = job(office(), start, 10, 180, 10, 99)
    assert (done, pauses) == (at(7, 7) + 110, 1), "with 99 min of overtime it pauses"


def test_overtime_never_runs_into_the_next_opening() -> None:
    lunch = calendar_intervals([(7, 12), (13, 15.5)], WEEKDAYS, [], 7 * DAY)
    # 11:30, 110 minutes: 30 done by 12:00, 80 left; 90 of overtime would end at 13:20, past
    # the 13:00 opening: the job pauses over lunch and resumes at 13:00 with a 10 min trip
    _, done, pauses, overtime = job(lunch, at(0, 11.5), 0, 110, 10, 90)
    assert (done, pauses, overtime) == (at(0, 13) + 90, 1, 0.0), f"{done}, {pauses}, {overtime}"
    _, done, pauses, overtime = job(lunch, at(0, 11.5), 0, 80, 10, 90)
    assert (done, pauses, overtime) == (at(0, 12) + 50, 0, 50.0), "50 min into the lunch break"


def test_a_crew_on_its_way_at_closing_starts_the_trip_again() -> None:
    arrive, done, pauses, _ = job(office(), at(4, 15.5) - 5, 10, 60, 10, 0)
    assert arrive == at(7, 7) + 10, f"no arrival Friday: Monday 07:10, got {arrive}"
    assert (done, pauses) == (at(7, 7) + 70, 1), f"done Monday 08:10, got {done}"


def test_a_job_called_when_closed_waits_for_the_opening() -> None:
    arrive, done, pauses, _ = job(office(), at(5, 10), 5, 30, 5, 0)  # Saturday 10:00
    assert (arrive, done, pauses) == (at(7, 7) + 5, at(7, 7) + 35, 0), (
        f"Saturday's job starts Monday 07:00: got {arrive}, {done}, {pauses}"
    )


def test_round_the_clock_runs_straight_through() -> None:
    cal = np.array([[0.0, 1e9]])
    assert job(cal, 100.0, 7.0, 50.0, 7.0, 0) == (107.0, 157.0, 0, 0.0)


def test_working_minutes_skip_nights_weekends_and_holidays() -> None:
    cal = office(closed=[7])
    took = working_minutes(cal, np.array([at(4, 14)]), np.array([at(8, 8 + 50 / 60)]))
    assert took[0] == pytest.approx(90 + 110), f"Friday 90 + Tuesday 110 minutes, got {took}"
    open_end = working_minutes(cal, np.array([at(0, 8)]), np.array([np.nan]))
    assert np.isnan(open_end[0]), "an open request has no working time"


def test_pauses_and_overtime_read_back_from_start_and_end() -> None:
    cal = office()
    starts = np.array([at(4, 14), at(4, 14), at(0, 7), at(1, 9)])
    ends = np.array([at(7, 8 + 50 / 60), at(4, 14) + 190, at(2, 10.5), at(1, 15.5)])
    pauses, overtime = job_pauses(cal, starts, ends)
    assert pauses.tolist() == [1, 0, 2, 0], f"pauses read back: {pauses}"
    assert overtime.tolist() == pytest.approx([0, 100, 0, 0]), f"overtime read back: {overtime}"


def test_intersect_keeps_duty_inside_the_calendar() -> None:
    duty = np.array([[at(0, 12), at(1, 12)]])  # Monday noon to Tuesday noon
    got = intersect(duty, office())
    assert got.tolist() == [[at(0, 12), at(0, 15.5)], [at(1, 7), at(1, 12)]], f"{got}"
    assert merge(np.array([[5.0, 6.0], [1.0, 2.0], [2.0, 3.0]])).tolist() == [[1, 3], [5, 6]]


def test_months_of_the_run_follow_the_dates() -> None:
    import datetime as dt

    months = month_of_day(dt.date(2024, 1, 1), 366)
    assert (months[30], months[31]) == (0, 1), "1 February 2024 is day 31"
    assert (months[59], months[60]) == (1, 2), "2024 is a leap year: 1 March is day 60"
    assert months[365] == 11, "31 December 2024 is day 365"


@settings(max_examples=300, deadline=None)
@given(
    hours=st.sampled_from([OFFICE, [(7, 12), (13, 15.5)], [(6, 10), (10.25, 14), (20, 23)]]),
    start=st.floats(0, 14 * DAY),
    pre=st.floats(0, 120),
    site=st.floats(0, 3000),
    trip=st.floats(0, 60),
    overtime=st.floats(0, 240),
)
def test_finish_job_invariants(
    hours: list[tuple[float, float]],
    start: float,
    pre: float,
    site: float,
    trip: float,
    overtime: float,
) -> None:
    cal = calendar_intervals(hours, WEEKDAYS, [], 60 * DAY)
    arrive, done, pauses, worked_late = job(cal, start, pre, site, trip, overtime)
    assert start <= arrive <= done, "the job starts, arrives and ends in order"
    assert worked_late <= overtime + 1e-9, "overtime stays within the allowance"
    read_pauses, read_overtime = job_pauses(cal, np.array([start]), np.array([done]))
    assert read_pauses[0] == pauses, "the pauses are read back from start and end"
    assert read_overtime[0] == pytest.approx(worked_late, abs=1e-6), "so is the overtime"
    inside = working_minutes(cal, np.array([start]), np.array([done]))[0]
    work = inside + worked_late
    # a crew stopped on its way starts again with the trip (not its turnout): at least the
    # site's minutes and one approach were worked
    assert work >= site + min(pre, trip) - 1e-6, "at least the site work and a trip"
    if pauses == 0:
        assert work == pytest.approx(pre + site, abs=1e-6), "unpaused: exactly the job"
    assert work <= pre + site + pauses * trip + 1e-6, "and no more than them and the trips back"
