"""The words each recipient reads, in Spanish and English, and the channels they get."""

import pytest

from domain.enums import Locale
from domain.notices import EMAIL, compose, external_channels

VALUES = {
    "number": "42",
    "title": "Printer on fire",
    "name": "Ana",
    "url": "https://help.example.com/api/v1/tickets/42",
    "survey_url": "https://help.example.com/api/v1/tickets/42/rate",
    "subject": "Check the toner",
    "body": "Check the toner: Printer on fire",
    "minutes_left": "12",
    "into": "7",
    "department": "Networks",
}

# Every event the domain notifies (operations.py, automation.py), one of each family.
DOMAIN_EVENTS = [
    "created",
    "assigned",
    "sla_warning.first_response",
    "sla_breached.resolution",
    "sla_escalation.first_response.1",
    "escalated.2",
    "incident",
    "resolved",
    "merged",
    "mentioned",
    "replied",
    "department_changed",
    "automation",
]


@pytest.mark.parametrize("event", DOMAIN_EVENTS)
def test_every_event_the_domain_sends_has_its_own_spanish_text(event: str) -> None:
    english = compose(event, Locale.EN, VALUES)
    spanish = compose(event, Locale.ES, VALUES)
    assert spanish.body != english.body
    for notice in (english, spanish):
        assert notice.subject.startswith("[#42] ")
        assert VALUES["url"] in notice.body


def test_a_reply_carries_its_text_under_the_tickets_own_subject() -> None:
    values = {**VALUES, "body": "Please restart the router {now}."}
    for locale in Locale:
        notice = compose("replied", locale, values)
        assert notice.subject == "[#42] Printer on fire"
        assert "Please restart the router {now}." in notice.body
    assert "nueva respuesta" in compose("replied", Locale.ES, values).body


def test_a_reply_reaches_the_requester_by_email_unless_they_turned_it_off() -> None:
    assert external_channels("replied", {}) == [EMAIL]
    assert external_channels("replied", {EMAIL: False}) == []


def test_escalation_and_move_texts_name_the_level_and_the_department() -> None:
    escalated = compose("escalated.2", Locale.ES, VALUES)
    assert escalated.subject == "[#42] Escalado al nivel 2: Printer on fire"
    moved = compose("department_changed", Locale.EN, VALUES)
    assert moved.subject == "[#42] Moved to Networks: Printer on fire"
