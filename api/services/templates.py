"""Response templates: checking and storing them, filling them in for a ticket, and the
defaults every helpdesk starts with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.schemas.templates import TemplateCreate, TemplateUpdate
from api.services import tickets as tickets_service
from domain.enums import Locale, Role
from domain.errors import Conflict, Forbidden, NotFound
from domain.templates import (
    AVAILABLE_VARIABLES,
    Contact,
    Rendered,
    TemplateError,
    TicketLinks,
    check_template,
    placeholder_values,
    render_template,
)
from domain.views import TicketView
from persistence.models import ResponseTemplate, User
from persistence.outbox import Links
from persistence.repositories import departments as departments_repo
from persistence.repositories import templates as templates_repo
from persistence.repositories import users as users_repo
from persistence.repositories.templates import TemplateFields
from ticketflow.settings import Settings

# -- errors ----------------------------------------------------------------------------------


def invalid_template(error: TemplateError, loc: tuple[str, ...] = ("body", "body")) -> ApiError:
    """A 422 naming the line at fault and every placeholder a template may use."""
    item: dict[str, Any] = {"loc": list(loc), "msg": error.detail, "type": error.code}
    extra: dict[str, Any] = {"available_variables": AVAILABLE_VARIABLES, "errors": [item]}
    if error.line is not None:
        item["ctx"] = {"line": str(error.line)}
        extra["line"] = error.line
    return ApiError(422, error.detail, code=error.code, extra=extra)


def _placeholders_of(body: str) -> list[str]:
    try:
        return check_template(body)
    except TemplateError as error:
        raise invalid_template(error) from error


# -- storing ---------------------------------------------------------------------------------


async def get_template(session: AsyncSession, template_id: UUID) -> ResponseTemplate:
    """The template, or 404."""
    row = await templates_repo.get(session, template_id)
    if row is None:
        raise NotFound("no such response template")
    return row


async def _check_name_free(
    session: AsyncSession, name: str, locale: Locale, template_id: UUID | None = None
) -> None:
    # Agents pick templates by name, and the seed finds its own by name and language.
    existing = await templates_repo.find(session, name, locale)
    if existing is not None and existing.id != template_id:
        raise Conflict(f"a {locale.value} response template named {name!r} already exists")


async def _editable(session: AsyncSession, template_id: UUID, caller: User) -> ResponseTemplate:
    row = await get_template(session, template_id)
    if caller.role is not Role.ADMIN and row.created_by != caller.id:
        raise Forbidden("only the template's author or an admin can change it")
    return row


def _fields(name: str, category: str | None, locale: Locale, body: str) -> TemplateFields:
    variables = _placeholders_of(body)
    return TemplateFields(
        name=name, category=category, locale=locale, body=body, variables=variables
    )


async def create_template(
    session: AsyncSession, body: TemplateCreate, author: User
) -> ResponseTemplate:
    """Check and store a template; its language defaults to the author's."""
    fields = _fields(body.name, body.category, body.locale or author.locale, body.body)
    await _check_name_free(session, fields.name, fields.locale)
    return await templates_repo.create(session, fields, author.id)


async def update_template(
    session: AsyncSession, template_id: UUID, body: TemplateUpdate, caller: User
) -> ResponseTemplate:
    """Change the fields given (author or admin); the merged template is checked again."""
    row = await _editable(session, template_id, caller)
    given = body.model_dump(exclude_unset=True)
    # null clears the category; for any other field it means "leave as is".
    given = {k: v for k, v in given.items() if v is not None or k == "category"}
    current = {"name": row.name, "category": row.category, "locale": row.locale, "body": row.body}
    fields = _fields(**{**current, **given})
    await _check_name_free(session, fields.name, fields.locale, template_id)
    updated = await templates_repo.replace(session, template_id, fields)
    if updated is None:
        raise NotFound("no such response template")
    return updated


async def delete_template(session: AsyncSession, template_id: UUID, caller: User) -> None:
    """Delete a template (its author or an admin)."""
    await _editable(session, template_id, caller)
    if not await templates_repo.delete_template(session, template_id):
        raise NotFound("no such response template")


# -- rendering -------------------------------------------------------------------------------


def ticket_links(settings: Settings, ticket: TicketView) -> TicketLinks:
    """Where the ticket, and its requester's survey page, live under the public URL."""
    links = Links(settings.public_url, settings.jwt_secret)
    return TicketLinks(
        url=links.ticket(ticket.number), survey_url=links.survey(ticket.number, ticket.requester_id)
    )


