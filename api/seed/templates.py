"""The response templates a new desk starts with: four kinds, each in English and Spanish.

Placeholders are the template language's (`{{ ticket.number }}`, `{{ requester.name }}`, …);
`ticketflow init` stores those of the desk's language, the demo both.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.services.templates import template_fields
from domain.enums import Locale
from persistence.repositories import templates as templates_repo


@dataclass(frozen=True, slots=True)
class TemplateSeed:
    """A default template; `key` stays the same in every language and version."""

    name: str
    category: str
    locale: Locale
    body: str

    @property
    def key(self) -> str:
        return f"template:{self.category}:{self.locale.value}"


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


async def store_template(session: AsyncSession, seed: TemplateSeed, created_by: UUID) -> bool:
    """Store the template unless its name is taken in its language; whether it was stored."""
    if await templates_repo.find(session, seed.name, seed.locale) is not None:
        return False
    fields = template_fields(seed.name, seed.category, seed.locale, seed.body)
    await templates_repo.create(session, fields, created_by)
    return True
