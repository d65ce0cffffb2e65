"""Inbound e-mail (SendGrid Inbound Parse) end to end: the API, the worker, PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.services.inbound.mail import own_text
from persistence.models import Attachment, Ticket, User
from persistence.repositories import users as users_repo
from tests.api.conftest import PASSWORD, ApiWith, Desk, People, assert_problem
from tests.api.test_tickets import eventually, open_ticket
from tests.support.providers import (
    link_token,
    mail_to,
    mails_to,
    sending_to,
    start_providers,
)
from tests.support.standin import StandIn
from ticketflow.settings import Settings

V1 = "/api/v1"
INBOUND = f"{V1}/webhooks/sendgrid/inbound"
SECRET = "sendgrid-inbound-secret-for-tests"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def attachments_dir(tmp_path: Path) -> Path:
    return (tmp_path / "attachments").resolve()


@pytest.fixture
def providers() -> Iterator[StandIn]:
    standin = start_providers()
    yield standin
    standin.stop()


@pytest.fixture
def settings(settings: Settings, attachments_dir: Path, providers: StandIn) -> Settings:
    return sending_to(settings, providers, "twilio-token-unused-here").model_copy(
        update={"sendgrid_inbound_secret": SecretStr(SECRET), "attachments_dir": attachments_dir}
    )


@pytest_asyncio.fixture(loop_scope="session")
async def desk(desk: Desk, session_factory: async_sessionmaker[AsyncSession]) -> Desk:
    """The desk's requester has proven their address, as a verification link does: their mail
    lands on their account."""
    async with session_factory.begin() as session:
        await users_repo.mark_email_verified(session, desk.requester.id)
    return desk


def stored_file(url: str) -> tuple[Path, bytes]:
    """The directory and the bytes of a stored attachment, from its `file:` URL."""
    path = Path(unquote(urlsplit(url).path))
    return path.parent, path.read_bytes()


def stranger() -> str:
    return f"stranger-{uuid4().hex[:10]}@example.org"


def email(
    sender: str,
    subject: str,
    text: str,
    *,
    headers: dict[str, str] | None = None,
    to: str = "support@ticketflow.local",
    **fields: str,
) -> dict[str, str]:
    """The text fields SendGrid posts for an e-mail; by default one its sender's domain signed
    (DKIM) and sent through its own servers (SPF), as SendGrid reports them."""
    header_block = {"Message-ID": f"<{uuid4().hex}@mail.example.org>", **(headers or {})}
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2].lower()
    return {
        "from": sender,
        "to": to,
        "subject": subject,
        "text": text,
        "headers": "".join(f"{name}: {value}\r\n" for name, value in header_block.items()),
        "envelope": json.dumps({"to": [to], "from": address}),
        "dkim": f"{{@{domain} : pass}}",
        "SPF": "pass",
        "attachments": "0",
        **fields,
    }


async def deliver(
    api: httpx.AsyncClient,
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None = None,
    **request: Any,
) -> httpx.Response:
    """Post as SendGrid does: multipart/form-data, the secret as the basic-auth password unless
    told otherwise."""
    parts: list[tuple[str, Any]] = [
        (name, (None, value.encode())) for name, value in fields.items()
    ]
    parts += list((files or {}).items())
    request.setdefault("auth", ("sendgrid", SECRET))
    url = request.pop("url", INBOUND)
    return await api.post(url, files=parts, **request)


async def delivered(api: httpx.AsyncClient, fields: dict[str, str], **kw: Any) -> dict[str, Any]:
    response = await deliver(api, fields, **kw)
    assert response.status_code == 200, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


async def comments(api: httpx.AsyncClient, number: int, headers: dict[str, str]) -> list[Any]:
    response = await api.get(f"{V1}/tickets/{number}/comments", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def user_by_email(sessions: async_sessionmaker[AsyncSession], email: str) -> User | None:
    async with sessions() as session:
        return await users_repo.get_by_email(session, email)


async def test_an_email_from_a_new_sender_opens_a_ticket(
    api: httpx.AsyncClient,
    desk: Desk,
    people: People,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    inbox = f"help-{uuid4().hex[:8]}@example.com"
    department_id = await people.department("Help", notification_email=inbox)
    sender = stranger()
    fields = email(
        f"Ana Pérez <{sender.upper()}>", "VPN down", "Cannot connect since 9am.\n", to=inbox
    )
    receipt = await delivered(api, fields)
    assert receipt["comment_id"] is None

    ticket = (await api.get(f"{V1}/tickets/{receipt['ticket']}", headers=desk.admin.auth)).json()
    assert ticket["title"] == "VPN down"
    assert ticket["description"] == "Cannot connect since 9am."
    assert ticket["source"] == "email"
    assert ticket["department_id"] == str(department_id)  # the address it was sent to
    requester = await user_by_email(session_factory, sender)
    assert requester is not None
    assert (requester.name, requester.role.value) == ("Ana Pérez", "user")
    assert ticket["requester_id"] == str(requester.id)


async def test_a_reply_tagged_in_the_subject_becomes_a_comment(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    text = (
        "It is still smoking.\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Support <support@ticketflow.local>\n"
        "wrote:\n> We are on our way\n> with an extinguisher\n"
    )
    fields = email(desk.requester.email, f"Re: [#{number}] Printer on fire", text)
    receipt = await delivered(api, fields)
    assert receipt["ticket"] == number
    assert receipt["comment_id"] is not None

    async def replied() -> bool:
        return len(await comments(api, number, desk.requester.auth)) == 1

    await eventually(replied)
    [comment] = await comments(api, number, desk.requester.auth)
    assert comment["id"] == receipt["comment_id"]
    assert comment["body"] == "It is still smoking."  # the quoted thread is left out
    assert comment["author_id"] == str(desk.requester.id)


async def test_a_reply_threaded_by_in_reply_to_alone_becomes_a_comment(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    ours = f"<n3.ticket-{number}@ticketflow.local>"
    fields = email(
        desk.requester.email,
        "Re: your request",
        "Thanks, that fixed it",
        headers={"In-Reply-To": ours, "References": f"<first@example.org> {ours}"},
    )
    receipt = await delivered(api, fields)
    assert receipt["ticket"] == number

    async def replied() -> bool:
        bodies = [c["body"] for c in await comments(api, number, desk.agent.auth)]
        return bodies == ["Thanks, that fixed it"]

    await eventually(replied)


async def test_a_reply_threaded_by_references_alone_becomes_a_comment(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Some mail clients drop In-Reply-To but keep the thread's References."""
    number = (await open_ticket(api, desk))["number"]
    ours = f"<n7.ticket-{number}@ticketflow.local>"
    fields = email(
        desk.requester.email,
        "Re: your request",
        "One more thing",
        headers={"References": f"<first@example.org> {ours} <later@example.org>"},
    )
    receipt = await delivered(api, fields)
    assert receipt["ticket"] == number
    assert receipt["comment_id"] is not None


