"""What a requester may say about the ticket they open through the API.

Requesters (`user`, `vip_user`) give urgency and impact; the priority follows from them by the
ITIL matrix, and then from the automation rules. A requester who could name the priority
would make every ticket P1, alert the managers (the `p1_alert` rule) and jump the queue, so a
`priority` from a requester is refused (422), not silently ignored: the client learns at once
that its field has no effect. Staff may still set it.

The same goes for what the desk's own channels record: `source` values of channels that
vouch for the sender (e-mail, SMS, WhatsApp, Slack), and the `metadata` keys those channels
write (`email`, `sms`, `follow_up_of`). A requester writing them could pass a web ticket off
as a mail from someone else. Assigning and opening for someone else are checked where the
ticket is built (403).

Only the HTTP route applies this: the inbound channels open tickets for requesters with the
source and metadata that are theirs to record.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.schemas.tickets import TicketCreate
from domain.enums import Source
from persistence.models import User

# Sources a requester may claim: what they can actually use to reach the API.
REQUESTER_SOURCES = frozenset({Source.WEB, Source.API, Source.CHAT})
# Metadata the inbound channels write about where a ticket came from.
CHANNEL_METADATA = frozenset({"email", "sms", "follow_up_of"})


def check_requester_ticket(caller: User, body: TicketCreate) -> None:
    """Refuse (422, naming each field) what a requester may not set on a new ticket."""
    if caller.role.is_staff:
        return
    errors: list[dict[str, Any]] = []
    if body.priority is not None:
        errors.append(
            _error(
                ["priority"],
                "requesters give urgency and impact; the priority follows from them",
            )
        )
    if body.source not in REQUESTER_SOURCES:
        allowed = ", ".join(sorted(source.value for source in REQUESTER_SOURCES))
        errors.append(_error(["source"], f"requesters open tickets through {allowed}"))
    for key in sorted(CHANNEL_METADATA & body.metadata.keys()):
        errors.append(_error(["metadata", key], "set by the channel a ticket came in through"))
    if errors:
        detail = "; ".join(f"{'.'.join(e['loc'][1:])}: {e['msg']}" for e in errors)
        raise ApiError(422, detail, code="invalid_input", extra={"errors": errors})


def _error(loc: list[str], message: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": message, "type": "forbidden_for_requesters"}
