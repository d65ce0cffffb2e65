"""Response templates: filled in from plain ticket data, and nothing outside the safe subset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.enums import Impact, Locale, Priority, Source, TicketStatus, Urgency
from domain.templates import (
    AVAILABLE_VARIABLES,
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_BYTES,
    Contact,
    TemplateError,
    TicketLinks,
    check_template,
    placeholder_values,
    render_template,
    sample_values,
    split_subject,
)
from domain.views import SlaView, TicketView

OPENED = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
LINKS = TicketLinks(url="https://help.example.com/t/42", survey_url="https://help.example.com/r/42")


def ticket(**fields: object) -> TicketView:
    values: dict[str, object] = {
        "id": uuid4(),
        "number": 42,
        "title": "Printer on fire",
        "description": "Smoke everywhere",
        "requester_id": uuid4(),
        "assignee_id": None,
        "department_id": uuid4(),
        "category": "hardware",
        "subcategory": None,
        "priority": Priority.P1,
        "urgency": Urgency.CRITICAL,
        "impact": Impact.HIGH,
        "status": TicketStatus.IN_PROGRESS,
        "source": Source.WEB,
        "tags": [],
        "duplicate_of": None,
        "solution": None,
        "satisfaction_score": None,
        "feedback": None,
        "closed_for_inactivity": False,
        "metadata": {},
        "created_at": OPENED,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "updated_at": OPENED,
        "version": 1,
        "sla": SlaView(policy=None),
        **fields,
    }
    return TicketView.model_validate(values)


def values(locale: Locale = Locale.EN, agent: Contact | None = None) -> dict[str, dict[str, str]]:
    return placeholder_values(
        ticket(),
        locale=locale,
        links=LINKS,
        requester=Contact(name="Ana García", email="ana@example.com"),
        agent=agent,
        department="Soporte TI",
    )


def rejection(source: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        check_template(source)
    return caught.value


# -- filling in ----------------------------------------------------------------------------------


def test_an_english_reply_is_filled_in_from_the_ticket() -> None:
    source = (
        "Subject: [#{{ ticket.number }}] {{ ticket.title }}\n"
        "\n"
        "Hello {{ requester.name }}, your {{ ticket.priority }} ticket is "
        "{{ ticket.status_label | lower }} since {{ ticket.created_at }}: {{ ticket.url }}\n"
    )
    rendered = render_template(source, values())
    assert rendered.subject == "[#42] Printer on fire"
    assert rendered.body == (
        "Hello Ana García, your P1 ticket is in progress since 2026-03-02 08:15 UTC: "
        "https://help.example.com/t/42\n"
    )


def test_a_spanish_reply_names_the_status_in_spanish() -> None:
    source = (
        "Asunto: Ticket n.º {{ ticket.number }}\n"
        "Hola, {{ requester.name }}: su ticket está «{{ ticket.status_label }}» "
        "en {{ department.name }}."
    )
    rendered = render_template(source, values(Locale.ES))
    assert rendered.subject == "Ticket n.º 42"
    assert rendered.body == "Hola, Ana García: su ticket está «En curso» en Soporte TI."


def test_an_unassigned_ticket_leaves_the_agent_empty_and_defaults_apply() -> None:
    source = '{{ agent.name | default("The support team", true) }}<{{ agent.email }}>'
    assert render_template(source, values()).body == "The support team<>"
    with_agent = values(agent=Contact(name="Luis", email="luis@example.com"))
    assert render_template(source, with_agent).body == "Luis<luis@example.com>"


def test_conditions_pick_the_text() -> None:
    source = '{% if ticket.priority == "P1" %}\nUrgent\n{% else %}\nRoutine\n{% endif %}\n'
    assert render_template(source, values()).body == "Urgent\n"


def test_text_is_not_html_escaped() -> None:
    data = values()
    data["ticket"]["title"] = "<b>Tom & Jerry's</b>"
    assert render_template("{{ ticket.title }}", data).body == "<b>Tom & Jerry's</b>"


def test_without_a_subject_line_the_whole_text_is_the_body() -> None:
    assert split_subject("Hello\nSubject: not this").subject is None
    assert split_subject("asunto:  Hola \n\n\nCuerpo").body == "Cuerpo"


# -- what a template may name ----------------------------------------------------------------------


def test_the_placeholders_used_are_listed_once_each() -> None:
    source = "{{ ticket.number }} {{ requester.name }} {{ ticket.number }} {{ agent.email }}"
    assert check_template(source) == ["agent.email", "requester.name", "ticket.number"]


def test_an_unknown_placeholder_is_refused_with_its_line() -> None:
    error = rejection("Hello\n\n{{ ticket.owner }}")
    assert "ticket.owner" in error.detail
    assert error.line == 3
    assert "ticket.number" in AVAILABLE_VARIABLES


@pytest.mark.parametrize("source", ["{{ customer.name }}", "{{ ticket }}", "{{ self }}"])
def test_names_outside_the_catalogue_are_refused(source: str) -> None:
    assert rejection(source).line == 1


def test_a_syntax_error_names_its_line() -> None:
    error = rejection("Hello\n{{ ticket.number }}\n{% if ticket.title %}open")
    assert error.detail.startswith("syntax error")
    assert error.line == 3


# -- the sandbox ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ticket.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ ticket.number.__class__.__bases__ }}",
        "{{ ticket.items() }}",
        "{{ ticket['number'] }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ ticket.title | attr('__class__') }}",
        "{{ ticket.title.format(ticket) }}",
        "{% set x = ticket %}{{ x }}",
        "{% include '/etc/passwd' %}",
        "{% import 'x' as y %}",
        "{% macro m() %}{% endmacro %}",
        "{{ range(10) }}",
    ],
)
def test_escape_attempts_are_refused_at_save_time(source: str) -> None:
    rejection(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 9 ** 9 ** 9 }}",
        "{{ 'x' * 1000000000 }}",
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "{{ ticket.title | center(1000000000) }}",
        "{{ ticket.title | wordwrap(1) }}",
    ],
)
def test_templates_that_would_hang_or_allocate_are_refused_quickly(source: str) -> None:
    started = time.monotonic()
    rejection(source)
    assert time.monotonic() - started < 1


def test_absurd_nesting_is_invalid_input_not_a_crash() -> None:
    rejection("{{ " + "(" * 5000 + "ticket.number" + ")" * 5000 + " }}")
    rejection("{{ " + "9" * 5000 + " }}")


def test_a_template_that_fails_on_every_ticket_is_refused_with_its_line() -> None:
    error = rejection("ok\n{{ ticket.title | truncate('long') }}")
    assert error.line == 2


def test_the_body_and_the_rendered_text_are_bounded() -> None:
    assert "KB" in rejection("x" * (MAX_TEMPLATE_BYTES + 1)).detail
    big = values()
    big["ticket"]["title"] = "t" * 10_000
    source = "{{ ticket.title }}" * (MAX_OUTPUT_CHARS // 10_000 + 1)
    with pytest.raises(TemplateError, match="longer than"):
        render_template(source, big)


def test_the_sample_values_fill_every_placeholder() -> None:
    source = " ".join(f"{{{{ {name} }}}}" for name in AVAILABLE_VARIABLES)
    assert check_template(source) == AVAILABLE_VARIABLES
    rendered = render_template(source, sample_values()).body
    assert "42" in rendered
    assert "{{" not in rendered