async def test_a_requester_reply_resumes_an_on_hold_ticket(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    assign = {"assignee_id": str(desk.agent.id)}
    assigned = await api.patch(
        f"{V1}/tickets/{number}/assign", json=assign, headers=desk.agent.auth
    )
    assert assigned.status_code == 200, assigned.text
    held = await api.patch(
        f"{V1}/tickets/{number}/status", json={"status": "on_hold"}, headers=desk.agent.auth
    )
    assert held.json()["status"] == "on_hold", held.text

    await delivered(api, email(desk.requester.email, f"Re: [#{number}]", "Here is the log"))

    async def resumed() -> bool:
        ticket = await api.get(f"{V1}/tickets/{number}", headers=desk.agent.auth)
        return bool(ticket.json()["status"] == "in_progress")

    await eventually(resumed)


async def test_an_email_delivered_twice_makes_one_ticket_and_one_comment(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    sender = stranger()
    first = email(sender, "Laptop fan is loud", "It sounds like a jet engine")
    opened = [await delivered(api, first) for _ in range(2)]
    number = opened[0]["ticket"]
    assert opened[1] == opened[0]

    reply = email(sender, f"Re: [#{number}] Laptop fan is loud", "Now it smells of burning too")
    receipts = [await delivered(api, reply) for _ in range(2)]
    assert receipts[1] == receipts[0]
    assert receipts[0]["ticket"] == number

    # Signals are taken in order: once a later reply shows, a duplicate would have too.
    await delivered(api, email(sender, f"Re: [#{number}]", "And now it is quiet"))

    async def later_reply_shown() -> bool:
        return len(await comments(api, number, desk.admin.auth)) >= 2

    await eventually(later_reply_shown)
    bodies = [c["body"] for c in await comments(api, number, desk.admin.auth)]
    assert bodies == ["Now it smells of burning too", "And now it is quiet"]
    requester = await user_by_email(session_factory, sender)
    assert requester is not None
    listed = await api.get(
        f"{V1}/tickets", headers=desk.admin.auth, params={"requester_id": str(requester.id)}
    )
    assert [t["number"] for t in listed.json()["items"]] == [number]


async def test_a_requester_reply_reopens_a_resolved_ticket(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    resolved = await api.post(f"{V1}/tickets/{number}/resolve", headers=desk.agent.auth, json={})
    assert resolved.json()["status"] == "resolved"

    await delivered(api, email(desk.requester.email, f"Re: [#{number}]", "No, it is back"))

    async def reopened() -> bool:
        ticket = await api.get(f"{V1}/tickets/{number}", headers=desk.requester.auth)
        return bool(ticket.json()["status"] == "reopened")

    await eventually(reopened)


async def test_a_reply_to_a_closed_ticket_opens_a_follow_up(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    closed = await api.patch(f"{V1}/tickets/{number}/close", headers=desk.agent.auth)
    assert closed.json()["status"] == "closed"

    fields = email(desk.requester.email, f"Re: [#{number}] Printer on fire", "It caught fire again")
    receipt = await delivered(api, fields)
    assert receipt["ticket"] != number
    assert receipt["comment_id"] is None
    follow_up = await api.get(f"{V1}/tickets/{receipt['ticket']}", headers=desk.requester.auth)
    assert follow_up.json()["metadata"]["follow_up_of"] == number
    assert follow_up.json()["department_id"] == str(desk.department_id)


async def test_someone_else_cannot_reply_into_a_ticket(api: httpx.AsyncClient, desk: Desk) -> None:
    number = (await open_ticket(api, desk))["number"]
    receipt = await delivered(api, email(stranger(), f"Re: [#{number}]", "Let me in"))
    assert receipt["ticket"] != number
    assert receipt["comment_id"] is None
    assert await comments(api, number, desk.admin.auth) == []


async def test_auto_replies_are_ignored(
    api: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    sender = stranger()
    fields = email(
        sender, "Out of office", "Back on Monday", headers={"Auto-Submitted": "auto-replied"}
    )
    receipt = await delivered(api, fields)
    assert receipt == {
        "ticket": None,
        "comment_id": None,
        "ignored": "auto-submitted",
        "held": None,
    }
    assert await user_by_email(session_factory, sender) is None


@pytest.mark.parametrize(
    "auth",
    [
        {"params": {"token": "wrong"}, "auth": None},
        {"auth": None},
        {"auth": ("sendgrid", "wrong")},
        {"auth": None, "headers": {"Authorization": "Basic !!not-base64!!"}},
    ],
    ids=["wrong token", "no proof", "wrong password", "garbled basic auth"],
)
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_made(
    api: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    auth: dict[str, Any],
) -> None:
    sender = stranger()
    response = await deliver(api, email(sender, "Let me in", "Please"), **auth)
    assert_problem(response, 401)
    assert await user_by_email(session_factory, sender) is None


@pytest.mark.parametrize(
    "change",
    [
        {"from": ""},
        {"from": "not an address"},
        {"envelope": "{not json"},
        {"envelope": "[1, 2]"},
        {"subject": "", "text": ""},
        {"subject": "  ", "text": "> only a quote\n"},
    ],
    ids=["no sender", "bad sender", "bad envelope", "envelope not an object", "empty", "quote"],
)
async def test_a_malformed_email_is_refused_and_nothing_is_made(
    api: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    change: dict[str, str],
) -> None:
    sender = stranger()
    fields = {**email(sender, "Broken", "Body"), **change}
    assert_problem(await deliver(api, fields), 422)
    assert await user_by_email(session_factory, sender) is None


async def test_attachments_are_stored_and_linked_to_the_ticket_and_the_comment(
    api: httpx.AsyncClient,
    desk: Desk,
    session_factory: async_sessionmaker[AsyncSession],
    attachments_dir: Path,
) -> None:
    sender = stranger()
    screenshot = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    info = {"attachment1": {"filename": "screen.png", "type": "image/png"}}
    fields = email(
        sender,
        "Error on login",
        "See the screenshot",
        **{
            "attachments": "1",
            "attachment-info": json.dumps(info),
        },
    )
    files = {"attachment1": ("../../screen.png", screenshot, "image/png")}
    opened = await delivered(api, fields, files=files)
    log = b"line 1\nline 2\n"
    reply = email(sender, f"Re: [#{opened['ticket']}]", "", attachments="1")
    replied = await delivered(api, reply, files={"attachment1": ("app.log", log, "text/plain")})

    async with session_factory() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.number == opened["ticket"]))
        rows = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.ticket_id == ticket_id)
                .order_by(Attachment.created_at, Attachment.filename)
            )
        )
    assert [(r.filename, r.content_type, r.size_bytes) for r in rows] == [
        ("screen.png", "image/png", len(screenshot)),
        ("app.log", "text/plain", len(log)),
    ]
    assert rows[0].comment_id is None
    assert str(rows[1].comment_id) == replied["comment_id"]
    for row, data in zip(rows, (screenshot, log), strict=True):
        assert stored_file(row.url) == (attachments_dir, data)

    async def replied_in_thread() -> bool:
        thread = await comments(api, opened["ticket"], desk.admin.auth)
        return [(c["body"], c["attachments"]) for c in thread] == [
            ("Attached: app.log", [rows[1].url])
        ]

    await eventually(replied_in_thread)


