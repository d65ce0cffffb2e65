"""Automation rules: validated as data, evaluated purely, explained leaf by leaf.

Pure like the rest of `domain`: no I/O, no clock (every function takes `now`), so workflow
code can call it and replay the same answers.

How a ticket's workflow uses it:

- **Events.** After a change by a person or an integration (`created`, `updated`,
  `comment_added`): build the facts with `facts_from_state(state, now, history=...,
  before=<state before the change>, comment=<the comment, for comment_added>)`, call
  `run_event_rules(rules, trigger, facts, now)`, carry out each matched firing's `actions`
  in order and record every firing's `evaluation` in the history (kind `automation.*`, which
  does not count as activity). Rule actions never raise another event, so rules cannot loop.
- **Time.** Keep `seen_true: list[str]` in the workflow state (it crosses continue-as-new).
  After every event (and its rules) and on every wake-up: `due_time_rules(rules, facts, now,
  seen_true)` → carry out its firings → rebuild the facts → `plan_time_rules(rules, facts,
  now)` → keep its `seen_true` and arm one timer at its `wake_at` (always after `now`).
- **Dry runs** use `evaluate`, `run_event_rules` and `next_time_match` on any facts.
"""

from domain.rules.actions import (
    ACTION_ALIASES,
    ACTION_TYPES,
    Action,
    AddComment,
    AddTag,
    AssignAgent,
    AssignDepartment,
    AutoResolve,
    Close,
    CreateIncident,
    Escalate,
    RemoveTag,
    SendNotification,
    SetPriority,
    SetStatus,
)
from domain.rules.conditions import AllOf, AnyOf, Condition, Leaf
from domain.rules.engine import Firing, apply_actions, fire, rules_for, run_event_rules
from domain.rules.evaluate import Evaluation, GroupOutcome, LeafOutcome, Outcome, evaluate
from domain.rules.facts import TIME_SPECS, TicketFacts, facts_from_state
from domain.rules.fields import FIELDS, TIME_FIELDS, Operator
from domain.rules.rule import Rule, Trigger
from domain.rules.timing import (
    TimeCheck,
    TimePlan,
    due_time_rules,
    next_change,
    next_time_match,
    plan_time_rules,
    rule_key,
    truth_spans,
)

__all__ = [
    "ACTION_ALIASES",
    "ACTION_TYPES",
    "FIELDS",
    "TIME_FIELDS",
    "TIME_SPECS",
    "Action",
    "AddComment",
    "AddTag",
    "AllOf",
    "AnyOf",
    "AssignAgent",
    "AssignDepartment",
    "AutoResolve",
    "Close",
    "Condition",
    "CreateIncident",
    "Escalate",
    "Evaluation",
    "Firing",
    "GroupOutcome",
    "Leaf",
    "LeafOutcome",
    "Operator",
    "Outcome",
    "RemoveTag",
    "Rule",
    "SendNotification",
    "SetPriority",
    "SetStatus",
    "TicketFacts",
    "TimeCheck",
    "TimePlan",
    "Trigger",
    "apply_actions",
    "due_time_rules",
    "evaluate",
    "facts_from_state",
    "fire",
    "next_change",
    "next_time_match",
    "plan_time_rules",
    "rule_key",
    "rules_for",
    "run_event_rules",
    "truth_spans",
]
