"""The authorization matrix: every route of the app, called by every kind of caller.

The policy is the table `MATRIX` (and `PROOF`, for routes whose credential is not an access
token), keyed by (method, path template) as the app's route table has them. A route with no
line, or a line whose route is gone, fails `test_every_route_has_exactly_one_line`: a new
route cannot ship unchecked. Adding one is one line:

    ("GET", "/api/v1/things/{thing_id}"): Call(ADMIN),

Each row of expectations is six outcomes, one per caller, in this order:

    anon      no token
    owner     the requester who opened the ticket in the path (and owns the path's objects)
    other     another requester (a VIP one)
    agent     an agent of the ticket's department (and the author of the path's template)
    outsider  an agent of another department
    admin     an admin

and each outcome is `ok` (any 2xx), a status (401 not signed in, 403 wrong role, 404 not
yours to see: existence never leaks), or `ok:404` (a batch answered 2xx whose one ticket
was refused with 404). A `422` for an allowed caller is acceptable only where a comment on
the line says why. Requests are real: path parameters are real objects of the caller's world
(a ticket of the owner in the agent's department, its attachment, a rule, a policy…), bodies
are minimal and valid. `fresh=True` gives each caller a world of its own (new people and
objects), for calls that change or use up what they touch.

Run alone: `make matrix` (or `pytest tests/api/test_authorization_matrix.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID, uuid4

import httpx
import pyotp
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount
from temporalio.testing import WorkflowEnvironment
from twilio.request_validator import RequestValidator

from api.app import create_app
from api.security import opaque_token
from api.services.account_messages import token_hash
from api.services.slack_install import authorize_url
from domain.enums import Role
from persistence.models import Notification, NotificationChannel, NotificationStatus
from persistence.models.vocab import TokenPurpose
from persistence.repositories import tokens as tokens_repo
from security.signing import KeyRing
from security.survey_links import SURVEY_PATH, issue_survey_token
from tests.api.conftest import PASSWORD, People, Person, a_client_address, report
from tests.support.api_stack import LINK_SECRET, Stack, api_stack, stack_settings
from tests.support.standin import Answer, StandIn

ROLES = ("anon", "owner", "other", "agent", "outsider", "admin")

PUBLIC = "ok  ok  ok  ok  ok  ok"
AUTH = "401 ok  ok  ok  ok  ok"
TICKET = "401 ok  404 ok  404 ok"  # whoever may see the ticket
AGENT = "401 403 403 ok  ok  ok"
AGENT_TICKET = "401 403 403 ok  404 ok"  # staff, and only on a ticket they may see
ADMIN = "401 403 403 403 403 ok"

Json = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """How a route is called, and what each caller must get (see the module's docstring).

    `@name` strings in `path`, `json`, `params` and `form` are the world's objects: `@ticket`
    its number, `@agent` that person's id, `@name`/`@email` something new and unique.
    """

    expect: str
    json: Any = None
    params: Json | None = None
    form: Json | None = None
    upload: bool = False
    path: dict[str, str] = field(default_factory=dict)
    fresh: bool = False


@dataclass(frozen=True)
class Target:
    method: str
    path: str


@dataclass(frozen=True)
class Proof:
    """A route whose credential is a signature, a secret or a signed link, not a role: every
    caller's access token is refused without it (`refused`), and with it the call succeeds."""

    refused: int
    make: Callable[[World, Target, bool], Awaitable[Json]]
    fresh: bool = False


# -- the policy --------------------------------------------------------------------------------

V = "/api/v1"
SCHEDULE = {"kind": "tickets", "format": "csv", "every": "P7D", "recipients": ["a@example.com"]}
POLICY = {"name": "@name", "enabled": False, "targets": {"P4": {"resolution": "P3D"}}}
RULE = {
    "name": "@name",
    "enabled": False,
    "trigger": "created",
    "conditions": {"field": "priority", "operator": "equals", "value": "P4"},
    "actions": [{"type": "add_tag", "tag": "matrix"}],
}
CALENDAR = {"name": "@name", "timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}}
NEW_USER = {"email": "@email", "password": PASSWORD, "name": "New"}
PAYLOADS = {"payloads": []}
INTEGRATION = {
    "url": "https://hooks.example.com/matrix",
    "events": ["ticket.created"],
    "enabled": False,
}

MATRIX: dict[tuple[str, str], Call] = {
    # ops and docs, outside /api/v1
    ("GET", "/openapi.json"): Call(PUBLIC),
    ("GET", "/docs"): Call(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Call(PUBLIC),
    ("GET", "/redoc"): Call(PUBLIC),
    ("GET", "/health"): Call(PUBLIC),
    ("GET", "/ready"): Call(PUBLIC),
    ("POST", "/codec/encode"): Call(AGENT, json=PAYLOADS),
    ("POST", "/codec/decode"): Call(AGENT, json=PAYLOADS),
    # auth
    ("POST", f"{V}/auth/register"): Call(PUBLIC, json=NEW_USER),
    ("POST", f"{V}/auth/login"): Call(PUBLIC, json="@login", fresh=True),
    ("POST", f"{V}/auth/logout"): Call("401 ok  ok  ok  ok  ok", json="@logout", fresh=True),
    ("GET", f"{V}/auth/me"): Call(AUTH),
    ("PUT", f"{V}/auth/update-profile"): Call(AUTH, json={"locale": "es"}),
    ("PUT", f"{V}/auth/change-password"): Call(AUTH, json="@new_password", fresh=True),
    ("POST", f"{V}/auth/forgot-password"): Call(PUBLIC, json={"email": "@email"}),
    ("POST", f"{V}/auth/verify-email/resend"): Call(AUTH),
    ("POST", f"{V}/auth/phone/verify-start"): Call(AUTH, json={"phone": "@phone"}, fresh=True),
    # No code was asked for: every signed-in caller reaches the code check, and fails it.
    ("POST", f"{V}/auth/phone/verify"): Call("401 422 422 422 422 422", json={"code": "123456"}),
    # second factor: each caller's own enrolment; an admin resets anyone's
    ("POST", f"{V}/auth/mfa/setup"): Call(AUTH, fresh=True),
    ("POST", f"{V}/auth/mfa/enable"): Call("401 409 409 409 409 409", json={"code": "123456"}),
    ("POST", f"{V}/auth/mfa/recovery-codes"): Call(
        "401 409 409 409 409 409", json={"code": "123456"}
    ),
    ("POST", f"{V}/auth/mfa/disable"): Call("401 409 409 409 409 409", json={"code": "123456"}),
    ("DELETE", f"{V}/auth/mfa/users/{{user_id}}"): Call(ADMIN, fresh=True),
    # inbound mail held for want of a sender check
    ("GET", f"{V}/inbound/held-emails"): Call(ADMIN),
    ("GET", f"{V}/inbound/held-emails/{{held_id}}"): Call(ADMIN),
    ("POST", f"{V}/inbound/held-emails/{{held_id}}/release"): Call(ADMIN, fresh=True),
    ("POST", f"{V}/inbound/held-emails/{{held_id}}/discard"): Call(ADMIN, fresh=True),
    # users and routing
    ("GET", f"{V}/users"): Call(ADMIN),
    ("POST", f"{V}/users"): Call(ADMIN, json=NEW_USER),
    ("GET", f"{V}/users/agents/available"): Call(AGENT),
    ("GET", f"{V}/users/{{user_id}}"): Call("401 ok  404 ok  ok  ok"),
    ("PUT", f"{V}/users/{{user_id}}"): Call(ADMIN, json={"locale": "es"}),
    ("DELETE", f"{V}/users/{{user_id}}"): Call(ADMIN, fresh=True),
    ("PATCH", f"{V}/users/{{user_id}}/role"): Call(ADMIN, json={"role": "vip_user"}, fresh=True),
    ("PATCH", f"{V}/users/{{user_id}}/availability"): Call(
        "401 ok  403 403 403 ok", json={"availability": "away"}
    ),
    ("GET", f"{V}/users/{{user_id}}/workload"): Call(
        "401 403 403 ok  403 ok", path={"user_id": "@agent"}
    ),
    ("PATCH", f"{V}/users/{{user_id}}/capacity"): Call(
        ADMIN, json={"max_load": 7}, path={"user_id": "@agent"}
    ),
    ("POST", f"{V}/users/bulk-assign-skills"): Call(
        ADMIN, json={"user_ids": ["@agent"], "skills": ["printers"]}
    ),
    # departments
    ("GET", f"{V}/departments"): Call(AUTH),
    ("POST", f"{V}/departments"): Call(ADMIN, json={"name": "@name"}),
    ("GET", f"{V}/departments/{{department_id}}"): Call(AUTH),
    ("PUT", f"{V}/departments/{{department_id}}"): Call(ADMIN, json={"description": "Spare"}),
    ("DELETE", f"{V}/departments/{{department_id}}"): Call(ADMIN, fresh=True),
    ("GET", f"{V}/departments/{{department_id}}/stats"): Call(ADMIN),
    # tickets
    ("POST", f"{V}/tickets"): Call(AUTH, json={"title": "Printer", "description": "It jams"}),
    ("GET", f"{V}/tickets"): Call(AUTH),
    ("GET", f"{V}/tickets/search"): Call(AUTH, params={"q": "printer"}),
    ("GET", f"{V}/tickets/stats"): Call(AUTH),
    ("GET", f"{V}/tickets/{{ticket}}"): Call(TICKET),
    ("PUT", f"{V}/tickets/{{ticket}}"): Call(TICKET, json={"title": "Edited"}, fresh=True),
    ("DELETE", f"{V}/tickets/{{ticket}}"): Call(ADMIN, fresh=True),
    ("POST", f"{V}/tickets/{{ticket}}/attachment"): Call(TICKET, upload=True),
    ("GET", f"{V}/tickets/{{ticket}}/attachments"): Call(TICKET),
    ("GET", f"{V}/tickets/{{ticket}}/attachments/{{attachment_id}}"): Call(TICKET),
    ("PATCH", f"{V}/tickets/{{ticket}}/status"): Call(
        TICKET, json={"status": "closed"}, fresh=True
    ),
    ("PATCH", f"{V}/tickets/{{ticket}}/assign"): Call(
        AGENT_TICKET, json={"assignee_id": "@agent"}, fresh=True
    ),
    # A requester's own ticket is found first, then the role refused.
    ("PATCH", f"{V}/tickets/{{ticket}}/priority"): Call(
        "401 403 404 ok  404 ok", json={"priority": "P2"}, fresh=True
    ),
    ("PATCH", f"{V}/tickets/{{ticket}}/close"): Call(TICKET, fresh=True),
    ("POST", f"{V}/tickets/{{ticket}}/resolve"): Call(TICKET, json={}, fresh=True),
    ("POST", f"{V}/tickets/{{ticket}}/reopen"): Call(
        TICKET, path={"ticket": "@resolved"}, fresh=True
    ),
    ("POST", f"{V}/tickets/{{ticket}}/comment"): Call(TICKET, json={"body": "Hi"}, fresh=True),
    ("GET", f"{V}/tickets/{{ticket}}/comments"): Call(TICKET),
    # Only the ticket's requester rates it; staff who see it are told so.
    ("POST", f"{V}/tickets/{{ticket}}/rate"): Call(
        "401 ok  404 403 404 403", json={"score": 8}, path={"ticket": "@resolved"}, fresh=True
    ),
    ("POST", f"{V}/tickets/{{ticket}}/merge"): Call(
        AGENT_TICKET, json={"into": "@other_ticket"}, fresh=True
    ),
    ("GET", f"{V}/tickets/{{ticket}}/sla"): Call(TICKET),
    ("GET", f"{V}/tickets/{{ticket}}/history"): Call(TICKET),
    ("GET", f"{V}/tickets/{{ticket}}/deliveries"): Call(AGENT_TICKET),
    ("GET", f"{V}/tickets/suggest-kb/{{ticket}}"): Call(TICKET),
    ("POST", f"{V}/tickets/bulk-assign"): Call(
        "401 403 403 ok  ok:404 ok",
        json={"tickets": ["@ticket"], "assignee_id": "@agent"},
        fresh=True,
    ),
    ("POST", f"{V}/tickets/bulk-status"): Call(
        ADMIN, json={"tickets": ["@ticket"], "status": "closed"}, fresh=True
    ),
    # knowledge base
    ("GET", f"{V}/kb"): Call(PUBLIC),
    ("POST", f"{V}/kb"): Call(AGENT, json={"title": "@name", "content": "Restart it."}),
    ("GET", f"{V}/kb/search"): Call(PUBLIC, params={"q": "printer"}),
    ("GET", f"{V}/kb/categories"): Call(PUBLIC),
    ("GET", f"{V}/kb/{{article_id}}"): Call(PUBLIC),
    ("PUT", f"{V}/kb/{{article_id}}"): Call(AGENT, json={"tags": ["printers"]}),
    ("PATCH", f"{V}/kb/{{article_id}}"): Call(AGENT, json={"tags": ["printers"]}),
    ("DELETE", f"{V}/kb/{{article_id}}"): Call(ADMIN, fresh=True),
    ("POST", f"{V}/kb/{{article_id}}/vote"): Call(PUBLIC, json={"helpful": True}),
    # reports
    ("GET", f"{V}/reports/dashboard"): Call(AUTH),
    ("GET", f"{V}/reports/agents"): Call(ADMIN),
    ("GET", f"{V}/reports/tickets"): Call(ADMIN),
    ("GET", f"{V}/reports/satisfaction"): Call(ADMIN),
    ("GET", f"{V}/reports/performance"): Call(ADMIN),
    ("GET", f"{V}/reports/export/{{file_format}}"): Call(ADMIN),
    ("POST", f"{V}/reports/schedule"): Call(ADMIN, json=SCHEDULE),
    ("GET", f"{V}/reports/schedules"): Call(ADMIN),
    ("DELETE", f"{V}/reports/schedules/{{schedule_id}}"): Call(ADMIN, fresh=True),
    # SLA
    ("POST", f"{V}/sla/policies"): Call(ADMIN, json=POLICY),
    ("GET", f"{V}/sla/policies"): Call(ADMIN),
    ("GET", f"{V}/sla/policies/{{policy_id}}"): Call(ADMIN),
    ("PATCH", f"{V}/sla/policies/{{policy_id}}"): Call(ADMIN, json={"warn_at": [0.5]}),
    ("DELETE", f"{V}/sla/policies/{{policy_id}}"): Call(ADMIN, fresh=True),
    ("GET", f"{V}/sla/breaches"): Call(AGENT),
    ("GET", f"{V}/sla/breaches/{{ticket}}"): Call(TICKET),
    ("GET", f"{V}/sla/stats"): Call(ADMIN),
    # notifications: the owner's own, nobody else's (not even an admin's)
    ("GET", f"{V}/notifications"): Call(AUTH),
    ("PATCH", f"{V}/notifications/read-all"): Call(AUTH),
    ("PATCH", f"{V}/notifications/{{notification_id}}/read"): Call("401 ok  404 404 404 404"),
    ("DELETE", f"{V}/notifications/{{notification_id}}"): Call(
        "401 ok  404 404 404 404", fresh=True
    ),
    ("WS", f"{V}/notifications/ws"): Call(AUTH),  # 401: closed with 1008
    # automation rules (admins) and response templates (agents; changes: author or admin)
    ("GET", f"{V}/automation/rules"): Call(ADMIN),
    ("POST", f"{V}/automation/rules"): Call(ADMIN, json=RULE),
    ("GET", f"{V}/automation/rules/{{rule_id}}"): Call(ADMIN),
    ("PUT", f"{V}/automation/rules/{{rule_id}}"): Call(ADMIN, json={"description": "Tagged"}),
    ("DELETE", f"{V}/automation/rules/{{rule_id}}"): Call(ADMIN, fresh=True),
    ("PATCH", f"{V}/automation/rules/{{rule_id}}/toggle"): Call(ADMIN, fresh=True),
    ("POST", f"{V}/automation/test"): Call(ADMIN, json={"ticket": "@ticket"}),
    ("GET", f"{V}/automation/templates"): Call(AGENT),
    ("POST", f"{V}/automation/templates"): Call(AGENT, json={"name": "@name", "body": "Hi"}),
    ("GET", f"{V}/automation/templates/placeholders"): Call(AGENT),
    ("GET", f"{V}/automation/templates/{{template_id}}"): Call(AGENT),
    ("PUT", f"{V}/automation/templates/{{template_id}}"): Call(
        "401 403 403 ok  403 ok", json={"body": "Hello"}
    ),
    ("DELETE", f"{V}/automation/templates/{{template_id}}"): Call(
        "401 403 403 ok  403 ok", fresh=True
    ),
    ("POST", f"{V}/automation/templates/{{template_id}}/render"): Call(
        AGENT_TICKET, json={"ticket": "@ticket"}
    ),
    # calendars
    ("GET", f"{V}/calendars"): Call(AUTH),
    ("POST", f"{V}/calendars"): Call(ADMIN, json=CALENDAR),
    ("GET", f"{V}/calendars/{{calendar_id}}"): Call(AUTH),
    ("PATCH", f"{V}/calendars/{{calendar_id}}"): Call(ADMIN, json={"holidays": ["2030-01-01"]}),
    ("DELETE", f"{V}/calendars/{{calendar_id}}"): Call(ADMIN, fresh=True),
    ("GET", f"{V}/calendars/{{calendar_id}}/preview"): Call(
        AUTH, params={"start": "2030-01-07T09:00:00Z", "duration": "PT8H"}
    ),
    # integrations
    ("GET", f"{V}/integrations"): Call(ADMIN),
    ("GET", f"{V}/integrations/slack/install"): Call(ADMIN),
    ("GET", f"{V}/integrations/{{provider}}/deliveries"): Call(ADMIN),
    ("POST", f"{V}/integrations/{{provider}}"): Call(
        ADMIN, json=INTEGRATION, path={"provider": "@name"}
    ),
    ("DELETE", f"{V}/integrations/{{provider}}"): Call(ADMIN, fresh=True),
}


# -- routes whose credential is not an access token ---------------------------------------------


INBOUND_MAIL = {
    "from": "Someone <someone@example.com>",
    "subject": "Printer",
    "text": "It jams",
    "SPF": "pass",
    "dkim": "{@example.com : pass}",
}


async def _sendgrid(world: World, target: Target, proven: bool) -> Json:
    return {
        "files": [(name, (None, value)) for name, value in INBOUND_MAIL.items()],
        "auth": ("sendgrid", SENDGRID_SECRET) if proven else None,
    }


async def _metrics(world: World, target: Target, proven: bool) -> Json:
    return {"headers": {"Authorization": f"Bearer {METRICS_TOKEN}"} if proven else {}}


async def _twilio(world: World, target: Target, proven: bool) -> Json:
    params = {
        "From": f"+1555{uuid4().int % 10**7:07d}",
        "MessageSid": "SM" + uuid4().hex,
        "Body": "Hi",
    }
    url = PUBLIC_URL + target.path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return {"data": params, "headers": {"X-Twilio-Signature": signature} if proven else {}}


async def _slack_actions(world: World, target: Target, proven: bool) -> Json:
    payload = {
        "type": "block_actions",
        "user": {"id": "U" + uuid4().hex[:10].upper(), "username": "someone", "team_id": "T1"},
        "actions": [{"action_id": "acknowledge", "value": await world.get("@ticket")}],
        "response_url": world.slack.url + "/response",
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(SLACK_SIGNING.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if proven:
        headers |= {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest(),
        }
    return {"content": body, "headers": headers}


async def _slack_callback(world: World, target: Target, proven: bool) -> Json:
    url = authorize_url(world.stack.settings, (await world.person("admin")).id)
    state = parse_qs(urlsplit(url).query)["state"][0] if proven else "forged"
    return {"params": {"code": "granted-code", "state": state}}


async def _survey(world: World, target: Target, proven: bool) -> Json:
    number = int(await world.get("@resolved"))
    token = issue_survey_token(KeyRing.of(LINK_SECRET), number, (await world.person("owner")).id)
    answer = {"data": {"score": "8"}} if target.method == "POST" else {}
    return {"path": SURVEY_PATH + (token if proven else "forged"), **answer}


async def _user_token(world: World, purpose: TokenPurpose) -> str:
    token = opaque_token()
    async with world.stack.sessions.begin() as session:
        await tokens_repo.issue_user_token(
            session,
            user_id=(await world.person("owner")).id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    return token


async def _verify_email(world: World, target: Target, proven: bool) -> Json:
    token = await _user_token(world, TokenPurpose.EMAIL_VERIFICATION) if proven else "forged"
    return {"path": f"{V}/auth/verify-email/{token}"}


async def _reset_password(world: World, target: Target, proven: bool) -> Json:
    token = await _user_token(world, TokenPurpose.PASSWORD_RESET) if proven else "forged"
    return {"json": {"token": token, "new_password": "another secret 123"}}


async def _verify_email_body(world: World, target: Target, proven: bool) -> Json:
    token = await _user_token(world, TokenPurpose.EMAIL_VERIFICATION) if proven else "forged"
    return {"json": {"token": token}}


async def _accept_invitation(world: World, target: Target, proven: bool) -> Json:
    token = await _user_token(world, TokenPurpose.INVITATION) if proven else "forged"
    return {"json": {"token": token, "password": "another secret 123"}}


async def _mfa_verify(world: World, target: Target, proven: bool) -> Json:
    """A login of an enrolled agent half done: its challenge, and one of its recovery codes."""
    if not proven:
        return {"json": {"challenge": "forged", "code": "123456"}}
    enrolled = await world.desk.people.make(Role.AGENT, name="Enrolled")
    secret = (await world.made_by(enrolled, "POST", f"{V}/auth/mfa/setup"))["secret"]
    code = {"code": pyotp.TOTP(secret).now()}
    enabled = await world.made_by(enrolled, "POST", f"{V}/auth/mfa/enable", json=code)
    login = {"email": enrolled.email, "password": PASSWORD}
    challenge = (await world.made("anon", "POST", f"{V}/auth/login", json=login))["challenge"]
    return {"json": {"challenge": challenge, "code": enabled["recovery_codes"][0]}}


async def _refresh(world: World, target: Target, proven: bool) -> Json:
    token = (await world.login("owner"))["refresh_token"] if proven else "forged"
    return {"json": {"refresh_token": token}}


PROOF: dict[tuple[str, str], Proof] = {
    ("POST", f"{V}/webhooks/sendgrid/inbound"): Proof(401, _sendgrid),
    ("POST", f"{V}/webhooks/email-incoming"): Proof(401, _sendgrid),
    ("POST", f"{V}/webhooks/twilio/sms"): Proof(403, _twilio),
    ("POST", f"{V}/webhooks/sms-reply"): Proof(403, _twilio),
    ("POST", f"{V}/webhooks/slack/actions"): Proof(401, _slack_actions),
    ("GET", f"{V}/webhooks/{{provider}}/callback"): Proof(401, _slack_callback),
    ("POST", f"{V}/webhooks/{{provider}}/callback"): Proof(401, _slack_callback),
    ("GET", f"{V}/surveys/{{token}}"): Proof(404, _survey),
    ("POST", f"{V}/surveys/{{token}}"): Proof(404, _survey),
    ("GET", f"{V}/auth/verify-email/{{token}}"): Proof(422, _verify_email),
    ("POST", f"{V}/auth/reset-password"): Proof(422, _reset_password, fresh=True),
    ("POST", f"{V}/auth/refresh-token"): Proof(401, _refresh),
    ("POST", f"{V}/auth/verify-email"): Proof(422, _verify_email_body),
    ("POST", f"{V}/auth/accept-invitation"): Proof(422, _accept_invitation, fresh=True),
    ("POST", f"{V}/auth/mfa/verify"): Proof(401, _mfa_verify, fresh=True),
    ("GET", "/metrics"): Proof(401, _metrics),
}


# -- the route table ---------------------------------------------------------------------------


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers; `WS` for sockets, `MOUNT` for mounts.

    HEAD is left out where GET is there: Starlette answers it with the GET route.
    """
    keys: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = str(route.path)
        if isinstance(route.original_route, APIWebSocketRoute):
            keys.add(("WS", path))
        elif isinstance(route.original_route, Mount):
            keys.add(("MOUNT", path))
        else:
            methods = set(route.methods or ())
            keys |= {(m, path) for m in methods if not (m == "HEAD" and "GET" in methods)}
    return keys


def _app() -> FastAPI:
    settings = stack_settings("postgresql+asyncpg://matrix@localhost/matrix", "m", Path("."))
    return create_app(settings)


def test_every_route_has_exactly_one_line() -> None:
    routes = route_keys(_app())
    table = MATRIX.keys() | PROOF.keys()
    assert not MATRIX.keys() & PROOF.keys(), "a route is in both MATRIX and PROOF"
    missing = sorted(routes - table)
    stale = sorted(table - routes)
    assert not missing, "routes with no line in MATRIX (add one each):\n" + "\n".join(
        f'    ("{method}", "{path}"): Call(...),' for method, path in missing
    )
    assert not stale, f"lines for routes that no longer exist: {stale}"


def test_every_row_names_six_known_outcomes() -> None:
    for key, call in MATRIX.items():
        outcomes = call.expect.split()
        assert len(outcomes) == len(ROLES), key
        assert all(_known(outcome) for outcome in outcomes), key


def _known(outcome: str) -> bool:
    status = outcome.removeprefix("ok:")
    return outcome == "ok" or (status.isdigit() and 400 <= int(status) < 500)


# -- the callers' world -------------------------------------------------------------------------

PUBLIC_URL = "https://help.example.com"
SENDGRID_SECRET = "matrix-inbound-secret"
TWILIO_TOKEN = "matrix-twilio-token"
SLACK_SIGNING = "matrix-slack-signing-secret"
METRICS_TOKEN = "matrix-metrics-token-0123456789abcdef"
SETTINGS: Json = {
    "TICKETFLOW_PUBLIC_URL": PUBLIC_URL,
    "TICKETFLOW_SECRETS_KEY": Fernet.generate_key().decode(),
    "sendgrid_inbound_secret": SENDGRID_SECRET,
    "twilio_auth_token": TWILIO_TOKEN,
    "slack_signing_secret": SLACK_SIGNING,
    "TICKETFLOW_METRICS_TOKEN": METRICS_TOKEN,
    # The stand-ins (Slack's OAuth answer names a hook on one) listen on 127.0.0.1.
    "TICKETFLOW_OUTBOUND_ALLOW": "127.0.0.1",
    "slack_client_id": "1234.5678",
    "slack_client_secret": "matrix-slack-client-secret",
}
PERSONS = {
    "owner": Role.USER,
    "other": Role.VIP_USER,
    "agent": Role.AGENT,
    "outsider": Role.AGENT,
    "admin": Role.ADMIN,
}
# Which object fills a path parameter, unless the line says otherwise.
PATH_OBJECTS = {
    "ticket": "@ticket",
    "user_id": "@owner",
    "department_id": "@department",
    "attachment_id": "@attachment",
    "article_id": "@article",
    "policy_id": "@policy",
    "notification_id": "@notification",
    "rule_id": "@rule",
    "calendar_id": "@calendar",
    "template_id": "@template",
    "schedule_id": "@schedule",
    "provider": "@integration",
    "file_format": "csv",
    "held_id": "@held",
}


@dataclass
class Desk:
    """What every world shares: the two departments and the session's stand-in for Slack."""

    stack: Stack
    people: People
    department: UUID  # the owner's tickets go here; its agent is `agent`
    elsewhere: UUID  # `outsider`'s
    slack: StandIn


class World:
    """The callers, and the objects their calls name: each made on first use, once."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.stack = desk.stack
        self.slack = desk.slack
        self._people: dict[str, asyncio.Future[Person]] = {}
        self._made: dict[str, asyncio.Future[str]] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}

    async def person(self, name: str) -> Person:
        if name not in self._people:
            department = {"agent": self.desk.department, "outsider": self.desk.elsewhere}
            made = self.desk.people.make(PERSONS[name], department.get(name), name=name.title())
            self._people[name] = asyncio.ensure_future(made)
        return await self._people[name]

    async def auth(self, role: str) -> dict[str, str]:
        return (await self.person(role)).auth if role in PERSONS else {}

    async def get(self, name: str) -> str:
        """The reference (number, id, slug) of the object `@name`, made the first time."""
        key = name.removeprefix("@")
        if key in PERSONS:
            return str((await self.person(key)).id)
        if key not in self._made:
            self._made[key] = asyncio.ensure_future(MAKERS[key](self))
        return await self._made[key]

    async def resolve(self, value: Any, role: str) -> Any:
        """`value` with its `@name` strings replaced by what they name, for `role`'s call."""
        if isinstance(value, dict):
            return {k: await self.resolve(v, role) for k, v in value.items()}
        if isinstance(value, list):
            return [await self.resolve(v, role) for v in value]
        if not (isinstance(value, str) and value.startswith("@")):
            return value
        if value in CALLER_VALUES:
            return await CALLER_VALUES[value](self, role)
        return await self.get(value)

    async def call(self, role: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**await self.auth(role), **kwargs.pop("headers", {})}
        return await self.client(role).request(method, url, headers=headers, **kwargs)

    def client(self, role: str) -> httpx.AsyncClient:
        """A client of the app from an address of `role`'s own in this world: limits that
        count per client address (registrations, logins) see each caller apart, as they
        would see six people."""
        if role not in self._clients:
            peer = (a_client_address(), 50000)
            transport = httpx.ASGITransport(app=self.stack.app, client=peer)
            base = str(self.stack.client.base_url)
            self._clients[role] = httpx.AsyncClient(transport=transport, base_url=base)
        return self._clients[role]

    async def made(self, role: str, method: str, url: str, **kwargs: Any) -> Json:
        answer = await self.call(role, method, url, **kwargs)
        assert answer.is_success, f"making the world: {method} {url} {answer.text}"
        body: Json = answer.json()
        return body

    async def made_by(self, person: Person, method: str, url: str, **kwargs: Any) -> Json:
        """As `made`, by someone outside the six callers."""
        answer = await self.stack.client.request(method, url, headers=person.auth, **kwargs)
        assert answer.is_success, f"making the world: {method} {url} {answer.text}"
        body: Json = answer.json()
        return body

    async def login(self, role: str) -> Json:
        email = (await self.person(role)).email
        return await self.made(
            "anon", "POST", f"{V}/auth/login", json={"email": email, "password": PASSWORD}
        )


def _unique(prefix: str = "matrix") -> str:
    return f"{prefix}-{uuid4().hex[:10]}"


async def _ticket(world: World) -> str:
    body = {
        "title": "Printer jams",
        "description": "On floor 2",
        "department_id": str(world.desk.department),
    }
    return str((await world.made("owner", "POST", f"{V}/tickets", json=body))["number"])


async def _resolved(world: World) -> str:
    number = await _ticket(world)
    await world.made("agent", "POST", f"{V}/tickets/{number}/resolve", json={"solution": "Fixed"})
    return number


async def _attachment(world: World) -> str:
    number = await world.get("@ticket")
    upload = {"file": ("note.txt", b"hello", "text/plain")}
    return str(
        (await world.made("owner", "POST", f"{V}/tickets/{number}/attachment", files=upload))["id"]
    )


async def _notification(world: World) -> str:
    async with world.stack.sessions.begin() as session:
        row = Notification(
            user_id=(await world.person("owner")).id,
            channel=NotificationChannel.IN_APP,
            event="matrix",
            subject="For the owner",
            body="",
            status=NotificationStatus.SENT,
        )
        session.add(row)
        await session.flush()
        return str(row.id)


async def _by_admin(world: World, url: str, body: Json, key: str = "id") -> str:
    return str(
        (await world.made("admin", "POST", url, json=await world.resolve(body, "admin")))[key]
    )


async def _integration(world: World) -> str:
    slug = _unique()
    await world.made("admin", "POST", f"{V}/integrations/{slug}", json=INTEGRATION)
    return slug


async def _template(world: World) -> str:
    body = {"name": _unique(), "body": "Hello {{ ticket.title }}"}
    return str((await world.made("agent", "POST", f"{V}/automation/templates", json=body))["id"])


async def _article(world: World) -> str:
    body = {"title": _unique(), "content": "Restart the printer.", "status": "published"}
    return str((await world.made("agent", "POST", f"{V}/kb", json=body))["id"])


async def _held(world: World) -> str:
    """An e-mail whose sender nothing vouches for: held for an admin."""
    unchecked = {**INBOUND_MAIL, "SPF": "fail", "dkim": "none"}
    answer = await world.stack.client.post(
        f"{V}/webhooks/sendgrid/inbound",
        files=[(name, (None, value)) for name, value in unchecked.items()],
        auth=("sendgrid", SENDGRID_SECRET),
    )
    assert answer.is_success, answer.text
    return str(answer.json()["held"])


MAKERS: dict[str, Callable[[World], Awaitable[str]]] = {
    "held": _held,
    "ticket": _ticket,
    "other_ticket": _ticket,
    "resolved": _resolved,
    "attachment": _attachment,
    "notification": _notification,
    "integration": _integration,
    "template": _template,
    "article": _article,
    "department": lambda w: _by_admin(w, f"{V}/departments", {"name": "@name"}),
    "policy": lambda w: _by_admin(w, f"{V}/sla/policies", POLICY),
    "rule": lambda w: _by_admin(w, f"{V}/automation/rules", RULE),
    "calendar": lambda w: _by_admin(w, f"{V}/calendars", CALENDAR),
    "schedule": lambda w: _by_admin(w, f"{V}/reports/schedule", SCHEDULE),
}


async def _caller_login(world: World, role: str) -> Json:
    return {"email": (await world.person(_someone(role))).email, "password": PASSWORD}


async def _caller_logout(world: World, role: str) -> Json:
    return {"refresh_token": (await world.login(_someone(role)))["refresh_token"]}


async def _new_password(world: World, role: str) -> Json:
    return {"current_password": PASSWORD, "new_password": "another secret 123"}


def _someone(role: str) -> str:
    """The caller, or the owner for an anonymous call (which is refused before it matters)."""
    return "owner" if role == "anon" else role


async def _name(world: World, role: str) -> str:
    return _unique()


async def _email(world: World, role: str) -> str:
    return f"{_unique()}@example.com"


async def _phone(world: World, role: str) -> str:
    return f"+1555{uuid4().int % 10**7:07d}"


CALLER_VALUES: dict[str, Callable[[World, str], Awaitable[Any]]] = {
    "@login": _caller_login,
    "@logout": _caller_logout,
    "@new_password": _new_password,
    "@name": _name,
    "@email": _email,
    "@phone": _phone,
}


# -- running the checks -------------------------------------------------------------------------

SLACK_EXCHANGE = "/slack/api/oauth.v2.access"
CONCURRENT_CHECKS = 8


@pytest.fixture(scope="module")
def slack() -> Iterator[StandIn]:
    """Slack, for the OAuth exchange and the Slack buttons' `response_url`."""
    installed = {
        "ok": True,
        "access_token": "xoxb-matrix",
        "team": {"id": "T1", "name": "Matrix"},
    }
    with StandIn(default=Answer(200, payload={"ok": True})) as standin:
        hook = {"url": f"{standin.url}/hooks/matrix", "channel": "#support"}
        standin.route(SLACK_EXCHANGE, Answer(payload={**installed, "incoming_webhook": hook}))
        yield standin


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk(
    database_url: str,
    dev_env: WorkflowEnvironment,
    slack: StandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Desk]:
    files = tmp_path_factory.mktemp("matrix-files")
    extra = {**SETTINGS, "slack_api_url": f"{slack.url}/slack/api/"}
    async with api_stack(database_url, dev_env.client, files, **extra) as stack:
        people = People(stack.sessions, stack.settings)
        department, elsewhere = await asyncio.gather(
            people.department("Support"), people.department("Facilities")
        )
        yield Desk(stack, people, department, elsewhere, slack)


async def _path(world: World, template: str, chosen: dict[str, str], role: str) -> str:
    values = {}
    for _, name, _, _ in Formatter().parse(template):
        if not name:
            continue
        named = chosen.get(name, PATH_OBJECTS.get(name))
        assert named is not None, f"{{{name}}}: say which object fills it (PATH_OBJECTS, MAKERS)"
        values[name] = str(await world.resolve(named, role))
    return template.format(**values)


async def _request(world: World, call: Call, role: str) -> Json:
    kwargs: Json = {}
    if call.json is not None:
        kwargs["json"] = await world.resolve(call.json, role)
    if call.params is not None:
        kwargs["params"] = await world.resolve(call.params, role)
    if call.form is not None:
        kwargs["data"] = await world.resolve(call.form, role)
    if call.upload:
        kwargs["files"] = {"file": ("note.txt", b"hello", "text/plain")}
    return kwargs


def _outcome(response: httpx.Response) -> str:
    if not response.is_success:
        return str(response.status_code)
    body = response.json() if "json" in response.headers.get("content-type", "") else None
    results = body.get("results") if isinstance(body, dict) else None
    if results and not results[0]["ok"]:
        return f"ok:{results[0]['status']}"  # a batch: the one ticket's own outcome
    return "ok"


async def _socket(world: World, path: str, role: str) -> str:
    """The socket's answer to a handshake as `role`: `ok` (ready) or `401` (closed 1008)."""
    token = (await world.person(role)).token if role in PERSONS else None
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
    }
    inbox: asyncio.Queue[Json] = asyncio.Queue()
    outbox: asyncio.Queue[Json] = asyncio.Queue()
    await inbox.put({"type": "websocket.connect"})
    if token is None:  # no token at all: the first message is the last chance to send one
        await inbox.put({"type": "websocket.receive", "text": "{}"})
    app = world.stack.app
    conversation = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    try:
        async with asyncio.timeout(10):
            accepted = await outbox.get()
            assert accepted["type"] == "websocket.accept", accepted
            answer = await outbox.get()
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(10):
            await conversation
    if answer["type"] == "websocket.close":
        return "401" if answer.get("code") == 1008 else f"closed {answer.get('code')}"
    return "ok" if json.loads(answer["text"]).get("type") == "ready" else str(answer)


@dataclass
class Check:
    """One call of one route by one caller, and what came of it."""

    key: tuple[str, str]
    role: str
    expected: str
    got: str = ""
    detail: str = ""

    def line(self) -> str:
        method, path = self.key
        wanted = f"expected {self.expected}, got {self.got}"
        return f"{method} {path} as {self.role}: {wanted} {self.detail}"


async def _run_call(world: World, check: Check, call: Call) -> None:
    method, template = check.key
    if method == "WS":
        check.got = await _socket(world, template, check.role)
        return
    path = await _path(world, template, call.path, check.role)
    response = await world.call(check.role, method, path, **await _request(world, call, check.role))
    check.got, check.detail = _outcome(response), response.text[:200]


async def _run_proof(world: World, check: Check, proof: Proof, proven: bool) -> None:
    method, template = check.key
    path = template.replace("{provider}", "slack")
    kwargs = await proof.make(world, Target(method, path), proven)
    path = kwargs.pop("path", path)
    response = await world.call(check.role, method, path, **kwargs)
    check.got, check.detail = _outcome(response), response.text[:200]


async def test_every_route_answers_every_caller_as_the_table_says(
    desk: Desk, request: pytest.FixtureRequest
) -> None:
    shared = World(desk)
    limit = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def world_for(fresh: bool) -> World:
        return World(desk) if fresh else shared

    async def run(check: Check, job: Callable[[World], Awaitable[None]], fresh: bool) -> Check:
        async with limit:
            try:
                await job(await world_for(fresh))
            except Exception as error:  # one broken check must not hide the others
                check.got, check.detail = "error", repr(error)[:300]
        return check

    jobs: list[Awaitable[Check]] = []
    for key, call in MATRIX.items():
        for role, expected in zip(ROLES, call.expect.split(), strict=True):
            check = Check(key, role, expected)
            jobs.append(run(check, lambda w, c=check, k=call: _run_call(w, c, k), call.fresh))
    for key, proof in PROOF.items():
        for role in ROLES:
            check = Check(key, f"{role} without proof", str(proof.refused))
            refuse = lambda w, c=check, p=proof: _run_proof(w, c, p, False)  # noqa: E731
            jobs.append(run(check, refuse, proof.fresh))
        check = Check(key, "anon with proof", "ok")
        prove = lambda w, c=check, p=proof: _run_proof(w, c, p, True)  # noqa: E731
        jobs.append(run(check, prove, proof.fresh))
    checks = await asyncio.gather(*jobs)

    wrong = [check.line() for check in checks if check.got != check.expected]
    report(request, f"authorization matrix: {len(checks)} checks, {len(wrong)} wrong")
    assert not wrong, "\n".join(wrong)
