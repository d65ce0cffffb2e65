"""The satisfaction survey behind a resolved notice's link: a page, a form, a rating on the
ticket, through the real worker; and every way a bad link is turned away."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import User
from security.signing import KeyRing
from security.survey_links import SURVEY_PATH, issue_survey_token
from tests.api.conftest import LINK_SECRET, Desk, Person, assert_problem
from tests.api.test_tickets import eventually, open_ticket

V1 = "/api/v1"
pytestmark = pytest.mark.usefixtures("worker")
SURVEY_LINK = re.compile(r"https?://\S+" + re.escape(SURVEY_PATH) + r"[\w.-]+")


def survey_path(number: int, requester_id: UUID, **kwargs: Any) -> str:
    return SURVEY_PATH + issue_survey_token(KeyRing.of(LINK_SECRET), number, requester_id, **kwargs)


async def resolved_ticket(api: httpx.AsyncClient, desk: Desk, **fields: Any) -> int:
    number: int = (await open_ticket(api, desk, **fields))["number"]
    resolved = await api.post(
        f"{V1}/tickets/{number}/resolve", json={"solution": "Replaced"}, headers=desk.agent.auth
    )
    assert resolved.status_code == 200, resolved.text
    return number


async def ticket_of(api: httpx.AsyncClient, number: int, person: Person) -> dict[str, Any]:
    response = await api.get(f"{V1}/tickets/{number}", headers=person.auth)
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def assert_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


async def test_the_link_in_a_resolved_notice_opens_a_survey_that_rates_the_ticket(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = await resolved_ticket(api, desk)
    links: list[str] = []

    async def notified() -> bool:
        inbox = await api.get(f"{V1}/notifications", headers=desk.requester.auth)
        resolved = [n for n in inbox.json()["items"] if n["event"] == "resolved"]
        links[:] = [m.group(0) for n in resolved for m in SURVEY_LINK.finditer(n["body"])]
        return bool(links)

    await eventually(notified)
    path = urlsplit(links[0]).path  # the link is under the public URL; the app is here

    page = assert_page(await api.get(path), 200)
    assert f"#{number}" in page and 'name="score"' in page and 'method="post"' in page

    thanks = await api.post(path, data={"score": "8", "comment": "Quick and kind"})
    assert "8/10" in assert_page(thanks, 200)
    ticket = await ticket_of(api, number, desk.requester)
    assert (ticket["satisfaction_score"], ticket["feedback"]) == (8, "Quick and kind")
    history = await api.get(f"{V1}/tickets/{number}/history", headers=desk.requester.auth)
    [rated] = [e for e in history.json() if e["kind"] == "rated"]
    assert rated["actor_id"] == str(desk.requester.id)  # rated as the requester, not anonymously

    again = assert_page(await api.get(path), 200)
    assert 'value="8" required checked' in again  # the rating given is shown, and can change


async def test_the_page_speaks_the_requesters_language_and_escapes_the_title(
    api: httpx.AsyncClient, desk: Desk, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory.begin() as session:
        await session.execute(update(User).where(User.id == desk.requester.id).values(locale="es"))
    number = await resolved_ticket(api, desk, title="<script>alert(1)</script> impresora")

    page = assert_page(await api.get(survey_path(number, desk.requester.id)), 200)

    assert '<html lang="es">' in page
    assert "¿Qué tal lo hicimos?" in page and "Enviar mi valoración" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; impresora" in page
    thanks = await api.post(survey_path(number, desk.requester.id), data={"score": "10"})
    assert "¡Gracias!" in assert_page(thanks, 200)


@pytest.mark.parametrize(
    "forge",
    [
        lambda number, requester: (
            SURVEY_PATH
            + issue_survey_token(
                KeyRing.of("someone-elses-secret-0123456789abcdef012345"), number, requester
            )
        ),
        lambda number, requester: SURVEY_PATH + "not-a-token",
        lambda number, requester: survey_path(number + 10_000_000, requester),
    ],
    ids=["forged", "garbage", "another ticket"],
)
async def test_a_forged_link_shows_an_error_page_and_rates_nothing(
    api: httpx.AsyncClient, desk: Desk, forge: Any
) -> None:
    number = await resolved_ticket(api, desk)
    path = forge(number, desk.requester.id)

    assert "not valid" in assert_page(await api.get(path), 404)
    assert_page(await api.post(path, data={"score": "1"}), 404)
    assert (await ticket_of(api, number, desk.agent))["satisfaction_score"] is None


async def test_an_expired_link_is_gone(api: httpx.AsyncClient, desk: Desk) -> None:
    number = await resolved_ticket(api, desk)
    month_ago = datetime.now(UTC) - timedelta(days=31)
    path = survey_path(number, desk.requester.id, now=month_ago)

    assert "expired" in assert_page(await api.get(path), 410)
    assert_page(await api.post(path, data={"score": "1"}), 410)
    assert (await ticket_of(api, number, desk.agent))["satisfaction_score"] is None


async def test_a_link_naming_someone_other_than_the_requester_is_refused(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = await resolved_ticket(api, desk)
    path = survey_path(number, desk.agent.id)

    assert_page(await api.get(path), 404)
    assert_page(await api.post(path, data={"score": "3"}), 404)


async def test_a_survey_token_is_no_login(api: httpx.AsyncClient, desk: Desk) -> None:
    token = issue_survey_token(KeyRing.of(LINK_SECRET), 1, desk.requester.id)
    me = await api.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(me, 401)


@pytest.mark.parametrize("score", ["0", "11", "", "seven", "7.5"])
async def test_a_score_outside_one_to_ten_shows_the_form_again(
    api: httpx.AsyncClient, desk: Desk, score: str
) -> None:
    number = await resolved_ticket(api, desk)
    path = survey_path(number, desk.requester.id)

    page = assert_page(await api.post(path, data={"score": score}), 422)

    assert "from 1 to 10" in page and 'name="score"' in page
    assert (await ticket_of(api, number, desk.agent))["satisfaction_score"] is None


async def test_a_ticket_not_resolved_cannot_be_rated(api: httpx.AsyncClient, desk: Desk) -> None:
    number = (await open_ticket(api, desk))["number"]
    path = survey_path(number, desk.requester.id)

    assert "not resolved" in assert_page(await api.get(path), 409)
    # Answered anyway (a form kept open while the ticket was reopened): the workflow refuses.
    assert "not resolved" in assert_page(await api.post(path, data={"score": "9"}), 409)
    assert (await ticket_of(api, number, desk.agent))["satisfaction_score"] is None
