import pytest

from domain.enums import Impact, Priority, TicketStatus, Urgency
from domain.errors import IllegalTransition
from domain.lifecycle import TRANSITIONS, check_transition, priority_for

S = TicketStatus

CONTRACT_TABLE = {
    S.NEW: {S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CLOSED},
    S.IN_PROGRESS: {S.ON_HOLD, S.RESOLVED, S.CLOSED},
    S.ON_HOLD: {S.IN_PROGRESS, S.RESOLVED, S.CLOSED},
    S.RESOLVED: {S.CLOSED, S.REOPENED},
    S.REOPENED: {S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CLOSED},
    S.CLOSED: {S.REOPENED},
}


def test_transition_table_is_the_contract_table() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == CONTRACT_TABLE


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("requested", list(S))
def test_every_move_is_checked(current: TicketStatus, requested: TicketStatus) -> None:
    if requested in CONTRACT_TABLE[current]:
        check_transition(current, requested)
    else:
        with pytest.raises(IllegalTransition) as raised:
            check_transition(current, requested)
        assert raised.value.allowed == sorted(CONTRACT_TABLE[current])
        assert requested.value in raised.value.detail


def test_priority_matrix_corners() -> None:
    assert priority_for(Urgency.CRITICAL, Impact.CRITICAL) is Priority.P1
    assert priority_for(Urgency.NORMAL, Impact.MEDIUM) is Priority.P3
    assert priority_for(Urgency.LOW, Impact.LOW) is Priority.P4


URGENCY_ORDER = [Urgency.CRITICAL, Urgency.HIGH, Urgency.NORMAL, Urgency.LOW]
IMPACT_ORDER = [Impact.CRITICAL, Impact.HIGH, Impact.MEDIUM, Impact.LOW]


@pytest.mark.parametrize("impact", IMPACT_ORDER)
def test_less_urgency_never_raises_priority(impact: Impact) -> None:
    ranks = [int(priority_for(u, impact).value[1]) for u in URGENCY_ORDER]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("urgency", URGENCY_ORDER)
def test_less_impact_never_raises_priority(urgency: Urgency) -> None:
    ranks = [int(priority_for(urgency, i).value[1]) for i in IMPACT_ORDER]
    assert ranks == sorted(ranks)
