"""The one version rule: newer replaces, older is stale, the same is a duplicate; closing hides for good."""

from __future__ import annotations

import pytest

from services.versioning import Closure, Decision, decide


@pytest.mark.parametrize(
    ("previous", "incoming", "expected"),
    [
        (None, 1, Decision.NEW),
        (None, 7, Decision.NEW),
        (1, 2, Decision.REPLACE),
        (2, 9, Decision.REPLACE),
        (3, 2, Decision.STALE),
        (3, 1, Decision.STALE),
        (3, 3, Decision.DUPLICATE),
    ],
)
def test_decide(previous, incoming, expected):
    assert decide(previous, incoming) is expected


def test_only_new_and_replace_win():
    assert [d for d in Decision if d.wins] == [Decision.NEW, Decision.REPLACE]


def test_a_new_entity_is_open_and_hides_nothing():
    state = Closure().apply(1, closed=False)
    assert state == Closure(False, 0, 1)
    assert not state.hides(1)


def test_closing_hides_every_version_up_to_the_closing_one():
    state = Closure().apply(1, False).apply(2, True)
    assert state == Closure(True, 2, 2)
    assert state.hides(1) and state.hides(2)


def test_reopening_shows_new_versions_but_never_the_closed_ones():
    state = Closure().apply(1, False).apply(2, True).apply(3, False)
    assert state == Closure(False, 2, 3)
    assert state.hides(2) and state.hides(1)
    assert not state.hides(3) and not state.hides(4)


def test_an_older_event_changes_nothing():
    closed = Closure().apply(5, True)
    assert not closed.accepts(4)
    assert closed.apply(4, False) is closed
    reopened = Closure().apply(5, False)
    assert reopened.apply(4, True) is reopened


def test_the_same_version_is_applied_again():
    state = Closure().apply(3, False)
    assert state.accepts(3)
    assert state.apply(3, True) == Closure(True, 3, 3)


def test_a_tombstone_closes_at_the_last_known_version():
    state = Closure().apply(4, False).apply(None, True)
    assert state == Closure(True, 4, 4)
    assert state.hides(4) and state.hides(5)  # while closed, nothing of it is shown
    # the id may come back with a higher version: its new matches are shown
    back = state.apply(5, False)
    assert not back.hides(5) and back.hides(4)


def test_a_tombstone_of_an_unknown_entity_closes_it():
    state = Closure().apply(None, True)
    assert state.closed and state.hides(1)


def test_upto_never_goes_down():
    state = Closure().apply(2, True).apply(3, False).apply(None, True)
    assert state == Closure(True, 3, 3)


def test_stored_form_round_trips_and_matches_the_notifier_table():
    state = Closure(True, 2, 3)
    assert state.to_dict() == {"closed": True, "upto": 2, "version": 3}
    assert Closure.from_dict(state.to_dict()) == state
    assert Closure.from_dict(None) == Closure()
