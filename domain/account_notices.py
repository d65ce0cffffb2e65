"""The words of account messages (reset, verification, invitation, phone code), in Spanish
and English, for e-mail and SMS; and what the notification row keeps instead of them.

They sit beside `domain.notices` (the ticket notices) and fill in the same way. Placeholders:
{name}, {address} (the e-mail or phone the message goes to), {login} (the e-mail to log in
with), {link}, {code}, {valid_for} ("1 hour", "3 días").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Literal

from domain.accounts import AccountPurpose
from domain.enums import Locale
from domain.notices import Notice

AccountChannel = Literal["email", "sms"]

_EMAIL: Final[Mapping[AccountPurpose, Mapping[Locale, Notice]]] = {
    AccountPurpose.PASSWORD_RESET: {
        Locale.EN: Notice(
            "Reset your password",
            "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your"
            " support account. To choose a new one, open this link within {valid_for}:"
            "\n\n{link}\n\nIf it was not you, ignore this e-mail: your password stays as it is.",
        ),
        Locale.ES: Notice(
            "Restablezca su contraseña",
            "Hola, {name}:\n\nAlguien (esperamos que usted) ha pedido restablecer la contraseña"
            " de su cuenta de soporte. Para elegir una nueva, abra este enlace en un plazo de"
            " {valid_for}:\n\n{link}\n\nSi no ha sido usted, ignore este correo: su contraseña"
            " no cambia.",
        ),
    },
    AccountPurpose.EMAIL_VERIFICATION: {
        Locale.EN: Notice(
            "Confirm your e-mail address",
            "Hello {name},\n\nPlease confirm that {address} is yours by opening this link"
            " within {valid_for}:\n\n{link}\n\nIf you did not open an account with us, ignore"
            " this e-mail.",
        ),
        Locale.ES: Notice(
            "Confirme su dirección de correo",
            "Hola, {name}:\n\nConfirme que {address} es suya abriendo este enlace en un plazo de"
            " {valid_for}:\n\n{link}\n\nSi no ha abierto una cuenta con nosotros, ignore este"
            " correo.",
        ),
    },
    AccountPurpose.INVITATION: {
        Locale.EN: Notice(
            "Set a password for your support account",
            "Hello {name},\n\nWe keep your requests in a support account for {address}. To"
            " follow them online, choose a password within {valid_for}:\n\n{link}\n\nYou log"
            " in as {login}. You can also keep writing to us as you did, without a password.",
        ),
        Locale.ES: Notice(
            "Elija una contraseña para su cuenta de soporte",
            "Hola, {name}:\n\nGuardamos sus solicitudes en una cuenta de soporte para"
            " {address}. Para seguirlas en línea, elija una contraseña en un plazo de {valid_for}:"
            "\n\n{link}\n\nSu usuario es {login}. También puede seguir escribiéndonos como hasta"
            " ahora, sin contraseña.",
        ),
    },
}
# A text message has no subject line of its own: the SMS channel puts it first, then the body.
_SMS: Final[Mapping[AccountPurpose, Mapping[Locale, Notice]]] = {
    AccountPurpose.PASSWORD_RESET: {
        Locale.EN: Notice("Support", "Reset your password within {valid_for}: {link}"),
        Locale.ES: Notice(
            "Soporte", "Restablezca su contraseña en un plazo de {valid_for}: {link}"
        ),
    },
    AccountPurpose.INVITATION: {
        Locale.EN: Notice(
            "Support",
            "Follow your requests online: choose a password within {valid_for} (you log in"
            " as {login}): {link}",
        ),
        Locale.ES: Notice(
            "Soporte",
            "Siga sus solicitudes en línea: elija una contraseña en un plazo de {valid_for} (su"
            " usuario es {login}): {link}",
        ),
    },
    AccountPurpose.PHONE_VERIFICATION: {
        Locale.EN: Notice(
            "Support",
            "Your phone verification code is {code}. It expires in {valid_for}. Never share it.",
        ),
        Locale.ES: Notice(
            "Soporte",
            "Su código para verificar el teléfono es {code}. Caduca en {valid_for}."
            " No lo comparta con nadie.",
        ),
    },
}
_TEXTS: Final[Mapping[AccountChannel, Mapping[AccountPurpose, Mapping[Locale, Notice]]]] = {
    "email": _EMAIL,
    "sms": _SMS,
}

# What the notification row says was sent: the link or code is never stored.
REDACTED: Final[Mapping[AccountPurpose, str]] = {
    AccountPurpose.PASSWORD_RESET: "password reset link sent (the link is not kept)",
    AccountPurpose.EMAIL_VERIFICATION: "e-mail verification link sent (the link is not kept)",
    AccountPurpose.INVITATION: "invitation link sent (the link is not kept)",
    AccountPurpose.PHONE_VERIFICATION: "phone verification code sent (the code is not kept)",
}

_UNITS: Final[Mapping[Locale, tuple[tuple[int, str, str], ...]]] = {
    Locale.EN: ((86_400, "day", "days"), (3_600, "hour", "hours"), (60, "minute", "minutes")),
    Locale.ES: ((86_400, "día", "días"), (3_600, "hora", "horas"), (60, "minuto", "minutos")),
}


def valid_for(ttl: timedelta, locale: Locale) -> str:
    """How long a link or code lasts, in the largest whole unit: "1 hour", "3 días"."""
    seconds = max(60, int(ttl.total_seconds()))
    size, one, many = next(
        (unit for unit in _UNITS[locale] if seconds % unit[0] == 0 and seconds >= unit[0]),
        _UNITS[locale][-1],
    )
    count = seconds // size
    return f"{count} {one if count == 1 else many}"


def has_text(purpose: AccountPurpose, channel: AccountChannel) -> bool:
    """Whether `purpose` can be sent on `channel` (a phone code goes by SMS only)."""
    return purpose in _TEXTS[channel]


def compose_account(
    purpose: AccountPurpose, channel: AccountChannel, locale: Locale, values: Mapping[str, str]
) -> Notice:
    """The message for `purpose` on `channel` in `locale`, filled in with `values`."""
    texts = _TEXTS[channel][purpose]
    notice = texts.get(locale, texts[Locale.EN])
    return Notice(notice.subject.format_map(values), notice.body.format_map(values))


__all__ = ["REDACTED", "AccountChannel", "compose_account", "has_text", "valid_for"]
