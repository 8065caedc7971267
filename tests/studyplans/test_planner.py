"""The deterministic planner on its own: order kept, the lightest pace that fits, long
items split or given a day of their own, and the refusal that says what would fit."""

import pytest

from syllabus.studyplans.planner import (
    MIN_DAILY_MINUTES,
    DoesNotFit,
    PlanRequest,
    Work,
    lay_out,
    sequential,
)


def lesson(name: str, minutes: int) -> Work:
    return Work("lesson", f"lesson:{name}", minutes, True)


def sitting(name: str, minutes: int) -> Work:
    return Work("quiz", f"quiz:{name}", minutes, False)


def practice(name: str, minutes: int) -> Work:
    return Work("practice", f"practice:{name}", minutes, True, optional=True)


def days(request: PlanRequest) -> list[list[tuple[str, int, int]]]:
    """The schedule as days of (ref, minutes, part)."""
    schedule = sequential(request)
    out: list[list[tuple[str, int, int]]] = []
    for item in schedule.items:
        while len(out) <= item.day:
            out.append([])
        out[item.day].append((item.work.ref, item.minutes, item.part))
    return out


def test_time_to_spare_gives_an_even_light_pace_in_order() -> None:
    work = [lesson(f"l{n}", 20) for n in range(6)]  # 120 minutes over 10 days
    schedule = sequential(PlanRequest(work=work, days=10, minutes_per_day=90))
    assert schedule.daily_minutes == MIN_DAILY_MINUTES  # not 90: there is time
    assert [(i.work.ref, i.day) for i in schedule.items] == [(f"lesson:l{n}", n) for n in range(6)]


def test_little_time_packs_up_to_minutes_per_day_and_no_more() -> None:
    work = [lesson(f"l{n}", 20) for n in range(6)]  # 120 minutes, 2 days
    schedule = sequential(PlanRequest(work=work, days=2, minutes_per_day=60))
    assert schedule.daily_minutes == 60
    loads: dict[int, int] = {}
    for item in schedule.items:
        loads[item.day] = loads.get(item.day, 0) + item.minutes
    assert loads == {0: 60, 1: 60}


def test_the_pace_is_the_smallest_that_fits() -> None:
    work = [lesson("a", 25), lesson("b", 25), lesson("c", 25), lesson("d", 25)]
    # 3 days: at 49 minutes a day only one 25-minute lesson fits a day (4 days), at 50 two.
    schedule = sequential(PlanRequest(work=work, days=3, minutes_per_day=120))
    assert schedule.daily_minutes == 50
    assert [i.day for i in schedule.items] == [0, 0, 1, 1]


def test_a_long_lesson_is_split_into_equal_parts_on_consecutive_days() -> None:
    plan = days(
        PlanRequest(work=[lesson("a", 10), lesson("long", 100)], days=5, minutes_per_day=40)
    )
    # 110 minutes in 5 days: the pace is the 30-minute floor, so 100 minutes are 4 x 25.
    assert plan == [[("lesson:a", 10, 1)]] + [[("lesson:long", 25, part)] for part in range(1, 5)]
    tight = days(
        PlanRequest(work=[lesson("a", 10), lesson("long", 100)], days=4, minutes_per_day=40)
    )
    assert tight == [
        [("lesson:a", 10, 1)],
        [("lesson:long", 34, 1)],
        [("lesson:long", 33, 2)],
        [("lesson:long", 33, 3)],
    ]


def test_a_sitting_is_never_split_and_takes_a_day_of_its_own() -> None:
    plan = days(
        PlanRequest(
            work=[lesson("a", 20), sitting("exam", 235), lesson("b", 20)],
            days=3,
            minutes_per_day=60,
        )
    )
    assert plan == [[("lesson:a", 20, 1)], [("quiz:exam", 235, 1)], [("lesson:b", 20, 1)]]


def test_work_that_does_not_fit_says_what_would() -> None:
    work = [lesson("a", 30), lesson("b", 30), sitting("q", 15)]  # 75 minutes
    with pytest.raises(DoesNotFit) as refused:
        sequential(PlanRequest(work=work, days=1, minutes_per_day=60))
    assert refused.value.needed_minutes_per_day == 75
    assert sequential(PlanRequest(work=work, days=1, minutes_per_day=75)).daily_minutes == 75


def test_sittings_that_outnumber_the_days_fit_at_no_pace() -> None:
    work = [sitting("a", 100), sitting("b", 100)]
    with pytest.raises(DoesNotFit) as refused:
        sequential(PlanRequest(work=work, days=1, minutes_per_day=60))
    assert refused.value.needed_minutes_per_day == 200  # both on one day at 200 a day


@pytest.mark.parametrize("cap", [10, 17, 30, 45, 60, 120])
def test_more_daily_minutes_never_need_more_days(cap: int) -> None:
    """What the binary search of the pace relies on."""
    work = [lesson("a", 25), sitting("q", 40), lesson("b", 70), lesson("c", 5), lesson("d", 33)]
    used = max(item.day for item in lay_out(work, cap)) + 1
    more = max(item.day for item in lay_out(work, cap + 1)) + 1
    assert more <= used


def test_the_same_request_gives_the_same_plan() -> None:
    request = PlanRequest(
        work=[lesson("a", 25), sitting("q", 40), lesson("b", 70)], days=7, minutes_per_day=45
    )
    assert sequential(request) == sequential(request)


def test_optional_items_keep_their_place_where_there_is_room() -> None:
    work = [lesson("a", 20), practice("p", 30), lesson("b", 20)]
    assert days(PlanRequest(work=work, days=3, minutes_per_day=60)) == [
        [("lesson:a", 20, 1)],
        [("practice:p", 30, 1)],
        [("lesson:b", 20, 1)],
    ]


def test_optional_items_are_left_out_last_first_and_never_cause_a_refusal() -> None:
    work = [practice("p", 30), lesson("a", 30), practice("q", 30), lesson("b", 30)]
    # 120 minutes do not fit one day at 90: the last optional item goes, and 90 fit.
    assert days(PlanRequest(work=work, days=1, minutes_per_day=90)) == [
        [("practice:p", 30, 1), ("lesson:a", 30, 1), ("lesson:b", 30, 1)]
    ]
    # At 60 neither fits: the required 60 minutes alone.
    assert days(PlanRequest(work=work, days=1, minutes_per_day=60)) == [
        [("lesson:a", 30, 1), ("lesson:b", 30, 1)]
    ]
    # The refusal is about the required work only.
    with pytest.raises(DoesNotFit) as refused:
        sequential(PlanRequest(work=work, days=1, minutes_per_day=45))
    assert refused.value.needed_minutes_per_day == 60
