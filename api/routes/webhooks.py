"""`/webhooks`: inbound e-mail, SMS and Slack buttons. No JWT here: each call carries its
provider's proof instead (a shared secret, a Twilio signature, a Slack signature).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from api.app_state import resources_of
from api.deps import FilesDep, MetricsDep, SessionDep, SettingsDep, TemporalDep
from api.middleware import Metrics
from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.integrations import IntegrationOut
from api.schemas.webhooks import InboundReceipt, SlackAck
from api.services import slack_install
from api.services.inbound import authenticity, held, mailbox, proofs, slack, sms
from api.services.inbound.delivery import Landed
from api.services.inbound.mail import MAX_ATTACHMENTS, read_sendgrid_form
from domain.errors import NotFound
from ticketflow.settings import Settings

router = APIRouter(
    prefix=f"{API_PREFIX}/webhooks",
    tags=["webhooks"],
    responses={
        **PROBLEM_RESPONSES,
        503: {"description": "the webhook is not configured, or the ticket engine is down"},
    },
)

MAX_FORM_FIELDS = 200


def _form_body(media_type: str, fields: dict[str, str], required: list[str]) -> dict[str, Any]:
    """An OpenAPI request body for a form the route reads itself (fields: name → format)."""
    properties = {
        name: {"type": "string", **({"format": fmt} if fmt else {})} for name, fmt in fields.items()
    }
    schema = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


_SENDGRID_FORM = _form_body(
    "multipart/form-data",
    {
        "from": "",
        "to": "",
        "cc": "",
        "subject": "",
        "text": "",
        "html": "",
        "headers": "",
        "envelope": "json",
        "attachments": "",
        "attachment-info": "json",
        "attachment1": "binary",
    },
    ["from"],
)
_TWILIO_FORM = _form_body(
    "application/x-www-form-urlencoded",
    {"From": "", "To": "", "Body": "", "MessageSid": "", "NumMedia": "", "MediaUrl0": "uri"},
    ["From", "MessageSid"],
)
_SLACK_FORM = _form_body("application/x-www-form-urlencoded", {"payload": "json"}, ["payload"])


def _count(metrics: Metrics, landed: Landed) -> None:
    if landed.opened is not None:
        ticket = landed.opened
        metrics.tickets_created.labels(ticket.priority, ticket.source).inc()


def _public_url(settings: Settings, request: Request) -> str:
    """The URL the provider called, as it knows it (what Twilio signs)."""
    url = settings.public_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


@router.post(
    "/email-incoming",
    summary="The same as /webhooks/sendgrid/inbound, under the seed's path [Inbound secret]",
    openapi_extra=_SENDGRID_FORM,
)
@router.post(
    "/sendgrid/inbound",
    summary="An inbound e-mail, from SendGrid Inbound Parse [Inbound secret]",
    description=(
        "`multipart/form-data` as SendGrid posts it. Authenticated by HTTP Basic auth (user "
        "`sendgrid`, the secret as password); a `?token=` in the URL is refused. A reply from "
        "a sender whose domain vouches for it (DKIM or SPF aligned with `From:`) becomes a "
        "comment on its ticket, anything else of theirs opens a ticket; mail nothing vouches "
        "for is held for admins. Redeliveries change nothing."
    ),
    openapi_extra=_SENDGRID_FORM,
)
async def sendgrid_inbound(
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    files: FilesDep,
    metrics: MetricsDep,
) -> InboundReceipt:
    proofs.check_sendgrid(
        settings.sendgrid_inbound_secret,
        "token" in request.query_params,
        request.headers.get("authorization"),
    )
    async with request.form(max_files=MAX_ATTACHMENTS, max_fields=MAX_FORM_FIELDS) as form:
        mail = await read_sendgrid_form(form)
    reason = mailbox.ignored_because(mail, settings)
    if reason is not None:
        return InboundReceipt(ticket=None, ignored=reason)
    # Only mail its sender's domain vouches for may act as them; the rest waits for an admin.
    verdict = authenticity.judge(mail)
    if not verdict.aligned:
        return InboundReceipt(ticket=None, held=await held.hold(session, files, mail, verdict))
    landed = await mailbox.receive_email(session, temporal, settings, files, mail)
    _count(metrics, landed)
    return InboundReceipt(ticket=landed.ticket, comment_id=landed.comment_id)


@router.post(
    "/sms-reply",
    summary="The same as /webhooks/twilio/sms, under the seed's path [Twilio signature]",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}, "description": "empty TwiML"}},
    openapi_extra=_TWILIO_FORM,
)
@router.post(
    "/twilio/sms",
    summary="An inbound SMS or WhatsApp message, from Twilio [Twilio signature]",
    description=(
        "Form-encoded as Twilio posts it, signed with `X-Twilio-Signature` over "
        "`TICKETFLOW_PUBLIC_URL` + this path. The text lands on the sender's latest open "
        "ticket, or opens one. Answers empty TwiML."
    ),
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}, "description": "empty TwiML"}},
    openapi_extra=_TWILIO_FORM,
)
async def twilio_sms(
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> Response:
    async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        params = form.multi_items()
    proofs.check_twilio(
        settings.twilio_auth_token, _public_url(settings, request), params, request.headers
    )
    message = sms.read_twilio_form(params)
    _count(metrics, await sms.receive_sms(session, temporal, settings, message))
    return Response(str(MessagingResponse()), media_type="text/xml")


@router.post(
    "/slack/actions",
    summary="A ticket button pressed in Slack [Slack signature]",
    description=(
        "Slack's interactivity request (`payload` of type `block_actions`), signed with the "
        "app's signing secret. Buttons `assign_to_me`, `acknowledge`, `resolve` with the "
        "ticket number as value; the message is then updated through `response_url`."
    ),
    response_model_exclude_none=True,
    openapi_extra=_SLACK_FORM,
)
async def slack_actions(
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> SlackAck:
    body = await request.body()
    proofs.check_slack(settings.slack_signing_secret, body, request.headers)
    interaction = slack.parse_interaction(body)
    outcome = await slack.press(session, temporal, settings, interaction)
    if outcome.pressed is not None:
        sessions = resources_of(request).session_factory
        background.add_task(slack.refresh_message, temporal, sessions, outcome.pressed)
    elif outcome.ack.text:
        background.add_task(slack.tell, interaction.response_url, outcome.ack.text)
    return outcome.ack


@router.get(
    "/{provider}/callback",
    operation_id="oauth_callback",
    summary="OAuth callback: the Slack app approved in a workspace [signed state]",
    description=(
        "Slack sends the admin's browser here with `code` and the `state` that "
        "`GET /integrations/slack/install` issued; the code becomes the `slack` integration."
    ),
)
@router.post(
    "/{provider}/callback",
    operation_id="oauth_callback_post",
    summary="The OAuth callback, posted [signed state]",
)
async def oauth_callback(
    provider: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Query(min_length=1, max_length=512)],
    state: Annotated[str, Query(min_length=1, max_length=2048)],
) -> IntegrationOut:
    if provider != slack_install.PROVIDER:
        raise NotFound(f"no OAuth install for provider {provider!r}")
    integration = await slack_install.complete(session, settings, code, state)
    await session.commit()
    return IntegrationOut.from_row(integration)
