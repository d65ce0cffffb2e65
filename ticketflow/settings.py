"""The one settings class, read from the environment (and `.env`) when asked for."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.enums import Locale

DEV_JWT_SECRET = "ticketflow-dev-secret-change-me-0123456789"
DEFAULT_TASK_QUEUE = "ticketflow"
# S3's rules for a bucket name; a prefix is kept to the characters S3 calls safe in a key.
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_KEY_PREFIX = r"^[A-Za-z0-9!_.*'()/-]*$"


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

    # Key (Fernet, urlsafe base64 of 32 bytes) that encrypts integration secrets at rest.
    secrets_key: SecretStr | None = Field(None, alias="TICKETFLOW_SECRETS_KEY")
    # Outbound e-mail: sender, and the domain of the Message-IDs replies thread on.
    mail_from: str = Field("support@ticketflow.local", alias="TICKETFLOW_MAIL_FROM")
    mail_domain: str = Field("ticketflow.local", alias="TICKETFLOW_MAIL_DOMAIN")
    # Where the bytes of attachments (uploads and inbound e-mail) are kept when no S3 bucket is
    # set: a directory of this machine, so only its own API process can serve them.
    attachments_dir: Path = Field(
        Path(".ticketflow") / "attachments", alias="TICKETFLOW_ATTACHMENTS_DIR"
    )
    # Setting a bucket keeps attachments in S3 (or an S3-compatible server) instead, shared by
    # every API replica; endpoint, region and credentials come from the standard AWS variables.
    s3_bucket: str | None = Field(None, alias="TICKETFLOW_S3_BUCKET", pattern=_BUCKET)
    # Prepended to each object's key (e.g. `ticketflow/`), to share a bucket with other data.
    s3_prefix: str = Field("", alias="TICKETFLOW_S3_PREFIX", max_length=512, pattern=_KEY_PREFIX)
    # `path` for servers that do not route bucket subdomains (MinIO and the like); boto3 reads
    # this only from ~/.aws/config, never from the environment. Unset: boto3's own choice.
    s3_addressing_style: Literal["auto", "path", "virtual"] | None = Field(
        None, alias="TICKETFLOW_S3_ADDRESSING_STYLE"
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

    @field_validator("s3_bucket", "s3_addressing_style", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `TICKETFLOW_S3_BUCKET=` (as compose files write it) means no bucket, not a bad one.
        return None if value == "" else value

    @property
    def uses_default_jwt_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
