"""`/calendars`: admins write them, everyone signed in reads them and previews deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.services import calendars as service
from domain.calendars import ticket_years
from domain.enums import Role
from domain.errors import InvalidInput
from tests.api.conftest import People, Person, assert_problem

V1 = "/api/v1"
WORKWEEK = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# 30 five-minute intervals, 10 minutes apart, from midnight.
TOO_MANY_INTERVALS = [
    [f"{m // 60:02d}:{m % 60:02d}", f"{m // 60:02d}:{m % 60 + 5:02d}"] for m in range(0, 300, 10)
]


def calendar_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": f"Madrid office {uuid4().hex[:8]}",
        "timezone": "Europe/Madrid",
        "hours": WORKWEEK,
        **fields,
    }


async def create_calendar(api: httpx.AsyncClient, admin: Person, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"{V1}/calendars", headers=admin.auth, json=calendar_body(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_creates_reads_changes_and_deletes_a_calendar(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    created = await create_calendar(
        api,
        admin,
        hours={"fri": [["14:00", "18:00"], ["08:00", "13:00"]], "mon": [["08:00", "24:00"]]},
        holidays=["2026-12-25", "2026-01-06"],
        country_code="es",
        subdivision="md",
    )
    assert created["hours"] == {
        "mon": [["08:00", "24:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [["08:00", "13:00"], ["14:00", "18:00"]],
        "sat": [],
        "sun": [],
    }
    assert created["holidays"] == ["2026-01-06", "2026-12-25"]
    assert (created["country_code"], created["subdivision"]) == ("ES", "MD")

    url = f"{V1}/calendars/{created['id']}"
    assert (await api.get(url, headers=admin.auth)).json() == created

    changed = await api.patch(
        url, headers=admin.auth, json={"timezone": "America/New_York", "subdivision": None}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["timezone"], changed.json()["subdivision"]) == ("America/New_York", None)
    assert changed.json()["hours"] == created["hours"]

    assert (await api.delete(url, headers=admin.auth)).status_code == 204
    assert_problem(await api.get(url, headers=admin.auth), 404)
    assert_problem(await api.delete(url, headers=admin.auth), 404)


async def test_anyone_signed_in_reads_but_only_admins_write(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    agent, requester = await people.make(Role.AGENT), await people.make(Role.USER)
    created = await create_calendar(api, admin)
    url = f"{V1}/calendars/{created['id']}"
    for reader in (agent, requester):
        assert (await api.get(url, headers=reader.auth)).status_code == 200
        listed = await api.get(f"{V1}/calendars", headers=reader.auth, params={"limit": 200})
        assert listed.status_code == 200
        preview = await api.get(
            f"{url}/preview",
            headers=reader.auth,
            params={"start": "2026-03-27T16:30:00+01:00", "duration": "PT2H"},
        )
        assert preview.status_code == 200
        assert_problem(await api.post(f"{V1}/calendars", headers=reader.auth, json={}), 403)
        assert_problem(await api.patch(url, headers=reader.auth, json={"name": "x"}), 403)
        assert_problem(await api.delete(url, headers=reader.auth), 403)
    assert_problem(await api.get(url), 401)


async def test_lists_page_through_every_calendar(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    made = {(await create_calendar(api, admin))["id"] for _ in range(3)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(f"{V1}/calendars", headers=admin.auth, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))


async def test_preview_answers_the_business_deadline(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    calendar = await create_calendar(api, admin, country_code="ES")
    url = f"{V1}/calendars/{calendar['id']}/preview"

    # Friday 16:30 + 2 h of office time, across the 2026 spring-forward weekend: Monday
    # 10:30 local, which is UTC+2 by then.
    friday = await api.get(
        url, headers=admin.auth, params={"start": "2026-03-27T16:30:00+01:00", "duration": "PT2H"}
    )
    assert friday.status_code == 200, friday.text
    assert friday.json() == {
        "calendar_id": calendar["id"],
        "start": "2026-03-27T15:30:00Z",
        "duration": "PT2H",
        "deadline": "2026-03-30T08:30:00Z",
    }

    # Monday 5 January 16:00 + 2 h: Tuesday is Epiphany, a Spanish public holiday.
    epiphany = await api.get(
        url, headers=admin.auth, params={"start": "2026-01-05T15:00:00Z", "duration": "PT2H"}
    )
    assert epiphany.json()["deadline"] == "2026-01-07T09:00:00Z"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-03-27T16:30:00", "duration": "PT2H"}, "timezone"),
        ({"start": "yesterday", "duration": "PT2H"}, "start"),
        ({"start": "2026-03-27T16:30:00Z", "duration": "2 hours"}, "ISO 8601"),
        ({"start": "2026-03-27T16:30:00Z"}, "duration"),
        ({"start": "9999-12-31T12:00:00Z", "duration": "P30D"}, "after the year 9999"),
        ({"start": "2026-01-01T00:00:00Z", "duration": "P3000D"}, "more than ten years after"),
        ({"start": "0001-01-01T00:00:00Z", "duration": "PT1H"}, "limits of the calendar"),
    ],
)
async def test_bad_previews_are_explained(
    api: httpx.AsyncClient, people: People, params: dict[str, str], message: str
) -> None:
    admin = await people.make(Role.ADMIN)
    calendar = await create_calendar(api, admin)
    response = await api.get(
        f"{V1}/calendars/{calendar['id']}/preview", headers=admin.auth, params=params
    )
    assert message in assert_problem(response, 422)["detail"]


async def test_preview_of_an_unknown_calendar_is_404(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    params = {"start": "2026-03-27T16:30:00Z", "duration": "PT1H"}
    response = await api.get(f"{V1}/calendars/{uuid4()}/preview", headers=admin.auth, params=params)
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"timezone": "localtime"}, "not an IANA time zone name"),
        ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "on mon overlap"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "must start before it ends: 17:00–09:00"),
        ({"hours": {"mon": [["9am", "5pm"]]}}, "is not a time such as '09:00'"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours.funday"),
        ({"hours": {}}, "a calendar needs working hours"),
        ({"hours": {"sat": [], "sun": []}}, "a calendar needs working hours"),
        ({"hours": {"mon": TOO_MANY_INTERVALS}}, "more than 24 working intervals"),
        ({"holidays": ["2026-02-30"]}, "holidays.0"),
        ({"country_code": "XX"}, "no public holidays are known for country code 'XX'"),
        ({"country_code": "Spain"}, "country_code"),
        ({"country_code": "ES", "subdivision": "Narnia"}, "ES has no subdivision 'Narnia'"),
        ({"subdivision": "MD"}, "a subdivision needs a country_code"),
        ({"name": ""}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_invalid_calendars_are_refused_with_a_reason(
    api: httpx.AsyncClient, people: People, fields: dict[str, Any], message: str
) -> None:
    admin = await people.make(Role.ADMIN)
    response = await api.post(f"{V1}/calendars", headers=admin.auth, json=calendar_body(**fields))
    assert message in assert_problem(response, 422)["detail"]


async def test_changes_must_leave_a_valid_calendar(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    created = await create_calendar(api, admin, country_code="ES", subdivision="MD")
    url = f"{V1}/calendars/{created['id']}"
    for body, message in [
        ({"country_code": None}, "a subdivision needs a country_code"),
        ({"country_code": "DE"}, "DE has no subdivision 'MD'"),
        ({"hours": {"sun": []}}, "a calendar needs working hours"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone"),
    ]:
        assert (
            message
            in assert_problem(await api.patch(url, headers=admin.auth, json=body), 422)["detail"]
        )
    moved = await api.patch(
        url, headers=admin.auth, json={"country_code": "us", "subdivision": "ca"}
    )
    assert (moved.json()["country_code"], moved.json()["subdivision"]) == ("US", "CA")
    assert_problem(
        await api.patch(f"{V1}/calendars/{uuid4()}", headers=admin.auth, json={"name": "x"}), 404
    )


async def test_names_are_unique(api: httpx.AsyncClient, people: People) -> None:
    admin = await people.make(Role.ADMIN)
    first = await create_calendar(api, admin)
    second = await create_calendar(api, admin)
    again = await api.post(
        f"{V1}/calendars", headers=admin.auth, json=calendar_body(name=first["name"])
    )
    assert "already exists" in assert_problem(again, 409)["detail"]
    renamed = await api.patch(
        f"{V1}/calendars/{second['id']}", headers=admin.auth, json={"name": first["name"]}
    )
    assert_problem(renamed, 409)


async def test_a_calendar_an_sla_policy_uses_cannot_be_deleted(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = await people.make(Role.ADMIN)
    calendar = await create_calendar(api, admin)
    policy = await api.post(
        f"{V1}/sla/policies",
        headers=admin.auth,
        json={
            "name": f"Office hours {uuid4().hex[:6]}",
            "targets": {"P2": {"resolution": "PT8H"}},
            "calendar_id": calendar["id"],
        },
    )
    assert policy.status_code == 201, policy.text
    url = f"{V1}/calendars/{calendar['id']}"
    refused = assert_problem(await api.delete(url, headers=admin.auth), 409)
    assert policy.json()["name"] in refused["detail"]

    await api.delete(f"{V1}/sla/policies/{policy.json()['id']}", headers=admin.auth)
    assert (await api.delete(url, headers=admin.auth)).status_code == 204


def test_public_holidays_are_resolved_for_the_years_a_ticket_needs() -> None:
    opened = datetime(2026, 11, 27, 22, tzinfo=UTC)
    assert ticket_years(opened) == range(2026, 2029)
    found = service.resolve_holidays("es", "MD", ticket_years(opened))
    # Madrid's day, moved to Monday in 2027 as the region observes it, and Christmas.
    assert {date(2026, 5, 2), date(2027, 5, 3), date(2028, 12, 25)} <= found
    assert all(day.year in (2026, 2027, 2028) for day in found)
    with pytest.raises(InvalidInput, match="country code 'XX'"):
        service.resolve_holidays("XX", None, range(2026, 2027))
