"""Which SLA policy applies to a ticket."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain.enums import Metric, Priority, Role, TicketStatus
from domain.policies import PolicyConditions, SlaPolicy, TicketFacts, select_policy
from domain.sla import MetricTargets

IT = UUID("00000000-0000-0000-0000-0000000000a1")
FACILITIES = UUID("00000000-0000-0000-0000-0000000000b2")

TARGETS = {Priority.P1: MetricTargets(first_response=timedelta(minutes=15))}


def policy(name: str, position: int, enabled: bool = True, **conditions: object) -> SlaPolicy:
    return SlaPolicy(
        id=uuid4(),
        name=name,
        position=position,
        enabled=enabled,
        conditions=PolicyConditions.model_validate(conditions),
        targets=TARGETS,
    )


def facts(
    department_id: UUID = IT,
    category: str = "hardware",
    priority: Priority = Priority.P3,
    requester_role: Role = Role.USER,
) -> TicketFacts:
    return TicketFacts(
        department_id=department_id,
        category=category,
        priority=priority,
        requester_role=requester_role,
    )


def test_first_matching_policy_by_position_wins_whatever_the_input_order() -> None:
    catch_all = policy("Standard", 100)
    vip = policy("VIP", 1, requester_role=["vip_user"])
    it_only = policy("IT", 10, department_id=[str(IT)])

    assert select_policy([catch_all, it_only, vip], facts()) is it_only
    assert select_policy([catch_all, it_only, vip], facts(requester_role=Role.VIP_USER)) is vip
    assert select_policy([catch_all, it_only, vip], facts(department_id=FACILITIES)) is catch_all


def test_disabled_policies_are_skipped() -> None:
    off = policy("Off", 0, enabled=False)
    on = policy("On", 5)
    assert select_policy([off, on], facts()) is on


def test_no_policy_matches_gives_none() -> None:
    p1_only = policy("P1", 0, priority=["P1"])
    assert select_policy([p1_only], facts(priority=Priority.P2)) is None
    assert select_policy([], facts()) is None


def test_every_condition_must_match() -> None:
    narrow = policy("Narrow", 0, priority=["P1", "P2"], category=["Network"])
    assert select_policy([narrow], facts(priority=Priority.P1, category="network")) is narrow
    assert select_policy([narrow], facts(priority=Priority.P1, category="printers")) is None
    assert select_policy([narrow], facts(priority=Priority.P4, category="network")) is None


def test_equal_positions_keep_the_given_order() -> None:
    first, second = policy("A", 1), policy("B", 1)
    assert select_policy([first, second], facts()) is first
    assert select_policy([second, first], facts()) is second


@pytest.mark.parametrize(
    "conditions",
    [{"priority": []}, {"priority": ["P9"]}, {"colour": ["red"]}, {"department_id": ["x"]}],
)
def test_malformed_conditions_are_rejected(conditions: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PolicyConditions.model_validate(conditions)


def test_terms_carry_what_the_workflow_needs() -> None:
    chosen = SlaPolicy(
        id=uuid4(),
        name="Standard",
        targets=TARGETS,
        warn_at=(0.9, 0.5, 0.5),
        pause_statuses=frozenset({TicketStatus.ON_HOLD, TicketStatus.RESOLVED}),
    )
    terms = chosen.terms()
    assert terms.name == "Standard"
    assert terms.policy_id == chosen.id
    assert terms.warn_at == (0.5, 0.9)
    assert terms.target(Priority.P1, Metric.FIRST_RESPONSE) == timedelta(minutes=15)
    assert terms.target(Priority.P2, Metric.FIRST_RESPONSE) is None
    assert TicketStatus.RESOLVED in terms.pause_statuses


def test_a_policy_cannot_pause_closed_tickets() -> None:
    with pytest.raises(ValidationError):
        SlaPolicy(name="x", targets=TARGETS, pause_statuses=frozenset({TicketStatus.CLOSED}))


def test_warn_fractions_must_lie_strictly_between_zero_and_one() -> None:
    with pytest.raises(ValidationError):
        SlaPolicy(name="x", targets=TARGETS, warn_at=(0.5, 1.0))
