"""Every log line of a request or a turn carries its ids, in JSON (NFR-OBS-002).

The lines are captured as the JSON format writes them, while real requests run through the
app and a turn runs in the background on a chat model that logs from inside the turn.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantheon_adapters.observability.logs import configure_logging, remove_handler
from pantheon_core.ports.chat_model import ChatChunk, ChatRequest
from pantheon_http.app import create_app
from tests.e2e.conftest import BASE_URL, chat_room, make_settings, sign_in
from tests.fake_chat import FakeChatModel
from tests.fakes import FakeApp, fake_app

Line = dict[str, Any]
CHAT_LOGGER = "pantheon.test.chat"


class LoggingChat(FakeChatModel):
    """The scripted model, logging one line per call from inside the turn's task."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        logging.getLogger(CHAT_LOGGER).info("calling %s for %s", request.model,
                                            request.purpose)
        async for chunk in super().stream(request):
            yield chunk


@pytest.fixture
def lines(tmp_path: Path) -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = configure_logging(make_settings(tmp_path, log_format="json"), service="api",
                                stream=out)
    assert handler is not None
    try:
        yield out
    finally:
        remove_handler(handler)


def _parsed(out: io.StringIO) -> list[Line]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def logging_app() -> FakeApp:
    return fake_app(chat=LoggingChat())


async def test_request_and_turn_lines_carry_request_user_and_turn_ids(
        lines: io.StringIO, logging_app: FakeApp, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, log_format="json")  # the app configures logging too
    app = create_app(container=logging_app.container(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=BASE_URL) as client:
        me = await sign_in(client, logging_app, "ada@example.com")
        room = await chat_room(client, "Ana", "Bo")
        sent = await client.post(f"/api/v1/rooms/{room['id']}/messages",
                                 json={"content": "Compare the options."})
        assert sent.status_code == 202, sent.text
        await logging_app.settle()
        anonymous = await client.get("/healthz", headers={"Cookie": ""})
    user_id, turn_id = me["user"]["id"], sent.json()["turn"]["id"]
    send_request = sent.headers["x-request-id"]

    parsed = _parsed(lines)
    assert parsed, "nothing was logged"
    for line in parsed:
        assert {"time", "level", "logger", "message", "service"} <= set(line)

    access = [line for line in parsed if line["logger"] == "pantheon.http.access"]
    assert len(access) >= 5
    assert all(line.get("request_id") for line in access)
    assert len({line["request_id"] for line in access}) == len(access), "one id per request"
    [send_line] = [line for line in access if line["request_id"] == send_request]
    assert send_line["user_id"] == user_id and "turn_id" not in send_line
    assert (send_line["method"], send_line["status"]) == ("POST", 202)
    assert send_line["path"] == f"/api/v1/rooms/{room['id']}/messages"
    [health_line] = [line for line in access if line["path"] == "/healthz"]
    assert health_line["request_id"] == anonymous.headers["x-request-id"]
    assert "user_id" not in health_line

    in_turn = [line for line in parsed if line["logger"] == CHAT_LOGGER]
    assert len(in_turn) == 2, "one line per agent's call"
    for line in in_turn:
        assert (line["turn_id"], line["user_id"], line["request_id"]) == (
            turn_id, user_id, send_request)
