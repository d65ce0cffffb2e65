"""Automation rules: validation, evaluation and its explanation, event runs, time rules.

Time rules are checked against brute force: walking the timeline second by second must find
the same first matching instant as `next_time_match`, and the same firings as the
`due_time_rules` / `plan_time_rules` loop a workflow runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.enums import Priority, Role, TicketStatus
from domain.operations import TicketOps, open_ticket
from domain.rules import (
    Action,
    AssignAgent,
    Close,
    Condition,
    LeafOutcome,
    Rule,
    SendNotification,
    SetPriority,
    TicketFacts,
    Trigger,
    apply_actions,
    due_time_rules,
    evaluate,
    facts_from_state,
    next_time_match,
    plan_time_rules,
    run_event_rules,
    truth_spans,
)
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import CommentRecord, DepartmentTerms, TicketDraft

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
US = timedelta(microseconds=1)
INCIDENT = {"type": "create_incident"}
CONDITION = TypeAdapter(Condition)
ACTIONS = TypeAdapter(list[Action])


def rule(
    conditions: Any, trigger: str = "created", actions: list[Any] | None = None, **fields: Any
) -> Rule:
    return Rule.model_validate(
        {
            "name": fields.pop("name", "rule"),
            "trigger": trigger,
            "conditions": conditions,
            "actions": [INCIDENT] if actions is None else actions,
            **fields,
        }
    )


def leaf(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def facts(**fields: Any) -> TicketFacts:
    return TicketFacts.model_validate({"created_at": T0, **fields})


def matches(conditions: Any, on: TicketFacts, at: datetime = T0, trigger: str = "updated") -> bool:
    return evaluate(rule(conditions, trigger), on, at).matched


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (leaf("colour", "equals", "red"), "unknown field 'colour'; allowed: assignee_id"),
        (leaf("priority", "resembles", "P1"), "unknown operator 'resembles'; allowed: changed"),
        (leaf("priority", "contains", "P"), "does not apply to priority (enum); allowed:"),
        (leaf("priority", "equals", "P7"), "'P7' is not a priority; allowed: P1, P2, P3, P4"),
        (leaf("hours_since_created", "equals", 3), "allowed: greater_than, is_empty, less_than"),
        (leaf("hours_since_created", "greater_than", True), "takes a number"),
        (leaf("hours_since_created", "greater_than", 1e9), "thresholds must lie within"),
        (leaf("assignee_id", "equals", "bob"), "compares with a UUID"),
        (leaf("assignee_id", "equals", None), "use is_empty"),
        (leaf("status", "in", []), "takes a non-empty list"),
        ({"any": []}, "at least 1 item"),
        ("priority = P1", "a condition is"),
        ({"field": "priority"}, 'needs "field" and "operator"'),
    ],
)
def test_invalid_conditions_say_what_is_allowed(condition: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        CONDITION.validate_python(condition)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"type": "explode"}, "unknown action type 'explode'; allowed: add_comment"),
        ({"type": "set_priority"}, "Field required"),
        ({"type": "set_priority", "priority": "P1", "colour": "red"}, "Extra inputs"),
        ({"type": "send_notification", "target": "boss", "message": "hi"}, "unknown notification"),
        ({"type": "escalate", "level": 0}, "greater than or equal to 1"),
        ("close", 'an action is an object with a "type"'),
        # Found by the OpenAPI fuzzing: a non-text type was looked up as a key (a 500).
        ({"type": ["set_priority"], "priority": "P1"}, "the action type must be text; allowed:"),
        ({"type": {"set_priority": 1}}, "the action type must be text; allowed:"),
        ({"type": None}, "the action type must be text; allowed:"),
    ],
)
def test_invalid_actions_say_what_is_allowed(action: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ACTIONS.validate_python([action])


# The seed's PREDEFINED_RULES: trigger, then conditions and actions exactly as written there.
SEED_RULES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "created",
        leaf("prioridad", "equals", "P1"),
        [{"type": "send_notification", "target": "manager", "message": "Ticket crítico"}, INCIDENT],
    ),
    (
        "created",
        leaf("descripcion", "contains", "contraseña"),
        [{"type": "assign_priority", "priority": "P3"}, {"type": "add_tag", "tag": "pw_reset"}],
    ),
    (
        "created",
        leaf("usuario_vip", "equals", True),
        [{"type": "assign_priority", "priority": "P1"}],
    ),
    (
        "time",
        leaf("sla_minutos_restantes", "less_than", 30),
        [{"type": "send_notification", "target": "agent", "message": "SLA vence en 30 min"}],
    ),
    (
        "time",
        leaf("horas_sin_actividad", "greater_than", 24),
        [{"type": "close_automatically"}, {"type": "send_notification", "message": "Cerrado"}],
    ),
]


def test_the_seeds_spellings_are_stored_in_english() -> None:
    rules = [rule(conditions, trigger, actions) for trigger, conditions, actions in SEED_RULES]
    fields = [r.conditions.model_dump()["field"] for r in rules]
    assert fields == [
        "priority",
        "description",
        "requester_vip",
        "sla_minutes_remaining",
        "hours_since_activity",
    ]
    assert rules[1].actions[0] == SetPriority(priority=Priority.P3)
    assert rules[3].actions[0] == SendNotification(target="assignee", message="SLA vence en 30 min")
    assert rules[4].actions == [
        Close(for_inactivity=True),
        SendNotification(target="requester", message="Cerrado"),
    ]
    assert (
        CONDITION.validate_python(leaf("tags", "in_array", ["a"])).model_dump()["operator"] == "in"
    )


def test_a_stored_rule_reads_back_the_same() -> None:
    original = rule(
        {"any": [leaf("prioridad", "in", ["p1", "P2"]), leaf("assignee_id", "is_empty")]},
        actions=[{"type": "assign_priority", "priority": "P2"}, {"type": "close_automatically"}],
    )
    stored = original.model_dump(mode="json")
    assert Rule.model_validate(stored) == original
    assert stored["conditions"]["any"][0] == leaf("priority", "in", ["P1", "P2"])
    assert stored["conditions"]["any"][1] == leaf("assignee_id", "is_empty", True)


def test_conditions_must_suit_the_trigger() -> None:
    with pytest.raises(ValidationError, match="comment_body is only known to comment_added"):
        rule(leaf("comment_body", "contains", "thanks"), "updated")
    with pytest.raises(ValidationError, match="changed needs a change to look at"):
        rule(leaf("priority", "changed"), "time")
    with pytest.raises(ValidationError, match="at least 1 item"):
        rule(leaf("priority", "equals", "P1"), actions=[])
    rule(leaf("comment_body", "contains", "thanks"), "comment_added")
    rule(leaf("priority", "changed"), "updated")


def test_deep_or_huge_trees_are_refused() -> None:
    deep: dict[str, Any] = leaf("priority", "equals", "P1")
    for _ in range(7):
        deep = {"all": [deep]}
    with pytest.raises(ValidationError, match="at most 6 levels"):
        rule(deep)
    wide = {"any": [{"all": [leaf("title", "contains", str(i))] * 10} for i in range(6)]}
    with pytest.raises(ValidationError, match="at most 50 tests"):
        rule(wide)


# -- evaluation --------------------------------------------------------------------------------


def test_text_compares_case_insensitively() -> None:
    ticket = facts(title="Printer on FIRE", description="Olvidé mi Contraseña")
    assert matches(leaf("description", "contains", "contraseña"), ticket)
    assert matches(leaf("title", "equals", "printer on fire"), ticket)
    assert not matches(leaf("title", "not_contains", "fire"), ticket)
    assert matches(leaf("category", "in", ["Hardware", "GENERAL"]), ticket)


def test_tags_contain_and_intersect() -> None:
    ticket = facts(tags=("VPN", "urgent"))
    assert matches(leaf("tags", "contains", "vpn"), ticket)
    assert not matches(leaf("tags", "contains", "vp"), ticket)  # a tag, not a substring
    assert matches(leaf("tags", "in", ["printer", "urgent"]), ticket)
    assert matches(leaf("tags", "not_in", ["printer"]), ticket)
    assert matches(leaf("tags", "is_empty"), facts())
    assert matches(leaf("tags", "is_empty", False), ticket)


def test_empty_ids_and_vip_requesters() -> None:
    agent = uuid4()
    assert matches(leaf("assignee_id", "is_empty"), facts())
    assert matches(leaf("assignee_id", "equals", str(agent)), facts(assignee_id=agent))
    assert matches(leaf("requester_vip", "equals", True), facts(requester_role=Role.VIP_USER))
    assert not matches(leaf("requester_vip", "equals", True), facts(requester_role=Role.USER))


def test_changed_looks_at_the_value_before_the_change() -> None:
    raised = facts(priority=Priority.P1, previous={"priority": Priority.P3})
    assert matches(leaf("priority", "changed"), raised)
    assert matches(leaf("priority", "changed_to", "P1"), raised)
    assert not matches(leaf("priority", "changed_to", "P2"), raised)
    assert not matches(leaf("status", "changed"), raised)  # absent from previous
    assert matches(leaf("status", "changed", False), raised)
    same = facts(priority=Priority.P3, previous={"priority": "P3"})
    assert not matches(leaf("priority", "changed"), same)


def test_the_explanation_shows_every_test_and_its_values() -> None:
    checked = rule(
        {"all": [leaf("priority", "equals", "P1"), leaf("title", "contains", "fire")]},
        name="P1 fires",
    )
    evaluation = evaluate(checked, facts(priority=Priority.P2, title="fire!"), T0)
    assert not evaluation.matched
    first, second = evaluation.explanation.children  # type: ignore[union-attr]
    assert isinstance(first, LeafOutcome) and isinstance(second, LeafOutcome)
    assert (first.actual, first.operator, first.expected, first.result) == (
        "P2",
        "equals",
        "P1",
        False,
    )
    assert second.result  # evaluated even though the first already failed
    assert evaluation.lines() == [
        "P1 fires: did not match",
        "  all → false",
        "    priority equals 'P1': is 'P2' → false",
        "    title contains 'fire': is 'fire!' → true",
    ]


def test_empty_all_matches_every_ticket() -> None:
    assert matches({"all": []}, facts())


# -- time fields -------------------------------------------------------------------------------


def test_time_thresholds_count_from_the_instant_they_are_reached() -> None:
    idle = leaf("hours_since_activity", "greater_than", 24)
    ticket = facts(last_activity_at=hours(1))
    assert not matches(idle, ticket, hours(25) - US)
    assert matches(idle, ticket, hours(25))
    assert not matches(leaf("hours_since_activity", "less_than", 24), ticket, hours(25))

    due = leaf("sla_minutes_remaining", "less_than", 30)
    ticket = facts(sla_deadline=hours(2))
    assert not matches(due, ticket, hours(1.5) - US)
    assert matches(due, ticket, hours(1.5))
    assert matches(due, ticket, hours(3))  # already breached: well under 30 minutes


def test_fractional_hours_and_time_in_status() -> None:
    ticket = facts(status_since=hours(10))
    assert matches(leaf("hours_in_status", "greater_than", 0.25), ticket, hours(10.25))
    assert not matches(leaf("hours_in_status", "greater_than", 0.25), ticket, hours(10.25) - US)
    assert matches(leaf("hours_since_created", "greater_than", 10), ticket, hours(10))


def test_without_a_running_sla_there_are_no_minutes_remaining() -> None:
    ticket = facts()
    assert not matches(leaf("sla_minutes_remaining", "less_than", 30), ticket)
    assert not matches(leaf("sla_minutes_remaining", "greater_than", 30), ticket)
    assert matches(leaf("sla_minutes_remaining", "is_empty"), ticket)
    assert next_time_match(rule(leaf("sla_minutes_remaining", "less_than", 30)), ticket, T0) is None


def test_the_explanation_of_a_time_test_says_when() -> None:
    evaluation = evaluate(
        rule(leaf("hours_since_created", "greater_than", 2), "time"), facts(), hours(1.5)
    )
    assert evaluation.lines()[1] == (
        "  hours_since_created greater_than 2.0: is 1.5, threshold at 2026-03-01T10:00:00+00:00"
        " → false"
    )


def over(h: float) -> dict[str, Any]:
    return leaf("hours_since_created", "greater_than", h)


def under(h: float) -> dict[str, Any]:
    return leaf("hours_since_created", "less_than", h)


@pytest.mark.parametrize(
    ("conditions", "now", "expected"),
    [
        (over(2), 0, 2),
        (over(2), 3, 3),  # already true: now
        (under(2), 3, None),  # over and done
        ({"all": [over(2), under(1)]}, 0, None),
        ({"all": [over(2), under(2)]}, 0, None),  # true at no instant
        ({"any": [under(1), over(5)]}, 2, 5),
        ({"all": [over(2), leaf("sla_minutes_remaining", "less_than", 30)]}, 0, 3.5),
        ({"all": [over(2), leaf("priority", "equals", "P1")]}, 0, None),
    ],
)
def test_next_time_match_examples(conditions: Any, now: float, expected: float | None) -> None:
    ticket = facts(sla_deadline=hours(4), priority=Priority.P3)
    found = next_time_match(rule(conditions, "time"), ticket, hours(now))
    assert found == (None if expected is None else hours(expected))


# -- property tests: next_time_match against brute force ---------------------------------------

TIME_FIELDS = ["hours_since_created", "hours_since_activity", "hours_in_status"]
WINDOW = 900  # seconds searched by brute force


@st.composite
def whole_second_time_leaves(draw: st.DrawFn) -> dict[str, Any]:
    """Thresholds that fall on whole seconds, so a second-by-second walk sees every change."""
    seconds = draw(st.integers(min_value=-300, max_value=1200))
    operator = draw(st.sampled_from(["greater_than", "less_than"]))
    if draw(st.booleans()):
        return leaf("sla_minutes_remaining", operator, seconds / 60)
    return leaf(draw(st.sampled_from(TIME_FIELDS)), operator, seconds / 3600)


CONSTANT_LEAVES = st.sampled_from(
    [
        leaf("priority", "equals", "P1"),
        leaf("priority", "not_equals", "P1"),
        leaf("sla_minutes_remaining", "is_empty"),
        leaf("sla_minutes_remaining", "is_empty", False),
    ]
)


def trees(leaves: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda c: {"all": c}),
            st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        ),
        max_leaves=6,
    )


def whole_second_trees() -> st.SearchStrategy[Any]:
    return trees(st.one_of(whole_second_time_leaves(), whole_second_time_leaves(), CONSTANT_LEAVES))


@st.composite
def whole_second_facts(draw: st.DrawFn) -> TicketFacts:
    def ago() -> datetime:
        return T0 - timedelta(seconds=draw(st.integers(min_value=0, max_value=600)))

    deadline = draw(st.none() | st.integers(min_value=-300, max_value=WINDOW + 300))
    return facts(
        created_at=ago(),
        last_activity_at=ago(),
        status_since=ago(),
        sla_deadline=None if deadline is None else T0 + timedelta(seconds=deadline),
        priority=draw(st.sampled_from([Priority.P1, Priority.P3])),
    )


def holds(condition_rule: Rule, on: TicketFacts, second: int) -> bool:
    return evaluate(condition_rule, on, T0 + timedelta(seconds=second)).matched


@settings(max_examples=120, deadline=None)
@given(whole_second_trees(), whole_second_facts())
def test_next_time_match_agrees_with_a_second_by_second_search(
    conditions: Any, on: TicketFacts
) -> None:
    checked = rule(conditions, "time")
    found = next_time_match(checked, on, T0)
    first = next((s for s in range(WINDOW + 1) if holds(checked, on, s)), None)
    if first is None:
        assert found is None or found > T0 + timedelta(seconds=WINDOW)
    else:
        assert found == T0 + timedelta(seconds=first)


@st.composite
def any_time_leaves(draw: st.DrawFn) -> dict[str, Any]:
    """Fractional thresholds that fall between microseconds and need rounding."""
    value = draw(st.floats(min_value=-50, max_value=50, allow_nan=False))
    operator = draw(st.sampled_from(["greater_than", "less_than"]))
    field = draw(st.sampled_from([*TIME_FIELDS, "sla_minutes_remaining"]))
    return leaf(field, operator, value)


@st.composite
def any_facts(draw: st.DrawFn) -> TicketFacts:
    def instant() -> datetime:
        return T0 + timedelta(microseconds=draw(st.integers(-(10**11), 10**11)))

    return facts(
        created_at=instant(),
        last_activity_at=instant(),
        status_since=instant(),
        sla_deadline=draw(st.none() | st.just(None).map(lambda _: instant())),
        priority=draw(st.sampled_from([Priority.P1, Priority.P3])),
    )


@settings(max_examples=300, deadline=None)
@given(trees(st.one_of(any_time_leaves(), CONSTANT_LEAVES)), any_facts())
def test_truth_changes_exactly_at_the_span_boundaries(conditions: Any, on: TicketFacts) -> None:
    checked = rule(conditions, "time")
    spans = truth_spans(checked.conditions, on, T0)
    assert evaluate(checked, on, T0).matched == (bool(spans) and spans[0][0] == T0)
    for start, end in spans:
        assert evaluate(checked, on, start).matched
        if start > T0:
            assert not evaluate(checked, on, start - US).matched
        if end is not None:
            assert evaluate(checked, on, end - US).matched
            assert not evaluate(checked, on, end).matched
    found = next_time_match(checked, on, T0)
    assert found == (spans[0][0] if spans else None)
    if found is None:  # never: false now and far ahead
        for later in (T0, T0 + timedelta(days=3), T0 + timedelta(days=3000)):
            assert not evaluate(checked, on, later).matched


# -- event rules -------------------------------------------------------------------------------


def test_event_rules_run_in_position_order_on_the_facts_earlier_rules_left() -> None:
    p1_alert = rule(
        leaf("priority", "equals", "P1"),
        name="alert",
        position=30,
        actions=[{"type": "send_notification", "target": "manager", "message": "P1"}],
    )
    vip = rule(
        leaf("requester_vip", "equals", True),
        name="vip",
        position=20,
        actions=[{"type": "set_priority", "priority": "P1"}],
    )
    password = rule(
        leaf("description", "contains", "password"),
        name="password",
        position=10,
        actions=[{"type": "set_priority", "priority": "P3"}, {"type": "add_tag", "tag": "pw"}],
    )
    elsewhere = rule({"all": []}, "updated", name="other trigger")
    off = rule({"all": []}, name="disabled", enabled=False)
    ticket = facts(description="my PASSWORD", requester_role=Role.VIP_USER, priority=Priority.P4)
    rules = [p1_alert, elsewhere, vip, off, password]
    firings = run_event_rules(rules, Trigger.CREATED, ticket, T0)

    assert [(f.rule_name, f.matched) for f in firings] == [
        ("password", True),
        ("vip", True),
        ("alert", True),
    ]
    assert firings[0].changes == {"priority": ["P4", "P3"], "tags": [[], ["pw"]]}
    assert firings[1].changes == {"priority": ["P3", "P1"]}
    assert firings[2].actions == [SendNotification(target="manager", message="P1")]
    assert firings[2].changes == {}


def test_unmatched_rules_are_reported_without_actions() -> None:
    firings = run_event_rules(
        [rule(leaf("priority", "equals", "P1"))], Trigger.CREATED, facts(), T0
    )
    assert len(firings) == 1
    assert not firings[0].matched
    assert firings[0].actions == []


def test_later_rules_see_earlier_rules_changes_as_changes() -> None:
    raise_it = rule({"all": []}, "updated", [{"type": "set_priority", "priority": "P1"}], name="a")
    react = rule(leaf("priority", "changed_to", "P1"), "updated", name="b", position=1)
    firings = run_event_rules([raise_it, react], Trigger.UPDATED, facts(), T0)
    assert [f.matched for f in firings] == [True, True]


def test_actions_follow_the_ticket_lifecycle() -> None:
    agent = uuid4()
    after, changes = apply_actions(facts(), [AssignAgent(agent_id=agent)], hours(1))
    assert (after.assignee_id, after.status) == (agent, TicketStatus.IN_PROGRESS)
    assert after.status_since == hours(1)
    assert changes["status"] == ["new", "in_progress"]
    closed = facts(status=TicketStatus.CLOSED)
    after, changes = apply_actions(closed, [Close(), SetPriority(priority=Priority.P1)], T0)
    assert changes == {}  # a closed ticket neither closes again nor changes priority
    after, changes = apply_actions(facts(status=TicketStatus.ON_HOLD), [Close()], T0)
    assert after.status is TicketStatus.CLOSED


def test_time_rules_are_not_an_event() -> None:
    with pytest.raises(ValueError, match="due_time_rules"):
        run_event_rules([], Trigger.TIME, facts(), T0)


# -- time rules: firing once per cycle ---------------------------------------------------------


def simulate(
    rules: list[Rule], on: TicketFacts, until: datetime, *, apply: bool = False
) -> list[tuple[datetime, str]]:
    """What a workflow does: check at the start, then on each wake-up; returns the firings."""
    now, seen_true, fired = T0, list[str](), []
    while True:
        check = due_time_rules(rules, on, now, seen_true)
        for firing in check.firings:
            fired.append((now, firing.rule_name))
            if apply:
                on, _ = apply_actions(on, firing.actions, now)
        plan = plan_time_rules(rules, on, now)
        seen_true = plan.seen_true
        if plan.wake_at is None or plan.wake_at > until:
            return fired
        assert plan.wake_at > now  # time moves on between checks: no loop at one instant
        now = plan.wake_at


TRUE_FALSE_TRUE = {
    "any": [
        leaf("hours_since_created", "less_than", 100 / 3600),
        leaf("sla_minutes_remaining", "less_than", 5),
    ]
}


@settings(max_examples=80, deadline=None)
@given(whole_second_trees(), whole_second_facts())
@example(TRUE_FALSE_TRUE, facts(sla_deadline=T0 + timedelta(seconds=600)))
def test_a_time_rule_fires_once_per_rising_edge(conditions: Any, on: TicketFacts) -> None:
    checked = rule(conditions, "time")
    truth = [holds(checked, on, s) for s in range(WINDOW + 1)]
    edges = [s for s, now_true in enumerate(truth) if now_true and (s == 0 or not truth[s - 1])]
    fired = simulate([checked], on, T0 + timedelta(seconds=WINDOW))
    assert [int((at - T0).total_seconds()) for at, _ in fired] == edges


def test_a_true_rule_fires_once_and_again_after_being_false() -> None:
    reminder = rule({"any": [under(1), over(3)]}, "time", name="reminder")
    fired = simulate([reminder], facts(), hours(10))
    assert fired == [(T0, "reminder"), (hours(3), "reminder")]


def test_rules_that_undo_each_other_do_not_loop() -> None:
    to_p1 = [{"type": "set_priority", "priority": "P1"}]
    up = rule(leaf("priority", "equals", "P2"), "time", to_p1)
    down = rule(
        leaf("priority", "equals", "P1"),
        "time",
        [{"type": "set_priority", "priority": "P2"}],
        name="down",
        position=1,
    )
    fired = simulate([up, down], facts(priority=Priority.P2), hours(1000), apply=True)
    assert fired == [(T0, "rule"), (T0, "down")]


def test_the_seeds_sla_alert_fires_once_when_30_minutes_remain() -> None:
    alert = rule(leaf("sla_minutes_remaining", "less_than", 30), "time", name="sla")
    fired = simulate([alert], facts(sla_deadline=hours(2)), hours(10))
    assert fired == [(hours(1.5), "sla")]


# -- facts of a workflow's ticket --------------------------------------------------------------


def test_facts_from_a_workflow_state() -> None:
    requester = uuid4()
    policy = PolicyTerms(
        name="Standard",
        targets={Priority.P3: MetricTargets(first_response=timedelta(hours=4))},
    )
    draft = TicketDraft(
        id=uuid4(),
        number=7,
        title="VPN down",
        description="no VPN",
        requester_id=requester,
        requester_role=Role.VIP_USER,
        department=DepartmentTerms(id=uuid4(), name="IT"),
        priority=Priority.P3,
        tags=["vpn"],
        policy=policy,
        created_at=T0,
    )
    before, effects = open_ticket(draft)
    history = list(effects.history)
    state = before.model_copy(deep=True)
    ops = TicketOps(state, hours(1))
    ops.set_status(TicketStatus.ON_HOLD, None, None)
    history += ops.effects.history
    ops = TicketOps(state, hours(2))
    ops.advance_time()  # SLA machinery only: not activity
    history += ops.effects.history
    comment = CommentRecord(id=uuid4(), author_id=requester, body="any news?", created_at=hours(2))

    ticket = facts_from_state(state, hours(2), history=history, before=before, comment=comment)

    assert ticket.requester_vip and ticket.tags == ("vpn",)
    assert ticket.previous == {"status": "new"}
    assert ticket.status_since == hours(1)
    assert ticket.last_activity_at == hours(1)
    assert ticket.sla_deadline is None  # on hold: the clock is paused
    assert (ticket.comment_body, ticket.comment_by_requester) == ("any news?", True)
    running = facts_from_state(before, hours(1), history=effects.history)
    assert running.sla_deadline == hours(4)
    assert running.facts_at(hours(1))["sla_minutes_remaining"] == 180
