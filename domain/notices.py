"""Who hears of what, on which channels, and the words they read, in Spanish and English.

A notification intent names an event (`assigned`, `sla_warning.first_response`, …). The
event's family (the part before the first dot) decides the channels a recipient gets by
default and the text they read in their own locale. Preferences can turn any channel on or
off; the defaults are quiet: SMS and Slack only for those who ask, push only for agents' work
and SLA alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from domain.enums import Locale

IN_APP: Final = "in_app"
EMAIL: Final = "email"
SMS: Final = "sms"
PUSH: Final = "push"
SLACK: Final = "slack"
EXTERNAL_CHANNELS: Final = (EMAIL, SMS, PUSH, SLACK)

_ALARM = frozenset({EMAIL, PUSH})
DEFAULT_CHANNELS: Final[Mapping[str, frozenset[str]]] = {
    "created": frozenset({EMAIL}),
    "assigned": frozenset({EMAIL, PUSH}),
    "sla_warning": _ALARM,
    "sla_breached": _ALARM,
    "sla_escalation": _ALARM,
    "escalated": _ALARM,
    "incident": _ALARM,
    "resolved": frozenset({EMAIL}),
    "replied": frozenset({EMAIL}),
    "mentioned": frozenset({EMAIL}),
    "department_changed": frozenset({EMAIL}),
    "merged": frozenset({EMAIL}),
}


def family(event: str) -> str:
    return event.partition(".")[0]


def external_channels(event: str, preferences: Mapping[str, bool]) -> list[str]:
    """The channels besides in-app a recipient gets for `event`, defaults then preferences."""
    defaults = DEFAULT_CHANNELS.get(family(event), frozenset())
    return [c for c in EXTERNAL_CHANNELS if preferences.get(c, c in defaults)]


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    body: str


# Placeholders: {number} {title} {name} {url} {survey_url} {subject} {body}, what the intent
# adds ({minutes_left}, {into}, {department}), and from the event's second part {metric}
# (`sla_warning.first_response`) or {level} (`escalated.2`). Every event the domain sends has
# its texts here; for any other, the subject and body the workflow wrote stand in.
TEAM_CREATED: Final = "team_created"
_TEXTS: Final[Mapping[str, Mapping[Locale, Notice]]] = {
    "created": {
        Locale.EN: Notice(
            "[#{number}] We received your request: {title}",
            'Hello {name},\n\nYour request #{number} "{title}" is open and our team will get'
            " back to you soon. Reply to this e-mail to add anything.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Hemos recibido su solicitud: {title}",
            "Hola, {name}:\n\nSu solicitud #{number} «{title}» está abierta y nuestro equipo le"
            " responderá en breve. Responda a este correo para añadir lo que quiera.\n\n{url}",
        ),
    },
    "assigned": {
        Locale.EN: Notice(
            "[#{number}] Assigned to you: {title}",
            'Hello {name},\n\nTicket #{number} "{title}" is now yours.\n\n{url}',
        ),
        Locale.ES: Notice(
            "[#{number}] Asignado a usted: {title}",
            "Hola, {name}:\n\nEl ticket #{number} «{title}» es ahora suyo.\n\n{url}",
        ),
    },
    "sla_warning": {
        Locale.EN: Notice(
            "[#{number}] SLA warning: {minutes_left} min left",
            'Ticket #{number} "{title}" has {minutes_left} minutes left on its {metric}'
            " target.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Aviso de SLA: quedan {minutes_left} min",
            "Al ticket #{number} «{title}» le quedan {minutes_left} minutos de su objetivo de"
            " {metric}.\n\n{url}",
        ),
    },
    "sla_breached": {
        Locale.EN: Notice(
            "[#{number}] SLA breached: {title}",
            'Ticket #{number} "{title}" missed its {metric} target.\n\n{url}',
        ),
        Locale.ES: Notice(
            "[#{number}] SLA incumplido: {title}",
            "El ticket #{number} «{title}» ha incumplido su objetivo de {metric}.\n\n{url}",
        ),
    },
    "sla_escalation": {
        Locale.EN: Notice(
            "[#{number}] Escalated: {title}",
            'Ticket #{number} "{title}" missed its {metric} target and is escalated to'
            " you.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Escalado: {title}",
            "El ticket #{number} «{title}» ha incumplido su objetivo de {metric} y se le"
            " escala.\n\n{url}",
        ),
    },
    "resolved": {
        Locale.EN: Notice(
            "[#{number}] Resolved: {title}",
            'Hello {name},\n\nYour request #{number} "{title}" has been resolved. If it is'
            " not, just reply to this e-mail and we will reopen it.\n\nHow did we do? Rate"
            " us from 1 to 10: {survey_url}\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Resuelto: {title}",
            "Hola, {name}:\n\nSu solicitud #{number} «{title}» está resuelta. Si no es así,"
            " responda a este correo y la reabriremos.\n\n¿Qué tal lo hicimos? Valórenos del"
            " 1 al 10: {survey_url}\n\n{url}",
        ),
    },
    "merged": {
        Locale.EN: Notice(
            "[#{number}] Continued as #{into}: {title}",
            'Hello {name},\n\nYour request #{number} "{title}" is the same as request'
            " #{into}, so we follow it up there.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Continúa como #{into}: {title}",
            "Hola, {name}:\n\nSu solicitud #{number} «{title}» es la misma que la #{into},"
            " así que seguimos con ella allí.\n\n{url}",
        ),
    },
    "mentioned": {
        Locale.EN: Notice(
            "[#{number}] You were mentioned: {title}",
            'Hello {name},\n\nYou were mentioned on ticket #{number} "{title}".\n\n{url}',
        ),
        Locale.ES: Notice(
            "[#{number}] Le han mencionado: {title}",
            "Hola, {name}:\n\nLe han mencionado en el ticket #{number} «{title}».\n\n{url}",
        ),
    },
    # The subject is the ticket's own, tag first, so the requester's mail client keeps the
    # whole conversation in one thread and an answer finds its way back to the ticket.
    "replied": {
        Locale.EN: Notice(
            "[#{number}] {title}",
            'Hello {name},\n\nThere is a new reply to your request #{number} "{title}":'
            "\n\n{body}\n\nReply to this e-mail to answer.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] {title}",
            "Hola, {name}:\n\nHay una nueva respuesta a su solicitud #{number} «{title}»:"
            "\n\n{body}\n\nResponda a este correo para contestar.\n\n{url}",
        ),
    },
    "department_changed": {
        Locale.EN: Notice(
            "[#{number}] Moved to {department}: {title}",
            'Hello {name},\n\nTicket #{number} "{title}" was moved to {department}, your'
            " department, and waits for an agent there.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Trasladado a {department}: {title}",
            "Hola, {name}:\n\nEl ticket #{number} «{title}» se ha trasladado a {department},"
            " su departamento, y espera a un agente allí.\n\n{url}",
        ),
    },
    "escalated": {
        Locale.EN: Notice(
            "[#{number}] Escalated to level {level}: {title}",
            'Hello {name},\n\nTicket #{number} "{title}" was escalated to level {level} and'
            " needs your attention.\n\n{url}",
        ),
        Locale.ES: Notice(
            "[#{number}] Escalado al nivel {level}: {title}",
            "Hola, {name}:\n\nEl ticket #{number} «{title}» se ha escalado al nivel {level} y"
            " requiere su atención.\n\n{url}",
        ),
    },
    "incident": {
        Locale.EN: Notice(
            "[#{number}] Incident opened: {title}",
            'Hello {name},\n\nAn incident was opened for ticket #{number} "{title}".\n\n{url}',
        ),
        Locale.ES: Notice(
            "[#{number}] Incidente abierto: {title}",
            "Hola, {name}:\n\nSe ha abierto un incidente por el ticket #{number} «{title}»."
            "\n\n{url}",
        ),
    },
    # A rule's notification: {subject} is the message the rule's author wrote.
    "automation": {
        Locale.EN: Notice(
            "[#{number}] {subject}",
            'Hello {name},\n\n{subject}\n\nTicket #{number} "{title}"\n\n{url}',
        ),
        Locale.ES: Notice(
            "[#{number}] {subject}",
            "Hola, {name}:\n\n{subject}\n\nTicket #{number} «{title}»\n\n{url}",
        ),
    },
    # What a team's channel reads of a new ticket ({excerpt}: the start of its description).
    TEAM_CREATED: {
        Locale.EN: Notice("[#{number}] New ticket: {title}", "{excerpt}\n\n{url}"),
        Locale.ES: Notice("[#{number}] Nuevo ticket: {title}", "{excerpt}\n\n{url}"),
    },
}
_FALLBACK: Final[Mapping[Locale, Notice]] = {
    Locale.EN: Notice("[#{number}] {subject}", "{body}\n\n{url}"),
    Locale.ES: Notice("[#{number}] {subject}", "{body}\n\n{url}"),
}
_METRICS: Final[Mapping[Locale, Mapping[str, str]]] = {
    Locale.EN: {
        "first_response": "first response",
        "next_response": "next response",
        "resolution": "resolution",
    },
    Locale.ES: {
        "first_response": "primera respuesta",
        "next_response": "siguiente respuesta",
        "resolution": "resolución",
    },
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def compose(event: str, locale: Locale, values: Mapping[str, str]) -> Notice:
    """The notice for `event` in `locale`, filled in with `values` (missing ones blank)."""
    texts = _TEXTS.get(family(event), _FALLBACK)
    notice = texts.get(locale, texts[Locale.EN])
    filled = _Blank(values)
    qualifier = event.split(".")[1] if event.count(".") >= 1 else ""
    filled.setdefault("metric", _METRICS[locale].get(qualifier, qualifier.replace("_", " ")))
    filled.setdefault("level", qualifier)
    return Notice(notice.subject.format_map(filled), notice.body.format_map(filled))


__all__ = [
    "DEFAULT_CHANNELS",
    "EXTERNAL_CHANNELS",
    "TEAM_CREATED",
    "Notice",
    "compose",
    "external_channels",
    "family",
]