async def _contact(session: AsyncSession, user_id: UUID | None) -> Contact | None:
    user = await users_repo.get(session, user_id) if user_id is not None else None
    return Contact(name=user.name, email=user.email) if user is not None else None


async def _values(
    session: AsyncSession, settings: Settings, ticket: TicketView, locale: Locale
) -> dict[str, dict[str, str]]:
    department = await departments_repo.get(session, ticket.department_id)
    return placeholder_values(
        ticket,
        locale=locale,
        links=ticket_links(settings, ticket),
        requester=await _contact(session, ticket.requester_id),
        agent=await _contact(session, ticket.assignee_id),
        department=department.name if department is not None else None,
    )


async def render_for_ticket(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    caller: User,
    template_id: UUID,
    ticket: int | UUID,
) -> Rendered:
    """The template filled in for a ticket the caller may see (404 for any other)."""
    row = await get_template(session, template_id)
    found = await tickets_service.find_ticket(session, temporal, caller, str(ticket))
    values = await _values(session, settings, found.view, row.locale)
    try:
        return render_template(row.body, values)
    except TemplateError as error:
        raise invalid_template(error, loc=("template", "body")) from error


# -- defaults --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateSeed:
    name: str
    category: str
    locale: Locale
    body: str


def _lines(*lines: str) -> str:
    """A template body from its lines (a paragraph is one line: mail clients wrap it)."""
    return "\n".join(lines) + "\n"


_SIGNED_EN = ("Kind regards,", '{{ agent.name | default("The support team", true) }}')
_SIGNED_ES = ("Un saludo,", '{{ agent.name | default("El equipo de soporte", true) }}')

_ACK_EN = _lines(
    "Subject: [#{{ ticket.number }}] We have received your request: {{ ticket.title }}",
    "",
    "Hello {{ requester.name }},",
    "",
    'Thank you for contacting {{ department.name | default("our support team", true) }}. '
    'We have registered your request as ticket #{{ ticket.number }} ("{{ ticket.title }}") '
    "with priority {{ ticket.priority }}.",
    "",
    "{% if agent.name %}",
    "{{ agent.name }} is looking after it and will get back to you shortly.",
    "{% else %}",
    "One of our agents will pick it up shortly.",
    "{% endif %}",
    "",
    "You can follow it at {{ ticket.url }}. If you have anything to add, just reply to this "
    "message.",
    "",
    *_SIGNED_EN,
)

_ACK_ES = _lines(
    "Asunto: [#{{ ticket.number }}] Hemos recibido su solicitud: {{ ticket.title }}",
    "",
    "Hola, {{ requester.name }}:",
    "",
    "Gracias por contactar con "
    '{{ department.name | default("nuestro equipo de soporte", true) }}. '
    "Hemos registrado su solicitud como el ticket n.º {{ ticket.number }} "
    "(«{{ ticket.title }}») con prioridad {{ ticket.priority }}.",
    "",
    "{% if agent.name %}",
    "{{ agent.name }} se encarga de ella y le responderá en breve.",
    "{% else %}",
    "Uno de nuestros agentes la atenderá en breve.",
    "{% endif %}",
    "",
    "Puede seguirla en {{ ticket.url }}. Si quiere añadir algo, basta con responder a este "
    "mensaje.",
    "",
    *_SIGNED_ES,
)

_WAITING_EN = _lines(
    "Subject: [#{{ ticket.number }}] We need a little more information",
    "",
    "Hello {{ requester.name }},",
    "",
    'To keep working on ticket #{{ ticket.number }} ("{{ ticket.title }}") we need a few '
    "more details from you:",
    "",
    "- what exactly happens, and the full text of any error message;",
    "- since when it happens, and whether anything changed just before;",
    "- a screenshot, if you can take one.",
    "",
    "Please reply to this message with that information. Until we hear from you the ticket "
    "stays on hold; your reply puts it back in our queue straight away.",
    "",
    *_SIGNED_EN,
)

_WAITING_ES = _lines(
    "Asunto: [#{{ ticket.number }}] Necesitamos algo más de información",
    "",
    "Hola, {{ requester.name }}:",
    "",
    "Para seguir trabajando en el ticket n.º {{ ticket.number }} («{{ ticket.title }}») "
    "necesitamos algunos datos más:",
    "",
    "- qué ocurre exactamente y el texto completo de cualquier mensaje de error;",
    "- desde cuándo ocurre y si cambió algo justo antes;",
    "- una captura de pantalla, si puede hacerla.",
    "",
    "Responda a este mensaje con esa información, por favor. Mientras tanto el ticket queda "
    "en espera; en cuanto responda, vuelve a nuestra cola.",
    "",
    *_SIGNED_ES,
)

