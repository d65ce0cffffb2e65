"""Mobile push through Firebase Cloud Messaging (HTTP v1), via firebase-admin."""

from __future__ import annotations

import asyncio
import warnings
from uuid import uuid4

import firebase_admin
from firebase_admin import credentials, messaging
from firebase_admin.exceptions import FirebaseError
from google.auth.exceptions import RefreshError, TransportError
from requests.adapters import HTTPAdapter

from activities.channels.base import (
    PROVIDER_TIMEOUT_SECONDS,
    OutboundMessage,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
    describe_body,
    error_for_status,
)

FCM_DEFAULT_URL = "https://fcm.googleapis.com"


def fcm_message(message: OutboundMessage) -> messaging.Message:
    """The FCM message for one device token; urgent ones wake the device at once."""
    data = {"idempotency_key": message.idempotency_key}
    if message.ticket_number is not None:
        data["ticket_number"] = str(message.ticket_number)
    if message.ticket_url:
        data["ticket_url"] = message.ticket_url
    with warnings.catch_warnings():
        # firebase-admin 7.x deprecates `token` for `fid` (installation IDs), yet only `token`
        # reaches both registration tokens and installation IDs, and apps still register both.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return messaging.Message(
            token=message.to,
            notification=messaging.Notification(title=message.subject, body=message.body),
            data=data,
            android=messaging.AndroidConfig(priority="high") if message.urgent else None,
            apns=messaging.APNSConfig(headers={"apns-priority": "10"}) if message.urgent else None,
        )


class PushChannel:
    """Owns a named Firebase app built from a service-account file; close() deletes it."""

    def __init__(self, credentials_path: str, base_url: str | None = None) -> None:
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_path),
            {"httpTimeout": PROVIDER_TIMEOUT_SECONDS},
            name=f"ticketflow-{uuid4().hex}",
        )
        _configure_service(messaging._get_messaging_service(self._app), base_url)

    async def send(self, message: OutboundMessage) -> Receipt:
        return await asyncio.to_thread(self._send, fcm_message(message))

    def _send(self, message: messaging.Message) -> Receipt:
        try:
            name = messaging.send(message, app=self._app)
        except FirebaseError as error:
            raise _provider_error(error) from error
        except RefreshError as error:
            if error.retryable:
                raise ProviderUnavailable(None, f"FCM token refresh: {error}") from error
            raise ProviderRejected(None, f"FCM credentials refused: {error}") from error
        except TransportError as error:
            raise ProviderUnavailable(None, f"FCM token endpoint unreachable: {error}") from error
        except ValueError as error:
            raise ProviderRejected(None, f"FCM message invalid: {error}") from error
        return Receipt(provider_message_id=name)

    def close(self) -> None:
        """Delete the Firebase app; call from a thread (the SDK runs its own event loop)."""
        firebase_admin.delete_app(self._app)


def _configure_service(service: messaging._MessagingService, base_url: str | None) -> None:
    # FCM has no endpoint option or emulator: the send URL is an attribute of the service.
    root = (base_url or FCM_DEFAULT_URL).rstrip("/")
    if base_url:
        service._fcm_url = f"{root}/v1/projects/{service._project_id}/messages:send"
    # The SDK retries 500/503 itself with backoff; Temporal owns retries, with Retry-After.
    service._client.session.mount(root, HTTPAdapter(max_retries=0))


def _provider_error(error: FirebaseError) -> ProviderRejected | ProviderUnavailable:
    response = error.http_response
    if response is None:
        return ProviderUnavailable(None, f"FCM unreachable: {error}")
    return error_for_status(
        response.status_code, describe_body(response.content), response.headers.get("Retry-After")
    )
