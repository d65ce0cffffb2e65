"""The one settings class, read from the environment (and `.env`) when asked for."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.enums import Locale

DEV_JWT_SECRET = "ticketflow-dev-secret-change-me-0123456789"
DEFAULT_TASK_QUEUE = "ticketflow"
WORKER_HEALTH_PORT_VARIABLE = "TICKETFLOW_WORKER_HEALTH_PORT"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = Field(DEFAULT_TASK_QUEUE, alias="TICKETFLOW_TASK_QUEUE")
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    admin_email: str = Field("admin@ticketflow.local", alias="TICKETFLOW_ADMIN_EMAIL")
    admin_password: SecretStr | None = Field(None, alias="TICKETFLOW_ADMIN_PASSWORD")
    public_url: str = Field("http://localhost:8000", alias="TICKETFLOW_PUBLIC_URL")
    # The desk's language: what `ticketflow init` names its defaults and writes its rules in.
    language: Locale = Field(Locale.EN, alias="TICKETFLOW_LANGUAGE")

    # Key (Fernet, urlsafe base64 of 32 bytes) that encrypts integration secrets at rest.
    secrets_key: SecretStr | None = Field(None, alias="TICKETFLOW_SECRETS_KEY")
    # Outbound e-mail: sender, and the domain of the Message-IDs replies thread on.
    mail_from: str = Field("support@ticketflow.local", alias="TICKETFLOW_MAIL_FROM")
    mail_domain: str = Field("ticketflow.local", alias="TICKETFLOW_MAIL_DOMAIN")
    # Where the bytes of inbound e-mail attachments are kept.
    attachments_dir: Path = Field(
        Path(".ticketflow") / "attachments", alias="TICKETFLOW_ATTACHMENTS_DIR"
    )

    sendgrid_api_key: SecretStr | None = None
    sendgrid_base_url: str | None = None
    sendgrid_inbound_secret: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_base_url: str | None = None
    firebase_credentials: str | None = None
    fcm_base_url: str | None = None
    slack_bot_token: SecretStr | None = None
    # The Slack app, for installing it into a workspace (OAuth v2, `incoming-webhook` scope).
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None
    # The team's channel id (C…): new tickets and SLA breaches are posted there too.
    slack_channel: str | None = None
    # The language the team's channel reads (`es` or `en`).
    slack_channel_locale: Locale = Locale.EN

    # `ticketflow worker` answers `GET /health` on 127.0.0.1 at this port while its Temporal
    # worker runs, for a container's health check. Unset or empty: no endpoint.
    worker_health_port: int | None = Field(None, alias=WORKER_HEALTH_PORT_VARIABLE, ge=1, le=65535)

    @field_validator("worker_health_port", mode="before")
    @classmethod
    def _empty_port_is_unset(cls, value: object) -> object:
        # `TICKETFLOW_WORKER_HEALTH_PORT=` switches it off; the supervisor of `--processes`
        # hands that to its workers, whose port it serves itself.
        return None if value == "" else value

    @property
    def uses_default_jwt_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
