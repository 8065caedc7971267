"""docs/competencies.md's second worked example, by the one method of mastery.py: a share
over several items, the decaying average, the gap level, the ticket priority and the
recovery mark."""

from decimal import Decimal

from syllabus.competencies.mastery import RECOVERED, gap_level, observe, priority


def test_several_items_partial_points_then_recovery() -> None:
    share = Decimal(2 + 1 + 0) / Decimal(2 + 2 + 2)
    after = observe(Decimal("0.90"), share)
    assert (share, after, gap_level(after)) == (Decimal("0.5"), Decimal("0.6400"), 3)
    assert after < RECOVERED  # the two questions that lost points open tickets
    assert priority(gap_level(after)) == 2
    recovered = observe(after, Decimal(1))
    assert (recovered, gap_level(recovered)) == (Decimal("0.8740"), 2)
    assert recovered >= RECOVERED  # both tickets close


def test_the_first_worked_example() -> None:
    steps = [observe(None, Decimal(0))]
    steps += [observe(steps[-1], Decimal(1))]
    steps += [observe(steps[-1], Decimal(1))]
    assert steps == [Decimal("0"), Decimal("0.6500"), Decimal("0.8775")]
    assert [gap_level(m) for m in steps] == [5, 3, 2]
