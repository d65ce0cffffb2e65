"""What rules do to a ticket through `RuleBook`: here, a rule's comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.automation import RuleBook, open_with_rules
from domain.enums import Priority, Role
from domain.rules import Rule
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import DepartmentTerms, TicketDraft

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
REQUESTER = uuid4()


def draft() -> TicketDraft:
    return TicketDraft(
        id=uuid4(),
        number=12,
        title="Printer offline",
        description="It says offline",
        requester_id=REQUESTER,
        requester_role=Role.USER,
        department=DepartmentTerms(id=uuid4(), name="IT"),
        priority=Priority.P2,
        policy=PolicyTerms(
            name="Standard",
            targets={Priority.P2: MetricTargets(first_response=timedelta(hours=4))},
        ),
        created_at=T0,
    )


def commenting_rule(*, private: bool) -> RuleBook:
    rule = Rule.model_validate(
        {
            "name": "Acknowledge receipt",
            "trigger": "created",
            "conditions": {"all": []},
            "actions": [{"type": "add_comment", "body": "We got it", "private": private}],
        }
    )
    return RuleBook([rule])


def test_a_rules_public_comment_reaches_the_requester_but_answers_no_sla() -> None:
    state, effects = open_with_rules(draft(), commenting_rule(private=False))

    [comment] = effects.comments
    replied = [n for n in effects.notifications if n.event == "replied"]
    assert [(n.recipients[0].user_id, n.body) for n in replied] == [(REQUESTER, "We got it")]
    assert state.first_response_at is None  # nobody has answered yet
    assert comment.body == "We got it"


def test_a_rules_private_note_tells_the_requester_nothing() -> None:
    _, effects = open_with_rules(draft(), commenting_rule(private=True))

    assert len(effects.comments) == 1
    assert [n.event for n in effects.notifications if n.event == "replied"] == []
