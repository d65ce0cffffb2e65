"""AccountMessageWorkflow: one account message (a link or a code) delivered durably.

The API starts it, id `account-<purpose>-<token id>`, once the token's hash and the
notification row are stored. It runs the delivery activity with the ticket notices' retries,
but gives up when the link or code expires: there is no point sending a dead one. The
outcome is on the notification row (`sent`, `failed`, the provider's error); the workflow
answers it too.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.ticket import DELIVERY_HEARTBEAT, DELIVERY_RETRY, DELIVERY_WINDOW

with workflow.unsafe.imports_passed_through():
    from domain.accounts import DELIVER_ACCOUNT_MESSAGE, AccountMessage

SEND_TIMEOUT = timedelta(seconds=60)
# A message whose link has (nearly) expired still gets one short try, so its row is settled.
LAST_CHANCE = timedelta(minutes=1)


@workflow.defn(name="AccountMessageWorkflow")
class AccountMessageWorkflow:
    @workflow.run
    async def run(self, message: AccountMessage) -> str:
        window = min(max(message.valid_until - workflow.now(), LAST_CHANCE), DELIVERY_WINDOW)
        try:
            status: str = await workflow.execute_activity(
                DELIVER_ACCOUNT_MESSAGE,
                message,
                result_type=str,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=window,
                heartbeat_timeout=DELIVERY_HEARTBEAT,
                retry_policy=DELIVERY_RETRY,
                summary=f"{message.purpose.value} {message.notification_id}",
            )
        except ActivityError as error:
            # Refused by the provider, or still failing when the link expired: the row says so.
            workflow.logger.warning(
                "account message %s not delivered: %s", message.notification_id, error.cause
            )
            return "failed"
        return status
