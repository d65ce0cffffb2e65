"""The one settings class, read from the environment (and `.env`) when asked for."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.enums import Locale, Role
from domain.outbound_addresses import AllowList
from security.signing import KeyRing, split_secrets, weakness

DEV_JWT_SECRET = "ticketflow-dev-secret-change-me-0123456789"
DEV_LINK_SECRET = "ticketflow-dev-link-secret-change-me-01234"
DEFAULT_TASK_QUEUE = "ticketflow"
# S3's rules for a bucket name; a prefix is kept to the characters S3 calls safe in a key.
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_KEY_PREFIX = r"^[A-Za-z0-9!_.*'()/-]*$"
WORKER_HEALTH_PORT_VARIABLE = "TICKETFLOW_WORKER_HEALTH_PORT"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = Field(DEFAULT_TASK_QUEUE, alias="TICKETFLOW_TASK_QUEUE")
    # Signs access and refresh tokens. The previous secrets (comma-separated) still verify,
    # so a new one can be rolled out without logging everyone out.
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_previous_secrets: SecretStr | None = None
    # Signs links in messages (survey pages, the Slack install's state): never the same key
    # as access tokens, so a link can never be made into a login, nor the other way round.
    link_secret: SecretStr = Field(SecretStr(DEV_LINK_SECRET), alias="TICKETFLOW_LINK_SECRET")
    link_previous_secrets: SecretStr | None = Field(None, alias="TICKETFLOW_LINK_PREVIOUS_SECRETS")
    admin_email: str = Field("admin@ticketflow.local", alias="TICKETFLOW_ADMIN_EMAIL")
    admin_password: SecretStr | None = Field(None, alias="TICKETFLOW_ADMIN_PASSWORD")
    public_url: str = Field("http://localhost:8000", alias="TICKETFLOW_PUBLIC_URL")
    # The desk's language: what `ticketflow init` names its defaults and writes its rules in.
    language: Locale = Field(Locale.EN, alias="TICKETFLOW_LANGUAGE")
    # `kid:base64-of-32-bytes[,kid2:...]`: AES-256-GCM keys for what goes into Temporal. The
    # first encrypts, all decrypt (security.payload_codec). Parsed where it is used, so that
    # a malformed value is reported without ever being echoed.
    payload_keys: SecretStr | None = Field(None, alias="TICKETFLOW_PAYLOAD_KEYS")
    # Comma-separated origins (e.g. `https://temporal-ui.example.com`) of the Temporal Web UIs
    # that may call the codec endpoints from a browser with credentials (api.cors).
    codec_cors_origins: str = Field("", alias="TICKETFLOW_CODEC_CORS_ORIGINS")
    # Comma-separated origins of browser front ends that may call the API (api.api_cors);
    # none by default, `*` refused. They send bearer tokens, never cookies.
    cors_origins: str = Field("", alias="TICKETFLOW_CORS_ORIGINS")
    # The bearer token Prometheus scrapes `/metrics` with; unset, `/metrics` answers 404.
    metrics_token: SecretStr | None = Field(None, alias="TICKETFLOW_METRICS_TOKEN")
    # What one requester (`user`, `vip_user`; staff are exempt) may do per hour, counted in
    # PostgreSQL for every API process together (api.quotas); 0 lifts the quota.
    quota_tickets_per_hour: int = Field(
        20, alias="TICKETFLOW_QUOTA_TICKETS_PER_HOUR", ge=0, le=1_000_000
    )
    quota_upload_mb_per_hour: int = Field(
        100, alias="TICKETFLOW_QUOTA_UPLOAD_MB_PER_HOUR", ge=0, le=1_000_000
    )

    # Key (Fernet, urlsafe base64 of 32 bytes) that encrypts integration secrets at rest.
    secrets_key: SecretStr | None = Field(None, alias="TICKETFLOW_SECRETS_KEY")
    # Outbound webhooks (integrations, Slack and Teams URLs) never reach loopback, private,
    # link-local, CGNAT, metadata… addresses, except what this comma-separated list names:
    # networks or addresses (`10.1.0.0/16`, `127.0.0.1`) and host names (`hooks.corp.example`,
    # `*.corp.example`). Empty: only publicly routable receivers.
    outbound_allow: str = Field("", alias="TICKETFLOW_OUTBOUND_ALLOW")
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

    # Sign-in hardening (docs/security.md). Proxies (comma-separated addresses or CIDRs)
    # whose X-Forwarded-For is believed: only then do limits see the client behind them.
    trusted_proxies: str = Field("", alias="TICKETFLOW_TRUSTED_PROXIES")
    # Roles (comma-separated: admin, agent) that may do nothing but enrol until they use MFA.
    mfa_required_roles: str = Field("", alias="TICKETFLOW_MFA_REQUIRED_ROLES")
    # How many argon2 hashes (64 MiB each) one API process runs at once; the rest queue.
    password_hash_concurrency: int = Field(
        2, alias="TICKETFLOW_PASSWORD_HASH_CONCURRENCY", ge=1, le=64
    )

    # `ticketflow worker` answers `GET /health` on 127.0.0.1 at this port while its Temporal
    # worker runs, for a container's health check. Unset or empty: no endpoint.
    worker_health_port: int | None = Field(None, alias=WORKER_HEALTH_PORT_VARIABLE, ge=1, le=65535)

    @field_validator(
        "s3_bucket", "s3_addressing_style", "worker_health_port", "metrics_token", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty variable means unset, not a bad value: compose files write
        # `TICKETFLOW_S3_BUCKET=`, and the supervisor of `--processes` hands
        # `TICKETFLOW_WORKER_HEALTH_PORT=` to its workers, whose port it serves itself.
        return None if value == "" else value

    @field_validator("outbound_allow")
    @classmethod
    def _allow_list(cls, value: str) -> str:
        AllowList.parse(value)  # a typo refuses to start rather than allowing nothing
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for item in _items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"TICKETFLOW_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR"
                ) from exc
        return value

    @field_validator("mfa_required_roles")
    @classmethod
    def _mfa_roles_are_staff(cls, value: str) -> str:
        staff = {Role.ADMIN.value, Role.AGENT.value}
        for item in _items(value):
            if item.lower() not in staff:
                raise ValueError(
                    f"TICKETFLOW_MFA_REQUIRED_ROLES: {item!r} is not a staff role (admin, agent)"
                )
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies' addresses and networks, as uvicorn's middleware takes them."""
        return _items(self.trusted_proxies)

    @property
    def mfa_roles(self) -> frozenset[Role]:
        """The roles that must use a second factor."""
        return frozenset(Role(item.lower()) for item in _items(self.mfa_required_roles))

    @property
    def access_keys(self) -> KeyRing:
        """The keys of access and refresh tokens."""
        return _ring(self.jwt_secret, self.jwt_previous_secrets)

    @property
    def link_keys(self) -> KeyRing:
        """The keys of signed links."""
        return _ring(self.link_secret, self.link_previous_secrets)

    def signing_problems(self, *, access: bool = True, links: bool = True) -> list[str]:
        """What makes these signing keys unfit for production (empty when they are fit).

        The built-in development secrets, a missing or short (< 32 bytes) secret, and one
        secret doing both jobs are all refused.
        """
        jwt_secret = self.jwt_secret.get_secret_value()
        link_secret = self.link_secret.get_secret_value()
        checks = [
            *([("JWT_SECRET", jwt_secret, DEV_JWT_SECRET)] if access else []),
            *([("TICKETFLOW_LINK_SECRET", link_secret, DEV_LINK_SECRET)] if links else []),
        ]
        problems = []
        for name, secret, built_in in checks:
            if secret == built_in:
                problems.append(f"{name} is the built-in development secret")
            elif reason := weakness(name, secret):
                problems.append(reason)
        if access and links and jwt_secret == link_secret:
            problems.append("JWT_SECRET and TICKETFLOW_LINK_SECRET must differ")
        return problems


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _ring(current: SecretStr, previous: SecretStr | None) -> KeyRing:
    older = split_secrets(previous.get_secret_value() if previous else None)
    return KeyRing.of(current.get_secret_value(), older)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