_RESOLVED_EN = _lines(
    "Subject: [#{{ ticket.number }}] Your request has been resolved",
    "",
    "Hello {{ requester.name }},",
    "",
    'We have resolved ticket #{{ ticket.number }} ("{{ ticket.title }}"). If the problem is '
    "still there, just reply to this message and the ticket will reopen; otherwise it will "
    "close by itself in a few days.",
    "",
    "How did we do? Please rate the help you received from 1 to 10 here (it takes a few "
    "seconds and helps us get better):",
    "{{ ticket.survey_url }}",
    "",
    *_SIGNED_EN,
)

_RESOLVED_ES = _lines(
    "Asunto: [#{{ ticket.number }}] Su solicitud está resuelta",
    "",
    "Hola, {{ requester.name }}:",
    "",
    "Hemos resuelto el ticket n.º {{ ticket.number }} («{{ ticket.title }}»). Si el problema "
    "continúa, basta con responder a este mensaje y el ticket se reabrirá; si no, se cerrará "
    "solo en unos días.",
    "",
    "¿Qué tal lo hemos hecho? Valore la ayuda recibida del 1 al 10 aquí (le llevará unos "
    "segundos y nos ayuda a mejorar):",
    "{{ ticket.survey_url }}",
    "",
    *_SIGNED_ES,
)

_PASSWORD_EN = _lines(
    "Subject: [#{{ ticket.number }}] How to reset your password",
    "",
    "Hello {{ requester.name }},",
    "",
    "To choose a new password:",
    "",
    '1. Open the sign-in page and click "Forgot your password?".',
    "2. Enter your e-mail address, {{ requester.email }}.",
    "3. We will e-mail you a link to set a new password. It works once and only for a short "
    "time, so use it soon.",
    "4. Pick a password of at least 8 characters that you do not use anywhere else.",
    "",
    "If the e-mail has not arrived after a few minutes, check your spam folder and then reply "
    "to this message. We will never ask you for your password.",
    "",
    *_SIGNED_EN,
)

_PASSWORD_ES = _lines(
    "Asunto: [#{{ ticket.number }}] Cómo restablecer su contraseña",
    "",
    "Hola, {{ requester.name }}:",
    "",
    "Para elegir una contraseña nueva:",
    "",
    "1. Abra la página de inicio de sesión y pulse «¿Olvidó su contraseña?».",
    "2. Escriba su dirección de correo, {{ requester.email }}.",
    "3. Le enviaremos un enlace para establecer la contraseña nueva. Solo sirve una vez y "
    "durante poco tiempo, así que úselo pronto.",
    "4. Elija una contraseña de al menos 8 caracteres que no use en ningún otro sitio.",
    "",
    "Si el correo no ha llegado en unos minutos, revise la carpeta de spam y después responda "
    "a este mensaje. Nunca le pediremos su contraseña.",
    "",
    *_SIGNED_ES,
)

DEFAULT_TEMPLATES: tuple[TemplateSeed, ...] = (
    TemplateSeed("Acknowledgement", "acknowledgement", Locale.EN, _ACK_EN),
    TemplateSeed("Acuse de recibo", "acknowledgement", Locale.ES, _ACK_ES),
    TemplateSeed("Waiting for information", "waiting_for_information", Locale.EN, _WAITING_EN),
    TemplateSeed("Esperando información", "waiting_for_information", Locale.ES, _WAITING_ES),
    TemplateSeed("Resolved, with satisfaction survey", "resolution", Locale.EN, _RESOLVED_EN),
    TemplateSeed("Resuelto, con encuesta de satisfacción", "resolution", Locale.ES, _RESOLVED_ES),
    TemplateSeed("Password reset instructions", "account", Locale.EN, _PASSWORD_EN),
    TemplateSeed(
        "Instrucciones para restablecer la contraseña", "account", Locale.ES, _PASSWORD_ES
    ),
)


async def seed_templates(session: AsyncSession, created_by: UUID) -> int:
    """Store the default templates not there yet (by name and language); how many were added.

    Flushes but does not commit: the caller's transaction decides.
    """
    added = 0
    for seed in DEFAULT_TEMPLATES:
        if await templates_repo.find(session, seed.name, seed.locale) is None:
            fields = _fields(seed.name, seed.category, seed.locale, seed.body)
            await templates_repo.create(session, fields, created_by)
            added += 1
    return added
