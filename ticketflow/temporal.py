"""The one way every composition root (API, worker, dev stack, bench, replay, tests) gets a
client, and the one data converter they all use.

Where a client connects comes from a `TemporalTarget`: either a local plaintext server the
process started itself (`TemporalTarget.local`), or the cluster the environment describes
(`TemporalTarget.from_environment`): the SDK's own environment configuration, the variables and
TOML profiles the `temporal` CLI reads (`TEMPORAL_ADDRESS`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`, ...).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
)
from temporalio.envconfig import ClientConfigProfile
from temporalio.service import TLSConfig

from security.payload_codec import AesGcmCodec, PayloadKeys
from ticketflow.settings import Settings

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"
# The SDK has no way to skip verifying the server's host name; refuse rather than ignore it.
_UNSUPPORTED = "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"
_TRUE = frozenset({"1", "true", "yes", "on"})


class TemporalConfigError(ValueError):
    """The Temporal connection settings cannot be used; the message says which and why."""


def data_converter(keys: PayloadKeys, *, for_replay: bool = False) -> DataConverter:
    """Pydantic models as JSON, then sealed by the AES-GCM codec under `keys`.

    Failure messages and stack traces move into the failure's encoded attributes, which the
    codec seals too: an error that quotes a ticket's text is not left in clear either. A
    replayer sends nothing to a server, so `for_replay` leaves the failures it makes itself
    (e.g. "no such key") readable; it still decodes sealed ones.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keys),
        failure_converter_class=DefaultFailureConverter
        if for_replay
        else DefaultFailureConverterWithEncodedAttributes,
    )


def payload_keys(settings: Settings) -> PayloadKeys:
    """The keys of `TICKETFLOW_PAYLOAD_KEYS` (none when unset); PayloadKeyError if malformed."""
    raw = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    return PayloadKeys.parse(raw)


@dataclass(frozen=True)
class TemporalTarget:
    """Where a client connects, and how: plaintext or TLS (mTLS with a client certificate),
    with or without an API key."""

    address: str
    namespace: str = DEFAULT_NAMESPACE
    tls: bool | TLSConfig = field(default=False, repr=False)
    api_key: str | None = field(default=None, repr=False)
    rpc_metadata: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def local(cls, address: str, namespace: str = DEFAULT_NAMESPACE) -> TemporalTarget:
        """A server this process started on this machine: plaintext, whatever the environment
        says about a cluster elsewhere."""
        return cls(address, namespace)

    @classmethod
    def from_environment(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> TemporalTarget:
        """The cluster `TEMPORAL_*` variables and the profile file describe, as the `temporal`
        CLI reads them; the settings' address and namespace win when they are set.

        `environ` defaults to this process's environment over the `.env` file's `TEMPORAL_*`
        lines (the settings read `.env` too). Raises TemporalConfigError.
        """
        env = dict(environ) if environ is not None else _environment(settings)
        if env.get(_UNSUPPORTED, "").strip().lower() in _TRUE:
            raise TemporalConfigError(
                f"{_UNSUPPORTED} is not supported by the Python SDK: give the server's CA "
                "(TEMPORAL_TLS_SERVER_CA_CERT_PATH) and, when its certificate names another "
                "host, TEMPORAL_TLS_SERVER_NAME"
            )
        config = _connect_config(env)
        fields = settings.model_fields_set
        return cls(
            address=settings.temporal_address
            if "temporal_address" in fields
            else config.get("target_host") or DEFAULT_ADDRESS,
            namespace=settings.temporal_namespace
            if "temporal_namespace" in fields
            else config.get("namespace") or DEFAULT_NAMESPACE,
            tls=config.get("tls", False),
            api_key=config.get("api_key"),
            rpc_metadata=config.get("rpc_metadata", {}),
        )

    def describe(self) -> str:
        """`host:port (TLS, API key), namespace 'x'`: for messages; no secret in it."""
        how = [
            "mTLS"
            if isinstance(self.tls, TLSConfig) and self.tls.client_cert
            else "TLS"
            if self.tls
            else "plaintext"
        ]
        if self.api_key:
            how.append("API key")
        return f"{self.address} ({', '.join(how)}), namespace {self.namespace!r}"


def _environment(settings: Settings) -> dict[str, str]:
    env_file = settings.model_config.get("env_file")
    from_file: dict[str, str] = {}
    if isinstance(env_file, str | Path) and Path(env_file).is_file():
        from_file = {
            key: value
            for key, value in dotenv_values(env_file).items()
            if key.startswith("TEMPORAL_") and value is not None
        }
    return {**from_file, **os.environ}


def _connect_config(env: Mapping[str, str]) -> dict[str, Any]:
    try:
        profile = ClientConfigProfile.load(override_env_vars=env)
        return dict(profile.to_client_connect_config())
    except OSError as err:  # a certificate or key file named but not readable
        raise TemporalConfigError(f"cannot read a TLS file: {err}") from err
    except Exception as err:  # the SDK core's ConfigError: bad TOML, unknown profile
        raise TemporalConfigError(f"Temporal client configuration: {err}") from err


async def connect_temporal(target: TemporalTarget, keys: PayloadKeys) -> Client:
    """A client on `target` whose payloads are pydantic JSON sealed under `keys`."""
    return await Client.connect(
        target.address,
        namespace=target.namespace,
        tls=target.tls,
        api_key=target.api_key,
        rpc_metadata=target.rpc_metadata,
        data_converter=data_converter(keys),
    )
