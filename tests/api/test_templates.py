"""Response templates over the API: agents write them, and fill them in for tickets they see.

Templates are global and API tests share a database, so each test names its templates (and
their category) uniquely and looks only at its own in lists.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest

from api.seed.templates import DEFAULT_TEMPLATES
from domain.enums import Role
from tests.api.conftest import Desk, People, Person, assert_problem
from tests.api.test_tickets import open_ticket

TEMPLATES = "/api/v1/automation/templates"


def unique(name: str) -> str:
    return f"{name} {uuid4().hex[:8]}"


async def create_template(api: httpx.AsyncClient, author: Person, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("template"), "body": "Hello {{ requester.name }}", **fields}
    response = await api.post(TEMPLATES, headers=author.auth, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- managing templates ------------------------------------------------------------------------


async def test_agent_creates_reads_changes_and_deletes_a_template(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    name = unique("Acknowledgement")
    created = await create_template(
        api,
        desk.agent,
        name=name,
        category="greetings",
        body="Hi {{ requester.name }}, ticket #{{ ticket.number }} is ours.",
    )
    assert created["created_by"] == str(desk.agent.id)
    assert created["locale"] == "en"  # the author's language
    assert created["variables"] == ["requester.name", "ticket.number"]

    url = f"{TEMPLATES}/{created['id']}"
    assert (await api.get(url, headers=desk.manager.auth)).json() == created

    changed = await api.put(
        url,
        headers=desk.agent.auth,
        json={"locale": "es", "category": None, "body": "Hola {{ agent.name }}"},
    )
    assert changed.status_code == 200, changed.text
    template = changed.json()
    assert (template["name"], template["locale"], template["category"]) == (name, "es", None)
    assert template["variables"] == ["agent.name"]

    assert (await api.delete(url, headers=desk.agent.auth)).status_code == 204
    assert_problem(await api.get(url, headers=desk.agent.auth), 404)
    assert_problem(await api.delete(url, headers=desk.agent.auth), 404)


async def test_templates_are_listed_by_name_filtered_and_paginated(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    category = unique("billing")
    names = [f"{category} {letter}" for letter in "abc"]
    for name, locale in zip(names, ["es", "en", "es"], strict=True):
        await create_template(api, desk.agent, name=name, locale=locale, category=category)

    mine = {"category": category}
    listed = await api.get(TEMPLATES, headers=desk.agent.auth, params=mine)
    assert [t["name"] for t in listed.json()["items"]] == names

    spanish = await api.get(TEMPLATES, headers=desk.agent.auth, params={**mine, "locale": "es"})
    assert [t["name"] for t in spanish.json()["items"]] == [names[0], names[2]]

    seen: list[str] = []
    cursor = None
    while True:
        params = {**mine, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(TEMPLATES, headers=desk.admin.auth, params=params)).json()
        seen += [t["name"] for t in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == names


async def test_the_placeholder_catalogue_is_published(api: httpx.AsyncClient, desk: Desk) -> None:
    response = await api.get(f"{TEMPLATES}/placeholders", headers=desk.agent.auth)
    assert response.status_code == 200, response.text
    by_name = {p["name"]: p for p in response.json()}
    assert {"ticket.number", "ticket.url", "requester.email", "department.name"} <= set(by_name)
    assert by_name["ticket.number"]["example"] == "42"


@pytest.mark.parametrize("role", [Role.USER, Role.VIP_USER])
async def test_requesters_cannot_see_or_use_templates(
    api: httpx.AsyncClient, people: People, desk: Desk, role: Role
) -> None:
    someone = await people.make(role)
    url = f"{TEMPLATES}/{(await create_template(api, desk.agent))['id']}"
    calls = [
        api.get(TEMPLATES, headers=someone.auth),
        api.get(f"{TEMPLATES}/placeholders", headers=someone.auth),
        api.post(TEMPLATES, headers=someone.auth, json={"name": "x", "body": "y"}),
        api.get(url, headers=someone.auth),
        api.put(url, headers=someone.auth, json={"body": "z"}),
        api.delete(url, headers=someone.auth),
        api.post(f"{url}/render", headers=someone.auth, json={"ticket": 1}),
    ]
    for call in calls:
        assert_problem(await call, 403)
    assert_problem(await api.get(TEMPLATES), 401)


async def test_only_the_author_or_an_admin_changes_a_template(
    api: httpx.AsyncClient, people: People, desk: Desk
) -> None:
    url = f"{TEMPLATES}/{(await create_template(api, desk.agent))['id']}"
    colleague = await people.make(Role.AGENT, desk.department_id)
    assert_problem(await api.put(url, headers=colleague.auth, json={"body": "Mine"}), 403)
    assert_problem(await api.delete(url, headers=colleague.auth), 403)

    by_admin = await api.put(url, headers=desk.admin.auth, json={"body": "Edited by an admin"})
    assert by_admin.status_code == 200, by_admin.text
    assert (await api.get(url, headers=colleague.auth)).json()["body"] == "Edited by an admin"
    assert (await api.delete(url, headers=desk.admin.auth)).status_code == 204


async def test_a_name_is_unique_within_a_language(api: httpx.AsyncClient, desk: Desk) -> None:
    name = unique("Closing")
    await create_template(api, desk.agent, name=name, locale="en")
    again = await api.post(TEMPLATES, headers=desk.admin.auth, json={"name": name, "body": "x"})
    assert_problem(again, 409)
    await create_template(api, desk.agent, name=name, locale="es")


# -- refused templates -------------------------------------------------------------------------


async def test_an_unknown_placeholder_is_refused_listing_the_available_ones(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    body = {"name": unique("typo"), "body": "Hello\n{{ ticket.nummber }}"}
    problem = assert_problem(await api.post(TEMPLATES, headers=desk.agent.auth, json=body), 422)
    assert "ticket.nummber" in problem["detail"]
    assert problem["line"] == 2
    assert "ticket.number" in problem["available_variables"]
    assert problem["errors"][0]["loc"] == ["body", "body"]


async def test_a_syntax_error_is_refused_with_its_line(api: httpx.AsyncClient, desk: Desk) -> None:
    created = await create_template(api, desk.agent)
    url = f"{TEMPLATES}/{created['id']}"
    broken = {"body": "Hello\n\n{% if ticket.title %}never closed"}
    problem = assert_problem(await api.put(url, headers=desk.agent.auth, json=broken), 422)
    assert problem["line"] == 3
    assert "syntax error" in problem["detail"]
    assert (await api.get(url, headers=desk.agent.auth)).json()["body"] == created["body"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ticket.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% for x in range(99999) %}{% for y in range(99999) %}{% endfor %}{% endfor %}",
        "{{ 'x' * 999999999 }}",
        "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    ],
)
async def test_sandbox_escapes_are_refused(api: httpx.AsyncClient, desk: Desk, body: str) -> None:
    response = await api.post(TEMPLATES, headers=desk.agent.auth, json={"name": "x", "body": body})
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("post", "", {"name": "x", "body": "x" * 20_481}, 422),
        ("post", "", {"name": "x", "body": "ü" * 12_000}, 422),  # 24 KB once encoded
        ("post", "", {"name": "x", "body": "a\x00b"}, 422),
        ("post", "", {"name": "", "body": "x"}, 422),
        ("post", "", {"name": "x", "body": "x", "locale": "fr"}, 422),
        ("post", "", {"name": "x", "body": "x", "owner": "me"}, 422),
        ("get", "?cursor=not-a-cursor", None, 422),
        ("get", "?limit=500", None, 422),
        ("get", "/not-a-uuid", None, 422),
        ("get", f"/{uuid4()}", None, 404),
        ("put", f"/{uuid4()}", {"body": "x"}, 404),
        ("post", f"/{uuid4()}/render", {"ticket": 1}, 404),
        ("post", f"/{uuid4()}/render", {"ticket": "abc"}, 422),
        ("post", f"/{uuid4()}/render", {"ticket": 0}, 422),
        ("post", f"/{uuid4()}/render", {}, 422),
    ],
)
async def test_bad_input_is_a_client_error(
    api: httpx.AsyncClient, desk: Desk, method: str, path: str, payload: Any, status: int
) -> None:
    kwargs = {"json": payload} if payload is not None else {}
    response = await api.request(method, TEMPLATES + path, headers=desk.agent.auth, **kwargs)
    assert_problem(response, status)


# -- rendering for a ticket --------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_rendering_fills_in_a_real_ticket_the_agent_can_see(
    api: httpx.AsyncClient, people: People, desk: Desk
) -> None:
    ticket = await open_ticket(api, desk, title="Impresora   en\nllamas", urgency="critical")
    number = ticket["number"]
    template = await create_template(
        api,
        desk.agent,
        locale="es",
        body=(
            "Asunto: [#{{ ticket.number }}] {{ ticket.title }}\n\n"
            "Hola, {{ requester.name }}: {{ ticket.status_label }}, {{ ticket.priority }}, "
            "{{ department.name }}.\n"
            '{{ agent.name | default("Sin asignar", true) }} · {{ ticket.url }}'
        ),
    )
    render = f"{TEMPLATES}/{template['id']}/render"

    response = await api.post(render, headers=desk.agent.auth, json={"ticket": number})
    assert response.status_code == 200, response.text
    department = await api.get(f"/api/v1/departments/{desk.department_id}", headers=desk.agent.auth)
    assert response.json() == {
        "subject": f"[#{number}] Impresora en llamas",
        "body": (
            f"Hola, Requester: Nuevo, {ticket['priority']}, {department.json()['name']}.\n"
            f"Sin asignar · http://localhost:8000/api/v1/tickets/{number}"
        ),
    }

    assigned = await api.patch(
        f"/api/v1/tickets/{number}/assign",
        json={"assignee_id": str(desk.agent.id)},
        headers=desk.agent.auth,
    )
    assert assigned.status_code == 200, assigned.text
    by_id = await api.post(render, headers=desk.manager.auth, json={"ticket": ticket["id"]})
    assert by_id.status_code == 200, by_id.text
    assert "En curso" in by_id.json()["body"]
    assert "Agent · " in by_id.json()["body"]

    outsider = await people.make(Role.AGENT, await people.department("Elsewhere"))
    assert_problem(await api.post(render, headers=outsider.auth, json={"ticket": number}), 404)
    assert (await api.post(render, headers=desk.admin.auth, json={"ticket": number})).is_success


@pytest.mark.usefixtures("worker")
async def test_every_default_template_renders_for_a_ticket(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    ticket = await open_ticket(api, desk)
    for seed in DEFAULT_TEMPLATES:
        # Stored under a name of its own: the defaults themselves are the demo seed's to add.
        fields = {"name": unique(seed.name), "locale": seed.locale.value, "body": seed.body}
        template = await create_template(api, desk.agent, **fields)
        url = f"{TEMPLATES}/{template['id']}/render"
        response = await api.post(url, headers=desk.agent.auth, json={"ticket": ticket["number"]})
        assert response.status_code == 200, response.text
        rendered = response.json()
        assert rendered["subject"].startswith(f"[#{ticket['number']}]")
        assert "Requester" in rendered["body"]
        assert "{{" not in rendered["body"]
        assert "{%" not in rendered["body"]


@pytest.mark.usefixtures("worker")
async def test_the_survey_link_a_template_renders_opens_the_requesters_survey(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    number = (await open_ticket(api, desk))["number"]
    resolved = await api.post(f"/api/v1/tickets/{number}/resolve", headers=desk.agent.auth, json={})
    assert resolved.status_code == 200, resolved.text
    template = await create_template(
        api, desk.agent, body="Subject: [#{{ ticket.number }}] Rate us\n\n{{ ticket.survey_url }}"
    )
    render = f"{TEMPLATES}/{template['id']}/render"

    rendered = await api.post(render, headers=desk.agent.auth, json={"ticket": number})
    link = rendered.json()["body"].strip()
    page = await api.get(urlsplit(link).path)  # no login: the link itself is the pass
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f"#{number}" in page.text
