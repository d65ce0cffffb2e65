"""The satisfaction survey's pages: the 1–10 form, the thank-you, and what went wrong.

Small HTML pages in the requester's language (`es`, `en`), rendered by a sandboxed Jinja
environment that escapes every value: a ticket's title is whatever its requester typed.
The texts are formatted first and escaped with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jinja2 import DictLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from domain.enums import Locale

SCORES = range(1, 11)

Reason = Literal["invalid", "expired", "not_rateable", "bad_score", "bad_comment", "unavailable"]
_BAD_ANSWER: frozenset[Reason] = frozenset({"bad_score", "bad_comment"})

# Nothing on these pages loads from elsewhere, runs script, or may be framed; the form
# posts back to this same address.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_BASE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ heading }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
main { max-width: 36rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem;
       border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.ticket { color: #5b6475; }
.scale { display: flex; flex-wrap: wrap; gap: .4rem; border: 0; padding: 0; margin: 1rem 0; }
.scale label { display: inline-flex; flex-direction: column; align-items: center;
               min-width: 2.4rem; padding: .3rem; border: 1px solid #c8ccd4;
               border-radius: .3rem; cursor: pointer; }
.ends { display: flex; justify-content: space-between; font-size: .85rem; color: #5b6475; }
textarea { width: 100%; min-height: 6rem; box-sizing: border-box; }
button { margin-top: 1rem; padding: .5rem 1.2rem; font-size: 1rem; }
.error { color: #a4161a; }
</style>
</head>
<body><main>
<h1>{{ heading }}</h1>
{% block content %}{% endblock %}
</main></body>
</html>
"""

_FORM = """{% extends "base.html" %}
{% block content %}
<p class="ticket">{{ ticket }}</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<p>{{ question }}</p>
<form method="post">
<fieldset class="scale">
<legend>{{ legend }}</legend>
{% for score in scores %}
<label><input type="radio" name="score" value="{{ score }}" required
{%- if score == chosen %} checked{% endif %}>{{ score }}</label>
{% endfor %}
</fieldset>
<div class="ends"><span>{{ low }}</span><span>{{ high }}</span></div>
<p><label for="comment">{{ comment_label }}</label></p>
<textarea id="comment" name="comment" maxlength="10000">{{ comment }}</textarea>
<button type="submit">{{ submit }}</button>
</form>
{% endblock %}
"""

_MESSAGE = """{% extends "base.html" %}
{% block content %}
{% if ticket %}<p class="ticket">{{ ticket }}</p>{% endif %}
<p>{{ message }}</p>
{% endblock %}
"""

_environment = SandboxedEnvironment(
    loader=DictLoader({"base.html": _BASE, "form.html": _FORM, "message.html": _MESSAGE}),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class _Texts:
    heading: str
    ticket: str
    question: str
    legend: str
    low: str
    high: str
    comment_label: str
    submit: str
    rated_before: str
    thanks_heading: str
    thanks: str
    problem_heading: str
    reasons: dict[Reason, str]


_TEXTS: dict[Locale, _Texts] = {
    Locale.EN: _Texts(
        heading="How did we do?",
        ticket="Request #{number}: {title}",
        question="{name}, how would you rate the help you got?",
        legend="Your rating, from 1 (very poor) to 10 (excellent)",
        low="1 · very poor",
        high="10 · excellent",
        comment_label="Anything you would like to tell us? (optional)",
        submit="Send my rating",
        rated_before="You rated it {score}/10 before; sending another rating replaces it.",
        thanks_heading="Thank you!",
        thanks="We have your rating of {score}/10 for request #{number}.",
        problem_heading="This survey cannot be answered",
        reasons={
            "invalid": "This survey link is not valid. Please use the link from your message.",
            "expired": "This survey link has expired.",
            "not_rateable": "This request is not resolved, so it cannot be rated now.",
            "bad_score": "Please choose a rating from 1 to 10.",
            "bad_comment": "Your comment could not be taken: at most 10,000 characters of text.",
            "unavailable": "We could not record your rating just now. Please try again.",
        },
    ),
    Locale.ES: _Texts(
        heading="¿Qué tal lo hicimos?",
        ticket="Solicitud #{number}: {title}",
        question="{name}, ¿cómo valora la ayuda que recibió?",
        legend="Su valoración, de 1 (muy mala) a 10 (excelente)",
        low="1 · muy mala",
        high="10 · excelente",
        comment_label="¿Quiere contarnos algo más? (opcional)",
        submit="Enviar mi valoración",
        rated_before="Ya la valoró con {score}/10; si envía otra, la sustituye.",
        thanks_heading="¡Gracias!",
        thanks="Hemos recibido su valoración de {score}/10 para la solicitud #{number}.",
        problem_heading="No se puede responder a esta encuesta",
        reasons={
            "invalid": "Este enlace de encuesta no es válido. Use el enlace de su mensaje.",
            "expired": "Este enlace de encuesta ha caducado.",
            "not_rateable": "Esta solicitud no está resuelta, así que aún no se puede valorar.",
            "bad_score": "Elija una valoración del 1 al 10.",
            "bad_comment": "No hemos podido aceptar su comentario: como mucho 10.000 caracteres.",
            "unavailable": "No hemos podido guardar su valoración ahora. Inténtelo de nuevo.",
        },
    ),
}


@dataclass(frozen=True)
class SurveyTicket:
    """What the pages show of the ticket being rated."""

    number: int
    title: str
    requester_name: str
    score: int | None = None
    feedback: str | None = None


def _ticket_line(texts: _Texts, ticket: SurveyTicket) -> str:
    return texts.ticket.format(number=ticket.number, title=" ".join(ticket.title.split()))


def form_page(locale: Locale, ticket: SurveyTicket, *, error: Reason | None = None) -> str:
    """The 1–10 form; a score given before is chosen, its comment filled in."""
    texts = _TEXTS[locale]
    question = texts.question.format(name=ticket.requester_name)
    if ticket.score is not None and error is None:
        question = f"{question} {texts.rated_before.format(score=ticket.score)}"
    return _environment.get_template("form.html").render(
        lang=locale.value,
        heading=texts.heading,
        ticket=_ticket_line(texts, ticket),
        error=texts.reasons[error] if error else None,
        question=question,
        legend=texts.legend,
        scores=SCORES,
        chosen=ticket.score,
        low=texts.low,
        high=texts.high,
        comment_label=texts.comment_label,
        comment=ticket.feedback or "",
        submit=texts.submit,
    )


def thanks_page(locale: Locale, ticket: SurveyTicket, score: int) -> str:
    texts = _TEXTS[locale]
    return _environment.get_template("message.html").render(
        lang=locale.value,
        heading=texts.thanks_heading,
        ticket=_ticket_line(texts, ticket),
        message=texts.thanks.format(score=score, number=ticket.number),
    )


def problem_page(locale: Locale, reason: Reason, ticket: SurveyTicket | None = None) -> str:
    """What went wrong; a bad answer shows the form again, saying what to fix."""
    if reason in _BAD_ANSWER and ticket is not None:
        return form_page(locale, ticket, error=reason)
    texts = _TEXTS[locale]
    return _environment.get_template("message.html").render(
        lang=locale.value,
        heading=texts.problem_heading,
        ticket=_ticket_line(texts, ticket) if ticket else None,
        message=texts.reasons[reason],
    )


def locale_of(accept_language: str | None) -> Locale:
    """The page language for someone not known yet: Spanish if their browser prefers it."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    return Locale.ES if first.split("-")[0] == "es" else Locale.EN
