"""Account messages: the links and codes that let a person prove an address is theirs.

Each one is sent by its own small workflow (`workflows.account.AccountMessageWorkflow`),
started by the API once the token's hash and the notification row are stored. The link or
code itself is in the workflow's input alone and in what the provider is handed: the row
keeps a redacted text, and nothing logs it. In the input the body is sealed for the worker
(`security.sealed_text`), not only by the payload codec, which the Web UI's codec server
opens for every agent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field

DELIVER_ACCOUNT_MESSAGE = "deliver_account_message"


class AccountPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    INVITATION = "invitation"
    PHONE_VERIFICATION = "phone_verification"

    @property
    def event(self) -> str:
        """The notification row's `event`."""
        return f"account.{self.value}"


def account_workflow_id(purpose: AccountPurpose, secret_id: UUID) -> str:
    """One workflow per token or code (its row's id): a second start is refused, not a resend."""
    return f"account-{purpose.value}-{secret_id}"


class AccountMessage(BaseModel):
    """What the delivery activity sends for one notification row.

    The row says where (channel, recipient); this says what: the subject, and the body (link
    or code included) sealed for the worker and bound to the row's id.
    """

    notification_id: UUID
    purpose: AccountPurpose
    subject: str
    sealed_body: str = Field(repr=False)
    valid_until: datetime


__all__ = ["DELIVER_ACCOUNT_MESSAGE", "AccountMessage", "AccountPurpose", "account_workflow_id"]
