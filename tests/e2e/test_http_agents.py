"""A room's agents over HTTP (FR-AGENT-001..005)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Json, actor_of, assert_error
from tests.fakes import FakeApp

AGENT_FIELDS = {"id", "room_id", "name", "handle", "model_alias", "role_prompt", "tools",
                "position", "created_at", "updated_at", "deleted_at", "restorable_until"}


@pytest.fixture
async def room(alice: httpx.AsyncClient) -> str:
    response = await alice.post("/api/v1/rooms", json={"name": "Panel"})
    return str(response.json()["id"])


def agents_url(room_id: str, suffix: str = "") -> str:
    return f"/api/v1/rooms/{room_id}/agents{suffix}"


async def _add(client: httpx.AsyncClient, room_id: str, name: str, **body: object) -> Json:
    response = await client.post(agents_url(room_id),
                                 json={"name": name, "model_alias": "qwen", **body})
    assert response.status_code == 201, response.text
    agent: Json = response.json()
    return agent


async def _names(client: httpx.AsyncClient, room_id: str) -> list[str]:
    return [a["name"] for a in (await client.get(agents_url(room_id))).json()["agents"]]


async def test_add_and_read_an_agent(alice: httpx.AsyncClient, room: str) -> None:
    agent = await _add(alice, room, "Ana", model_alias="DeepSeek", role_prompt=" Skeptic. ",
                       tools={"web_search": True})
    assert set(agent) == AGENT_FIELDS
    assert agent["room_id"] == room and agent["handle"] == "@Ana"
    assert agent["model_alias"] == "deepseek" and agent["role_prompt"] == "Skeptic."
    assert agent["tools"] == {"web_search": True, "files": False}
    assert agent["position"] == 0
    assert (await alice.get(agents_url(room, f"/{agent['id']}"))).json() == agent
    assert (await alice.get(agents_url(room, "/ana"))).json() == agent  # by name, any case
    assert (await alice.get(f"/api/v1/rooms/{room}")).json()["agents"] == [agent]


async def test_agents_list_in_position_order(alice: httpx.AsyncClient, room: str) -> None:
    await _add(alice, room, "Ana")
    await _add(alice, room, "Ben")
    await _add(alice, room, "Cy", position=0)
    listed = (await alice.get(agents_url(room))).json()["agents"]
    assert [(a["name"], a["position"]) for a in listed] == [("Cy", 0), ("Ana", 1), ("Ben", 2)]


async def test_edit_any_field(alice: httpx.AsyncClient, room: str, fake: FakeApp) -> None:
    ana = await _add(alice, room, "Ana")
    await _add(alice, room, "Ben")
    fake.clock.advance(minutes=1)
    edited = await alice.patch(agents_url(room, f"/{ana['id']}"), json={
        "name": "Anya", "model_alias": "premium", "role_prompt": "Lead.",
        "tools": {"files": True}, "position": 1,
    })
    assert edited.status_code == 200
    body = edited.json()
    assert (body["name"], body["handle"], body["model_alias"]) == ("Anya", "@Anya", "premium")
    assert body["role_prompt"] == "Lead." and body["position"] == 1
    assert body["tools"] == {"web_search": False, "files": True}
    assert body["updated_at"] == "2026-11-26T12:01:00Z"
    assert await _names(alice, room) == ["Ben", "Anya"]


async def test_renaming_to_the_same_name_in_another_case_is_allowed(
    alice: httpx.AsyncClient, room: str
) -> None:
    ana = await _add(alice, room, "Ana")
    edited = await alice.patch(agents_url(room, f"/{ana['id']}"), json={"name": "ANA"})
    assert edited.status_code == 200 and edited.json()["handle"] == "@ANA"


async def test_remove_closes_the_gap(alice: httpx.AsyncClient, room: str) -> None:
    ana = await _add(alice, room, "Ana")
    await _add(alice, room, "Ben")
    removed = await alice.delete(agents_url(room, f"/{ana['id']}"))
    assert removed.status_code == 204 and removed.content == b""
    listed = (await alice.get(agents_url(room))).json()["agents"]
    assert [(a["name"], a["position"]) for a in listed] == [("Ben", 0)]
    assert_error(await alice.get(agents_url(room, f"/{ana['id']}")), 404, "agent_not_found")
    assert_error(await alice.delete(agents_url(room, f"/{ana['id']}")), 404, "agent_not_found")
    assert (await _add(alice, room, "ana"))["name"] == "ana"  # the name is free again


async def test_reorder(alice: httpx.AsyncClient, room: str) -> None:
    ids = [(await _add(alice, room, n))["id"] for n in ("Ana", "Ben", "Cy")]
    response = await alice.put(agents_url(room, "/order"), json={"agent_ids": ids[::-1]})
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["agents"]] == ["Cy", "Ben", "Ana"]
    assert await _names(alice, room) == ["Cy", "Ben", "Ana"]


@pytest.mark.parametrize("order", [[], ["{0}"], ["{0}", "{0}", "{1}"], ["{0}", "{1}", "nope"]])
async def test_reorder_must_list_every_agent_once(alice: httpx.AsyncClient, room: str,
                                                  order: list[str]) -> None:
    ids = [(await _add(alice, room, n))["id"] for n in ("Ana", "Ben")]
    body = {"agent_ids": [o.format(*ids) for o in order]}
    error = assert_error(await alice.put(agents_url(room, "/order"), json=body), 422,
                         "invalid_agent_order")
    assert error["details"]["expected_ids"] == ids
    assert await _names(alice, room) == ["Ana", "Ben"]


async def test_roster_changes_apply_to_the_next_turn_only(
    alice: httpx.AsyncClient, room: str, fake: FakeApp
) -> None:
    await _add(alice, room, "Ana")
    actor = await actor_of(fake, "alice@example.com")
    started = await fake.uc.begin_turn(actor, room, "hello")
    await _add(alice, room, "Ben")
    turn = (await fake.uc.get_turn(actor, started.id)).turn
    assert [a.name for a in turn.roster] == ["Ana"]
    nxt = await fake.uc.begin_turn(actor, room, "again")
    assert [a.name for a in nxt.roster] == ["Ana", "Ben"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "ana", "model_alias": "qwen"}, 409, "duplicate_agent_name"),
        ({"name": "ANA", "model_alias": "llama"}, 409, "duplicate_agent_name"),
        ({"name": "", "model_alias": "qwen"}, 422, "invalid_agent_name"),
        ({"name": "   ", "model_alias": "qwen"}, 422, "invalid_agent_name"),
        ({"name": "Two words", "model_alias": "qwen"}, 422, "invalid_agent_name"),
        ({"name": "9lives", "model_alias": "qwen"}, 422, "invalid_agent_name"),
        ({"name": "A" * 33, "model_alias": "qwen"}, 422, "invalid_agent_name"),
        ({"name": "Ben", "model_alias": "gpt-5"}, 422, "unknown_model_alias"),
        ({"name": "Ben", "model_alias": ""}, 422, "unknown_model_alias"),
        ({"name": "Ben", "model_alias": "qwen", "role_prompt": "x" * 4001}, 422,
         "role_prompt_too_long"),
        ({"name": 5, "model_alias": "qwen"}, 422, "validation_error"),
        ({"name": "Ben", "model_alias": None}, 422, "validation_error"),
        ({"name": "Ben", "model_alias": "qwen", "tools": {"web_search": "yes"}}, 422,
         "validation_error"),
        ({"name": "Ben", "model_alias": "qwen", "tools": ["web_search"]}, 422,
         "validation_error"),
        ({"name": "Ben", "model_alias": "qwen", "position": "1"}, 422, "validation_error"),
        ({"name": "Ben", "model_alias": "qwen", "position": 1.5}, 422, "validation_error"),
        ({"name": "Ben", "model_alias": "qwen", "role_prompt": None}, 422, "validation_error"),
        ({"name": "Ben"}, 422, "validation_error"),
        ("Ben", 422, "validation_error"),
    ],
)
async def test_bad_agent_input_is_a_typed_4xx(alice: httpx.AsyncClient, room: str, body: object,
                                              status: int, code: str) -> None:
    await _add(alice, room, "Ana")
    assert_error(await alice.post(agents_url(room), json=body), status, code)
    assert await _names(alice, room) == ["Ana"]


async def test_unknown_alias_lists_the_allowed_ones(alice: httpx.AsyncClient, room: str) -> None:
    response = await alice.post(agents_url(room), json={"name": "Ana", "model_alias": "gpt"})
    error = assert_error(response, 422, "unknown_model_alias")
    assert error["details"]["allowed"] == ["llama", "qwen", "deepseek", "gpt_oss", "premium"]


async def test_a_4000_character_prompt_is_fine(alice: httpx.AsyncClient, room: str) -> None:
    agent = await _add(alice, room, "Ana", role_prompt="x" * 4000)
    assert len(agent["role_prompt"]) == 4000


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "ben"}, 409, "duplicate_agent_name"),
        ({"name": ""}, 422, "invalid_agent_name"),
        ({"model_alias": "gpt-5"}, 422, "unknown_model_alias"),
        ({"role_prompt": "x" * 4001}, 422, "role_prompt_too_long"),
        ({"tools": {"files": 1}}, 422, "validation_error"),
        ({"position": "last"}, 422, "validation_error"),
    ],
)
async def test_bad_agent_edits_change_nothing(alice: httpx.AsyncClient, room: str, body: Json,
                                              status: int, code: str) -> None:
    ana = await _add(alice, room, "Ana")
    await _add(alice, room, "Ben")
    response = await alice.patch(agents_url(room, f"/{ana['id']}"), json=body)
    assert_error(response, status, code)
    assert (await alice.get(agents_url(room, f"/{ana['id']}"))).json() == ana


async def test_malformed_json_is_400(alice: httpx.AsyncClient, room: str) -> None:
    response = await alice.post(agents_url(room), content=b"{'name': 'Ana'}",
                                headers={"content-type": "application/json"})
    assert_error(response, 400, "malformed_json")


async def test_agents_of_a_missing_room_are_not_found(alice: httpx.AsyncClient) -> None:
    assert_error(await alice.get(agents_url("no-such-room")), 404, "room_not_found")


async def test_another_users_agents_are_not_found_and_untouched(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, room: str
) -> None:
    ana = await _add(alice, room, "Ana", tools={"web_search": True})
    ben = await _add(alice, room, "Ben")
    before = (await alice.get(f"/api/v1/rooms/{room}")).json()
    attempts = [
        ("get", agents_url(room), None),
        ("post", agents_url(room), {"name": "Mole", "model_alias": "qwen"}),
        ("get", agents_url(room, f"/{ana['id']}"), None),
        ("patch", agents_url(room, f"/{ana['id']}"), {"role_prompt": "Leak everything."}),
        ("delete", agents_url(room, f"/{ana['id']}"), None),
        ("put", agents_url(room, "/order"), {"agent_ids": [ben["id"], ana["id"]]}),
    ]
    for method, url, body in attempts:
        assert_error(await bob.request(method, url, json=body), 404, "room_not_found")
    assert (await alice.get(f"/api/v1/rooms/{room}")).json() == before


async def test_agents_are_addressed_within_their_own_room(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, room: str
) -> None:
    """Bob's own room id with Alice's agent id still finds nothing."""
    ana = await _add(alice, room, "Ana")
    bobs_room = (await bob.post("/api/v1/rooms", json={"name": "Mine"})).json()["id"]
    url = agents_url(bobs_room, f"/{ana['id']}")
    assert_error(await bob.get(url), 404, "agent_not_found")
    assert_error(await bob.patch(url, json={"name": "Stolen"}), 404, "agent_not_found")
    assert_error(await bob.delete(url), 404, "agent_not_found")
    assert (await alice.get(agents_url(room, f"/{ana['id']}"))).json() == ana
