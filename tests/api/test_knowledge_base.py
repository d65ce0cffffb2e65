"""The knowledge base over the API: anyone reads and votes, agents write, admins delete.

API tests share a database, so each test writes its articles under a category (and with
words) of its own, and looks only at those in lists and searches.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.enums import Role
from tests.api.conftest import Desk, People, Person, assert_problem
from tests.api.test_tickets import open_ticket

V1 = "/api/v1"
KB = f"{V1}/kb"


def unique(word: str) -> str:
    """A word no other test uses (letters only, so full-text search keeps it whole)."""
    return word + "".join(chr(ord("a") + int(c, 16)) for c in uuid4().hex[:10])


async def write_article(api: httpx.AsyncClient, author: Person, **fields: Any) -> dict[str, Any]:
    body = {"title": "How to restart the router", "content": "Unplug it.", **fields}
    response = await api.post(KB, headers=author.auth, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- writing and reading ---------------------------------------------------------------------


async def test_an_agent_writes_anyone_reads_and_an_admin_deletes(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    created = await write_article(
        api, desk.agent, category="Network", tags=["wifi", "router", "wifi"], content="# Steps"
    )
    assert created["author_id"] == str(desk.agent.id)
    assert created["status"] == "published"  # the seed's default
    assert created["tags"] == ["wifi", "router"]
    assert (created["views"], created["helpful_votes"], created["unhelpful_votes"]) == (0, 0, 0)

    url = f"{KB}/{created['id']}"
    first = await api.get(url)  # no token: the knowledge base is public
    assert first.status_code == 200, first.text
    assert first.json()["content"] == "# Steps"
    assert first.json()["views"] == 1
    assert (await api.get(url, headers=desk.requester.auth)).json()["views"] == 2

    changed = await api.put(
        url, headers=desk.manager.auth, json={"title": "Restarting the router", "category": None}
    )
    assert changed.status_code == 200, changed.text
    article = changed.json()
    assert (article["title"], article["category"], article["content"]) == (
        "Restarting the router",
        None,
        "# Steps",
    )
    assert article["tags"] == ["wifi", "router"]
    assert article["views"] == 2  # an edit keeps what readers did
    assert article["author_id"] == str(desk.agent.id)

    patched = await api.patch(url, headers=desk.agent.auth, json={"tags": []})
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == []

    assert_problem(await api.delete(url, headers=desk.agent.auth), 403)
    assert (await api.delete(url, headers=desk.admin.auth)).status_code == 204
    assert_problem(await api.get(url), 404)
    assert_problem(await api.delete(url, headers=desk.admin.auth), 404)


@pytest.mark.parametrize("role", [Role.USER, Role.VIP_USER])
async def test_requesters_cannot_write_articles(
    api: httpx.AsyncClient, people: People, desk: Desk, role: Role
) -> None:
    someone = await people.make(role)
    url = f"{KB}/{(await write_article(api, desk.agent))['id']}"
    body = {"title": "Mine", "content": "x"}
    assert_problem(await api.post(KB, headers=someone.auth, json=body), 403)
    assert_problem(await api.put(url, headers=someone.auth, json={"title": "Mine"}), 403)
    assert_problem(await api.patch(url, headers=someone.auth, json={"title": "Mine"}), 403)
    assert_problem(await api.delete(url, headers=someone.auth), 403)
    assert_problem(await api.post(KB, json=body), 401)
    assert_problem(await api.delete(url), 401)
    assert (await api.get(url)).json()["title"] == "How to restart the router"


async def test_drafts_and_archived_articles_are_for_agents_only(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    category = unique("drafts")
    draft = await write_article(api, desk.agent, category=category, status="draft")
    archived = await write_article(api, desk.agent, category=category, status="archived")
    published = await write_article(api, desk.agent, category=category)

    for article in (draft, archived):
        url = f"{KB}/{article['id']}"
        assert_problem(await api.get(url), 404)
        assert_problem(await api.get(url, headers=desk.requester.auth), 404)
        by_agent = await api.get(url, headers=desk.manager.auth)
        assert by_agent.status_code == 200, by_agent.text
        assert by_agent.json()["views"] == 0  # previews are not readers' views

    mine = {"category": category}
    for headers in ({}, desk.requester.auth, desk.agent.auth):
        listed = await api.get(KB, params=mine, headers=headers)
        assert [a["id"] for a in listed.json()["items"]] == [published["id"]]

    drafts = await api.get(KB, params={**mine, "status": "draft"}, headers=desk.agent.auth)
    assert [a["id"] for a in drafts.json()["items"]] == [draft["id"]]
    every = {**mine, "status": ["draft", "archived", "published"]}
    listed = await api.get(KB, params=every, headers=desk.admin.auth)
    assert [a["id"] for a in listed.json()["items"]] == [
        published["id"],
        archived["id"],
        draft["id"],
    ]

    assert_problem(await api.get(KB, params={**mine, "status": "draft"}), 403)
    asked = {**mine, "status": "archived"}
    assert_problem(await api.get(KB, params=asked, headers=desk.requester.auth), 403)
    only_published = await api.get(
        KB, params={**mine, "status": "published"}, headers=desk.requester.auth
    )
    assert [a["id"] for a in only_published.json()["items"]] == [published["id"]]

    republished = await api.put(
        f"{KB}/{draft['id']}", headers=desk.agent.auth, json={"status": "published"}
    )
    assert republished.status_code == 200, republished.text
    assert (await api.get(f"{KB}/{draft['id']}")).json()["views"] == 1


async def test_articles_are_listed_newest_first_filtered_and_paginated(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    category = unique("billing")
    tagged = [
        await write_article(api, desk.agent, category=category, tags=tags, title=title)
        for title, tags in [("a", ["invoice"]), ("b", []), ("c", ["invoice", "vat"])]
    ]
    newest_first = [a["id"] for a in reversed(tagged)]

    listed = await api.get(KB, params={"category": category})
    assert [a["id"] for a in listed.json()["items"]] == newest_first

    invoices = await api.get(KB, params={"category": category, "tag": "invoice"})
    assert [a["title"] for a in invoices.json()["items"]] == ["c", "a"]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"category": category, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(KB, params=params)).json()
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == newest_first


async def test_a_token_sent_to_a_public_endpoint_must_be_valid(api: httpx.AsyncClient) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(await api.get(KB, headers=bad), 401)
    assert (await api.get(KB)).status_code == 200


# -- search and categories -------------------------------------------------------------------


async def test_search_finds_every_word_best_match_first(api: httpx.AsyncClient, desk: Desk) -> None:
    printer, toner = unique("printer"), unique("toner")
    once = await write_article(
        api, desk.agent, title="Paper jams", content=f"The {printer} jams; change the {toner}."
    )
    often = await write_article(
        api,
        desk.agent,
        title=f"{printer.upper()} {toner} guide",
        content=f"{printer} {toner}, {printer} {toner}, and the {printer} again.",
    )
    await write_article(api, desk.agent, title="Unrelated", content=f"Just the {printer}.")
    draft = await write_article(
        api, desk.agent, content=f"{printer} {toner} (not ready)", status="draft"
    )

    response = await api.get(f"{KB}/search", params={"q": f"  {toner}   {printer} "})
    assert response.status_code == 200, response.text
    hits = response.json()
    assert [h["id"] for h in hits] == [often["id"], once["id"]]
    assert hits[0]["rank"] > hits[1]["rank"] > 0
    assert hits[0]["views"] == 0  # a search result is not a read

    for_agents = await api.get(
        f"{KB}/search",
        params={"q": f"{printer} {toner}", "status": ["published", "draft"]},
        headers=desk.agent.auth,
    )
    assert {h["id"] for h in for_agents.json()} == {often["id"], once["id"], draft["id"]}
    only_two = await api.get(f"{KB}/search", params={"q": printer, "limit": 2})
    assert len(only_two.json()) == 2
    nothing = await api.get(f"{KB}/search", params={"q": unique("absent")})
    assert nothing.json() == []


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 201}, {"q": "a\x00b"}, {"q": "a", "limit": 0}],
)
async def test_a_search_without_words_or_too_long_is_refused(
    api: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert_problem(await api.get(f"{KB}/search", params=params), 422)


async def test_categories_count_published_articles(api: httpx.AsyncClient, desk: Desk) -> None:
    network, hardware = unique("network"), unique("hardware")
    for category in (network, network, hardware):
        await write_article(api, desk.agent, category=category)
    await write_article(api, desk.agent, category=hardware, status="draft")
    await write_article(api, desk.agent, category=unique("hidden"), status="archived")

    response = await api.get(f"{KB}/categories")
    assert response.status_code == 200, response.text
    counts = {c["category"]: c["articles"] for c in response.json()}
    assert {network: 2, hardware: 1} == {
        k: v for k, v in counts.items() if k in (network, hardware)
    }
    assert not any(name.startswith("hidden") for name in counts)
    names = [c["category"] for c in response.json()]
    assert names == sorted(names)


# -- votes -----------------------------------------------------------------------------------


async def test_anyone_votes_on_a_published_article(api: httpx.AsyncClient, desk: Desk) -> None:
    article = await write_article(api, desk.agent)
    vote = f"{KB}/{article['id']}/vote"
    for helpful in (True, True, False):
        response = await api.post(vote, json={"helpful": helpful})
        assert response.status_code == 200, response.text
    assert response.json() == {"id": article["id"], "helpful_votes": 2, "unhelpful_votes": 1}
    read = (await api.get(f"{KB}/{article['id']}")).json()
    assert (read["helpful_votes"], read["unhelpful_votes"]) == (2, 1)
    assert read["updated_at"] == article["updated_at"]  # votes and views are not edits

    draft = await write_article(api, desk.agent, status="draft")
    assert_problem(await api.post(f"{KB}/{draft['id']}/vote", json={"helpful": True}), 404)
    assert_problem(await api.post(f"{KB}/{uuid4()}/vote", json={"helpful": True}), 404)


async def test_votes_are_rate_limited_per_client_and_article(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    article, other = await write_article(api, desk.agent), await write_article(api, desk.agent)
    vote = f"{KB}/{article['id']}/vote"
    for _ in range(10):
        assert (await api.post(vote, json={"helpful": True})).status_code == 200
    limited = assert_problem(await api.post(vote, json={"helpful": False}), 429)
    assert limited["type"].endswith("rate_limited")
    assert int((await api.post(vote, json={"helpful": True})).headers["Retry-After"]) >= 1

    counted = (await api.get(f"{KB}/{article['id']}")).json()
    assert (counted["helpful_votes"], counted["unhelpful_votes"]) == (10, 0)
    elsewhere = await api.post(f"{KB}/{other['id']}/vote", json={"helpful": True})
    assert elsewhere.status_code == 200, elsewhere.text


# -- suggestions for a ticket ----------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_a_ticket_gets_the_published_articles_sharing_its_words(
    api: httpx.AsyncClient, people: People, desk: Desk
) -> None:
    scanner, duplex = unique("scanner"), unique("duplex")
    ticket = await open_ticket(
        api,
        desk,
        title=f"The {scanner} is broken",
        description=f"It will not do {duplex} pages, and the light blinks.",
    )
    both = await write_article(api, desk.agent, title=f"{scanner} {duplex} mode", content="x")
    one = await write_article(api, desk.agent, title=f"Cleaning the {scanner}", content="y")
    draft = await write_article(api, desk.agent, content=f"{scanner} {duplex}", status="draft")
    # Shares only short or common words with the ticket ("the", "is", "not", "will", "and").
    chatter = await write_article(api, desk.agent, title="It is not the one", content="And will")

    for ref in (ticket["number"], ticket["id"]):
        url = f"{V1}/tickets/suggest-kb/{ref}"
        for who in (desk.requester, desk.agent):
            response = await api.get(url, headers=who.auth)
            assert response.status_code == 200, response.text
            ids = [h["id"] for h in response.json()]
            assert ids[:2] == [both["id"], one["id"]]  # more of the ticket's words: first
            assert draft["id"] not in ids
            assert chatter["id"] not in ids

    url = f"{V1}/tickets/suggest-kb/{ticket['number']}"
    assert len((await api.get(url, params={"limit": 1}, headers=desk.agent.auth)).json()) == 1
    stranger = await people.make(Role.USER)
    assert_problem(await api.get(url, headers=stranger.auth), 404)
    assert_problem(await api.get(url), 401)
    assert_problem(
        await api.get(f"{V1}/tickets/suggest-kb/not-a-ticket", headers=desk.agent.auth), 422
    )
    assert_problem(
        await api.get(f"{V1}/tickets/suggest-kb/987654321", headers=desk.agent.auth), 404
    )


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("post", "", {"title": "", "content": "x"}, 422),
        ("post", "", {"title": "x" * 501, "content": "x"}, 422),
        ("post", "", {"title": "x"}, 422),
        ("post", "", {"title": "x", "content": "a\x00b"}, 422),
        ("post", "", {"title": "x", "content": "x", "status": "hidden"}, 422),
        ("post", "", {"title": "x", "content": "x", "tags": [str(n) for n in range(21)]}, 422),
        ("post", "", {"title": "x", "content": "x", "tags": [""]}, 422),
        ("post", "", {"title": "x", "content": "x", "author_id": str(uuid4())}, 422),
        ("post", "", {"title": "x", "content": "x", "views": 1000}, 422),
        ("get", "?cursor=not-a-cursor", None, 422),
        ("get", "?cursor=WzEsMl0", None, 422),
        ("get", "?limit=500", None, 422),
        ("get", "?status=deleted", None, 422),
        ("get", "/not-a-uuid", None, 422),
        ("get", f"/{uuid4()}", None, 404),
        ("put", f"/{uuid4()}", {"title": "x"}, 404),
        ("put", "/not-a-uuid", {"title": "x"}, 422),
        ("delete", f"/{uuid4()}", None, 404),
        ("post", f"/{uuid4()}/vote", {}, 422),
        ("post", f"/{uuid4()}/vote", {"helpful": "yes"}, 422),
        ("post", f"/{uuid4()}/vote", {"helpful": 1}, 422),
        ("post", "/not-a-uuid/vote", {"helpful": True}, 422),
    ],
)
async def test_bad_input_is_a_client_error(
    api: httpx.AsyncClient, desk: Desk, method: str, path: str, payload: Any, status: int
) -> None:
    kwargs = {"json": payload} if payload is not None else {}
    response = await api.request(method, KB + path, headers=desk.admin.auth, **kwargs)
    assert_problem(response, status)
