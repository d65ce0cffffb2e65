"""Secrets at rest: integration secrets are stored only Fernet-encrypted.

The key is `TICKETFLOW_SECRETS_KEY` (urlsafe base64 of 32 bytes; make one with
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
Without a key no secret is stored at all: plain text is never the fallback.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from domain.errors import TicketflowError


class SecretsUnavailable(TicketflowError):
    """No usable key: the secret can be neither stored nor read back."""

    code = "secrets_key_missing"
    status = 503


class SecretBox:
    """Encrypts and decrypts short secrets with one Fernet key."""

    def __init__(self, key: SecretStr | str | None) -> None:
        value = key.get_secret_value() if isinstance(key, SecretStr) else key
        if not value:
            raise SecretsUnavailable(
                "secrets cannot be stored: set TICKETFLOW_SECRETS_KEY to a Fernet key"
            )
        try:
            self._fernet = Fernet(value.encode())
        except ValueError as exc:
            raise SecretsUnavailable(
                "TICKETFLOW_SECRETS_KEY is not a Fernet key (urlsafe base64 of 32 bytes)"
            ) from exc

    def encrypt(self, plain: str) -> str:
        """The token stored in place of `plain`; a fresh one on every call."""
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The secret behind `token`; `SecretsUnavailable` if this key did not make it."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretsUnavailable(
                "a stored secret cannot be decrypted with TICKETFLOW_SECRETS_KEY "
                "(was the key changed?)"
            ) from exc


__all__ = ["SecretBox", "SecretsUnavailable"]