async def test_without_a_secret_configured_the_webhook_is_unavailable(
    settings: Settings,
    api_with: ApiWith,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    bare = settings.model_copy(update={"sendgrid_inbound_secret": None})
    async with api_with(bare) as client:
        sender = stranger()
        response = await deliver(client, email(sender, "Hello", "Anyone there?"))
    assert assert_problem(response, 503)["type"].endswith("not_configured")
    assert await user_by_email(session_factory, sender) is None


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Thanks!\n\nOn Tue, Mar 3, 2026 at 9:12 AM Help <h@x.org> wrote:\n> old\n", "Thanks!"),
        (
            "Gracias\n\nEl mar, 3 mar 2026 a las 9:12, Soporte (<s@x.org>)\nescribió:\n> a",
            "Gracias",
        ),
        ("Top\n-----Original Message-----\nFrom: Help\nold text", "Top"),
        ("On my way home the VPN dropped.", "On my way home the VPN dropped."),
    ],
)
async def test_only_the_senders_own_words_are_kept(text: str, own: str) -> None:
    assert own_text(text) == own


async def test_an_email_with_a_few_megabytes_of_attachments_is_taken_and_a_huge_one_is_not(
    api: httpx.AsyncClient, desk: Desk, attachments_dir: Path
) -> None:
    photo = bytes(range(256)) * (3 * 4096)  # 3 MiB: over the API's usual 1 MiB limit
    info = {"attachment1": {"filename": "photo.jpg", "type": "image/jpeg"}}
    fields = email(
        stranger(),
        "Broken screen",
        "Photo attached",
        attachments="1",
        **{"attachment-info": json.dumps(info)},
    )
    opened = await delivered(api, fields, files={"attachment1": ("photo.jpg", photo, "image/jpeg")})
    assert opened["ticket"] is not None
    assert file_sizes(attachments_dir) == [len(photo)]

    huge = await api.post(
        INBOUND,
        auth=("sendgrid", SECRET),
        content=b"x" * (33 << 20),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert huge.status_code == 413


def file_sizes(directory: Path) -> list[int]:
    return [p.stat().st_size for p in directory.rglob("*") if p.is_file()]


async def test_the_seeds_email_incoming_path_is_the_same_webhook(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    fields = email(stranger(), "Cannot print", "The printer says no")
    opened = await deliver(api, fields, url=f"{V1}/webhooks/email-incoming")
    assert opened.status_code == 200, opened.text
    assert opened.json()["ticket"] is not None
    refused = await deliver(
        api, email(stranger(), "x", "y"), url=f"{V1}/webhooks/email-incoming", auth=None
    )
    assert refused.status_code == 401


# -- attacks: the secret in the URL, a forged From: -------------------------------------------


@pytest.mark.parametrize(
    "proof",
    [{"auth": None}, {"auth": ("sendgrid", SECRET)}],
    ids=["token alone", "token beside basic auth"],
)
async def test_the_secret_in_the_query_string_is_refused_and_never_logged(
    api: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    proof: dict[str, Any],
) -> None:
    """A secret in the URL lands in every proxy's and server's access log: never accepted."""
    caplog.set_level(logging.DEBUG)
    sender = stranger()

    response = await deliver(
        api, email(sender, "Let me in", "Please"), params={"token": SECRET}, **proof
    )

    problem = assert_problem(response, 401)
    assert "basic auth" in problem["detail"].lower()
    assert SECRET not in response.text
    assert await user_by_email(session_factory, sender) is None
    # The test's own HTTP client (httpx, playing SendGrid) logs the URL it calls; the API never.
    ours = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert not [r for r in ours if SECRET in r.getMessage()]


def forged(sender: str, subject: str, text: str, how: str, **fields: str) -> dict[str, str]:
    """An e-mail whose From: nothing vouches for, as SendGrid reports it."""
    mail = email(sender, subject, text, **fields)
    envelope = {"to": [mail["to"]], "from": "bounce@attacker.example"}
    checks = {
        # No signature, and the sending server is not one the From domain lists.
        "spf fail": {"SPF": "fail", "dkim": "none"},
        # Signed and sent properly, but by the attacker's own domain.
        "attacker's own domain": {
            "SPF": "pass",
            "dkim": "{@attacker.example : pass}",
            "envelope": json.dumps(envelope),
        },
        # The From domain's signature is there but broken (the text was changed after signing).
        "broken signature": {"SPF": "softfail", "dkim": "{@example.com : fail}"},
        # A parse setting that reports neither check.
        "no checks": {},
    }[how]
    mail |= {"envelope": json.dumps(envelope), **checks}
    if how == "no checks":
        del mail["SPF"], mail["dkim"]
    return mail


FORGERIES = ["spf fail", "attacker's own domain", "broken signature", "no checks"]


async def held_emails(api: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.get(f"{V1}/inbound/held-emails", headers=headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def private_note(api: httpx.AsyncClient, number: int, desk: Desk) -> dict[str, Any]:
    """A note by the agent: the ticket as it stands after everything signalled before it."""
    noted = await api.post(
        f"{V1}/tickets/{number}/comment",
        json={"body": "Checking", "private": True},
        headers=desk.agent.auth,
    )
    assert noted.status_code == 201, noted.text
    ticket: dict[str, Any] = noted.json()["ticket"]
    return ticket


@pytest.mark.parametrize("how", FORGERIES)
async def test_a_forged_agent_reply_reaches_nobody_and_is_held_for_admins(
    api: httpx.AsyncClient, desk: Desk, how: str
) -> None:
    number = (await open_ticket(api, desk))["number"]
    phish = "Your account is locked: confirm your password at http://evil.example/login"
    receipt = await delivered(
        api, forged(desk.agent.email, f"Re: [#{number}] Printer on fire", phish, how)
    )

    ticket = await private_note(api, number, desk)
    thread = await comments(api, number, desk.admin.auth)
    assert [c["body"] for c in thread] == ["Checking"]  # no public reply from "the agent"
    assert ticket["first_response_at"] is None  # and no first response for the SLA
    assert receipt["ticket"] is None and receipt["comment_id"] is None
    [held] = [h for h in await held_emails(api, desk.admin.auth) if h["id"] == receipt["held"]]
    assert (held["sender"], held["subject"], held["status"]) == (
        desk.agent.email,
        f"Re: [#{number}] Printer on fire",
        "held",
    )
    assert held["body"] == phish and held["reason"]


@pytest.mark.parametrize("how", FORGERIES[:2])
async def test_a_forged_requester_reply_neither_reopens_nor_comments(
    api: httpx.AsyncClient, desk: Desk, how: str
) -> None:
    number = (await open_ticket(api, desk))["number"]
    resolved = await api.post(f"{V1}/tickets/{number}/resolve", headers=desk.agent.auth, json={})
    assert resolved.json()["status"] == "resolved"

    await delivered(api, forged(desk.requester.email, f"Re: [#{number}]", "Reopen it", how))

    ticket = await private_note(api, number, desk)
    assert ticket["status"] == "resolved"
    assert [c["body"] for c in await comments(api, number, desk.admin.auth)] == ["Checking"]


# -- authenticated mail still acts as its sender; held mail waits for an admin ---------------


@pytest.mark.parametrize(
    "checks",
    [
        {"dkim": "{@mailer.example : pass, @example.com : pass}", "SPF": "softfail"},
        {"dkim": "{@mail.example.com : pass}", "SPF": "none"},  # a child of the From domain
        {
            "dkim": "none",
            "SPF": "pass",
            "envelope": json.dumps({"to": ["support@ticketflow.local"], "from": "b@example.com"}),
        },
    ],
    ids=["dkim among several", "dkim of a subdomain", "spf alone"],
)
async def test_an_agent_answering_from_their_mailbox_replies_to_the_requester(
    api: httpx.AsyncClient, desk: Desk, checks: dict[str, str]
) -> None:
    number = (await open_ticket(api, desk))["number"]
    assert desk.agent.email.endswith("@example.com")

    receipt = await delivered(
        api, email(desk.agent.email, f"Re: [#{number}] Printer on fire", "On our way", **checks)
    )

    assert receipt["held"] is None and receipt["comment_id"] is not None
    ticket = await private_note(api, number, desk)
    thread = await comments(api, number, desk.requester.auth)
    assert [(c["body"], c["author_id"]) for c in thread] == [("On our way", str(desk.agent.id))]
    assert ticket["first_response_at"] is not None


async def test_a_held_email_is_kept_once_and_released_by_an_admin_as_its_senders(
    api: httpx.AsyncClient,
    desk: Desk,
    session_factory: async_sessionmaker[AsyncSession],
    attachments_dir: Path,
) -> None:
    """A requester whose domain does not sign its mail: an admin vouches for them."""
    number = (await open_ticket(api, desk))["number"]
    log = b"line 1\nline 2\n"
    info = {"attachment1": {"filename": "app.log", "type": "text/plain"}}
    fields = forged(
        desk.requester.email,
        f"Re: [#{number}]",
        "Here is the log",
        "spf fail",
        attachments="1",
        **{"attachment-info": json.dumps(info)},
    )
    files = {"attachment1": ("app.log", log, "text/plain")}
    first = await delivered(api, fields, files=files)
    again = await delivered(api, fields, files=files)  # SendGrid's redelivery
    assert again == first
    mine = [h for h in await held_emails(api, desk.admin.auth) if h["id"] == first["held"]]
    assert len(mine) == 1
    assert mine[0]["attachments"] == [
        {"filename": "app.log", "content_type": "text/plain", "size": len(log)}
    ]
    assert mine[0]["checks"]["spf"] == "fail"
    path = f"{V1}/inbound/held-emails/{first['held']}"
    assert_problem(await api.post(f"{path}/release", headers=desk.agent.auth), 403)

    released = await api.post(f"{path}/release", headers=desk.admin.auth)

    assert released.status_code == 200, released.text
    row = released.json()
    assert (row["status"], row["ticket"], row["decided_by"]) == (
        "released",
        number,
        str(desk.admin.id),
    )
    thread = await comments(api, number, desk.requester.auth)
    assert [(c["body"], c["author_id"], c["id"]) for c in thread] == [
        ("Here is the log", str(desk.requester.id), row["comment_id"])
    ]
    async with session_factory() as session:
        [attached] = await session.scalars(
            select(Attachment).where(Attachment.comment_id == row["comment_id"])
        )
    assert stored_file(attached.url) == (attachments_dir, log)
    twice = await api.post(f"{path}/release", headers=desk.admin.auth)
    assert "released already" in assert_problem(twice, 409)["detail"]
    assert_problem(await api.post(f"{path}/discard", headers=desk.admin.auth), 409)
    assert first["held"] not in [h["id"] for h in await held_emails(api, desk.admin.auth)]
    listed = await api.get(
        f"{V1}/inbound/held-emails", headers=desk.admin.auth, params={"status": "released"}
    )
    assert first["held"] in [h["id"] for h in listed.json()["items"]]


async def test_a_discarded_email_changes_nothing_and_its_files_go(
    api: httpx.AsyncClient,
    desk: Desk,
    session_factory: async_sessionmaker[AsyncSession],
    attachments_dir: Path,
) -> None:
    sender = stranger()
    fields = forged(sender, "Invoice", "Pay now", "attacker's own domain", attachments="1")
    files = {"attachment1": ("invoice.pdf.exe", b"MZ\x90\x00", "application/octet-stream")}
    receipt = await delivered(api, fields, files=files)
    assert file_sizes(attachments_dir) == [4]
    assert await user_by_email(session_factory, sender) is None  # no account made

    discarded = await api.post(
        f"{V1}/inbound/held-emails/{receipt['held']}/discard", headers=desk.admin.auth
    )

    assert discarded.status_code == 200, discarded.text
    assert discarded.json()["status"] == "discarded"
    assert file_sizes(attachments_dir) == []
    assert await user_by_email(session_factory, sender) is None
    again = await api.post(
        f"{V1}/inbound/held-emails/{receipt['held']}/release", headers=desk.admin.auth
    )
    assert "discarded" in assert_problem(again, 409)["detail"]
    missing = f"{V1}/inbound/held-emails/{uuid4()}"
    assert_problem(await api.get(missing, headers=desk.admin.auth), 404)
    assert_problem(await api.post(f"{missing}/discard", headers=desk.admin.auth), 404)
    assert_problem(await api.get(f"{V1}/inbound/held-emails", headers=desk.agent.auth), 403)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("", {"status": "lost"}),
        ("", {"cursor": "%%%not-base64"}),
        ("", {"cursor": "WyJhIiwiYiJd"}),
        ("", {"limit": "0"}),
        ("/not-a-uuid", {}),
    ],
)
async def test_bad_held_email_requests_are_a_422_problem(
    api: httpx.AsyncClient, desk: Desk, path: str, params: dict[str, str]
) -> None:
    response = await api.get(
        f"{V1}/inbound/held-emails{path}", headers=desk.admin.auth, params=params
    )
    assert_problem(response, 422)


# -- attacks -----------------------------------------------------------------------------------


async def test_squatting_an_address_never_shows_the_squatter_its_mail(
    api: httpx.AsyncClient, desk: Desk, providers: StandIn
) -> None:
    """Registering victim@corp first (never verified) captures none of the victim's mail."""
    victim = stranger()
    registered = await api.post(
        f"{V1}/auth/register", json={"email": victim, "password": PASSWORD, "name": "Not Ana"}
    )
    assert registered.status_code == 201, registered.text
    squatter = {"Authorization": f"Bearer {registered.json()['access_token']}"}

    opened = await delivered(api, email(victim, "My payslip is wrong", "My IBAN is ES12 3456"))
    number = opened["ticket"]
    answered = await api.post(
        f"{V1}/tickets/{number}/comment",
        json={"body": "We changed your IBAN to the new one"},
        headers=desk.admin.auth,
    )
    assert answered.status_code == 201, answered.text

    for path in (f"{V1}/tickets/{number}", f"{V1}/tickets/{number}/comments", f"{V1}/tickets"):
        seen = await api.get(path, headers=squatter)
        assert seen.status_code != 200 or "IBAN" not in seen.text, f"the squatter read {path}"
    relogin = await api.post(f"{V1}/auth/login", json={"email": victim, "password": PASSWORD})
    assert_problem(relogin, 401)
    # The mailbox's owner is invited to the account instead.
    assert "token=" in await mail_to(providers, victim)


async def test_a_requester_made_from_an_email_can_log_in_through_the_invitation(
    api: httpx.AsyncClient, desk: Desk, providers: StandIn
) -> None:
    sender = stranger()
    opened = await delivered(api, email(f"Eva <{sender}>", "Printer", "It is jammed"))

    token = link_token(await mail_to(providers, sender))
    accepted = await api.post(
        f"{V1}/auth/accept-invitation", json={"token": token, "password": "my own choice 1"}
    )
    assert accepted.status_code == 200, accepted.text
    login = await api.post(
        f"{V1}/auth/login", json={"email": sender, "password": "my own choice 1"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["email_verified_at"] is not None
    mine = {"Authorization": f"Bearer {login.json()['access_token']}"}
    ticket = await api.get(f"{V1}/tickets/{opened['ticket']}", headers=mine)
    assert ticket.status_code == 200, ticket.text


async def test_the_mailbox_owner_takes_over_a_squatted_account(
    api: httpx.AsyncClient,
    desk: Desk,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    victim = stranger()
    registered = await api.post(
        f"{V1}/auth/register", json={"email": victim, "password": PASSWORD, "name": "Not Ana"}
    )
    squatter = registered.json()
    listening = {"notification_preferences": {"sms": True, "push": True}, "push_tokens": ["dev"]}
    headers = {"Authorization": f"Bearer {squatter['access_token']}"}
    assert (await api.put(f"{V1}/auth/update-profile", json=listening, headers=headers)).is_success

    number = (await delivered(api, email(victim, "Payslip", "It is wrong")))["ticket"]
    await api.post(
        f"{V1}/tickets/{number}/comment", json={"body": "Fixed it"}, headers=desk.admin.auth
    )

    account = await user_by_email(session_factory, victim)
    assert account is not None and account.id == UUID(squatter["user"]["id"])
    assert (account.password_hash, account.push_tokens, account.notification_preferences) == (
        None,
        [],
        {},
    )
    refreshed = await api.post(
        f"{V1}/auth/refresh-token", json={"refresh_token": squatter["refresh_token"]}
    )
    assert_problem(refreshed, 401)

    token = link_token(await mail_to(providers, victim, containing="accept-invitation"))
    accepted = await api.post(
        f"{V1}/auth/accept-invitation", json={"token": token, "password": "the real ana 1"}
    )
    assert accepted.status_code == 200, accepted.text
    login = await api.post(f"{V1}/auth/login", json={"email": victim, "password": "the real ana 1"})
    mine = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def reply_shown() -> bool:
        return [c["body"] for c in await comments(api, number, mine)] == ["Fixed it"]

    await eventually(reply_shown)


async def test_an_invited_sender_writing_again_lands_on_the_same_account_uninvited_again(
    api: httpx.AsyncClient,
    desk: Desk,
    providers: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    sender = stranger()
    first = await delivered(api, email(sender, "Mouse", "It is broken"))
    await mail_to(providers, sender, containing="accept-invitation")
    second = await delivered(api, email(sender, "Keyboard", "Also broken"))
    assert second["ticket"] != first["ticket"]

    requester = await user_by_email(session_factory, sender)
    assert requester is not None and requester.password_hash is None

    async def both_listed() -> bool:
        listed = await api.get(
            f"{V1}/tickets",
            headers=desk.admin.auth,
            params={"requester_id": str(requester.id)},
        )
        return {t["number"] for t in listed.json()["items"]} == {first["ticket"], second["ticket"]}

    await eventually(both_listed)
    invitations = [m for m in mails_to(providers, sender) if "accept-invitation" in m]
    assert len(invitations) == 1


async def test_staff_mail_is_bound_to_their_account_without_a_verified_address(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Staff accounts are made by an administrator, never by registering: no claim to void."""
    number = (await open_ticket(api, desk))["number"]
    receipt = await delivered(api, email(desk.agent.email, f"Re: [#{number}]", "On my way"))
    assert receipt["ticket"] == number and receipt["comment_id"] is not None
    login = await api.post(
        f"{V1}/auth/login", json={"email": desk.agent.email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
