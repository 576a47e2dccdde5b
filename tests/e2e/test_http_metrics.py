"""``GET /metrics`` on the real app (embedded SQLite, offline model, in-process jobs): requests
by route template, LLM calls by model alias, active turns and streams, job runs and queue
depths (NFR-OBS-003); who may read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_core.actor import Actor
from pantheon_http.app import create_app
from tests.e2e.conftest import BASE_URL, Json, assert_error, live_frames, served
from tests.fakes import fake_app
from tests.integration.job_helpers import queue_of, wait_for_run

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path, "public_url": BASE_URL, "database_url": None, "redis_url": None,
        "mail_backend": "outbox", "supabase_jwt_secret": None, "supabase_jwks_url": None,
        "offline_word_delay_ms": 40, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def samples(text: str) -> Samples:
    """Every sample of an exposition, by name and label set."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(scraped: Samples, name: str, **labels: str) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


@asynccontextmanager
async def live_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The app with its lifespan run, on a real socket (streams arrive as they are sent)."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app), served(app) as url, \
            httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client, app.state.container


async def _sign_in(client: httpx.AsyncClient, container: Container, email: str) -> None:
    assert (await client.post("/api/v1/auth/magic-link", json={"email": email})).status_code == 202
    link = container.latest_login_link(email)
    assert link is not None
    token = parse_qs(urlsplit(link).query)["token"][0]
    verified = await client.post("/api/v1/auth/verify", json={"token": token})
    assert verified.status_code == 200, verified.text


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def _room_with_agent(client: httpx.AsyncClient) -> Json:
    room: Json = (await client.post("/api/v1/rooms", json={"name": "Lab",
                                                           "mode": "roundtable"})).json()
    added = await client.post(f"/api/v1/rooms/{room['id']}/agents",
                              json={"name": "Ana", "model_alias": "deepseek"})
    assert added.status_code == 201, added.text
    return room


async def test_metrics_show_requests_llm_calls_turns_streams_jobs_and_queues(
        tmp_path: Path) -> None:
    async with live_app(_settings(tmp_path)) as (client, container):
        await _sign_in(client, container, "ada@example.com")
        room = await _room_with_agent(client)
        assert (await client.get(f"/api/v1/rooms/{room['id']}")).status_code == 200
        assert_error(await client.get("/api/v1/rooms/no-such-room"), 404, "room_not_found")
        assert (await client.get("/no/route/here")).status_code == 404

        sent = await client.post(f"/api/v1/rooms/{room['id']}/messages",
                                 json={"content": "Plan the launch."})
        assert sent.status_code == 202, sent.text
        during: Samples = {}
        async with client.stream("GET", sent.json()["stream_url"],
                                 headers={"Accept": "text/event-stream"}) as stream:
            async for frame in live_frames(stream):
                if frame.event == "step_delta" and not during:
                    during = await _scrape(client)  # the turn runs, its stream is open
                if frame.event in ("turn_completed", "turn_failed"):
                    assert frame.event == "turn_completed", frame.data
                    break
        await container.tasks.wait_idle()

        message_id = await queue_of(container).enqueue("purge_expired_credentials", {})
        run = await wait_for_run(container.use_cases, message_id)
        assert run.status.value == "succeeded"
        runtime = container.jobs_runtime
        assert runtime is not None
        assert await anyio.to_thread.run_sync(runtime.drain)  # the jobs scheduled at start too
        job = "purge_expired_credentials"  # the scheduler queued it at start as well
        runs = await container.use_cases.list_job_runs(Actor.operator(), name=job, limit=500)
        after = await _scrape(client)

    assert value(during, "pantheon_turns_active") == 1
    assert value(during, "pantheon_streams_active") == 1
    assert value(after, "pantheon_turns_active") == 0
    assert value(after, "pantheon_streams_active") == 0

    room_route = {"method": "GET", "route": "/api/v1/rooms/{room_id}"}
    assert value(after, "pantheon_http_requests_total", **room_route, status_class="2xx") == 1
    assert value(after, "pantheon_http_requests_total", **room_route, status_class="4xx") == 1
    assert value(after, "pantheon_http_request_duration_seconds_count", **room_route) == 2
    assert value(after, "pantheon_http_requests_total", method="GET", route="unmatched",
                 status_class="4xx") == 1
    assert value(after, "pantheon_http_requests_total", method="POST",
                 route="/api/v1/rooms/{room_id}/messages", status_class="2xx") == 1
    assert value(after, "pantheon_http_requests_total", method="GET",
                 route="/api/v1/turns/{turn_id}/events", status_class="2xx") == 1
    assert value(after, "pantheon_http_request_failures_total", **room_route,
                 status_class="4xx") is None, "only 5xx answers are failures"
    raw_paths = [labels for (_, labels) in after if ("route", f"/api/v1/rooms/{room['id']}")
                 in labels]
    assert raw_paths == [], "routes are templates, never raw paths"

    assert value(after, "pantheon_llm_calls_total", model_alias="deepseek", status="ok") == 1
    assert value(after, "pantheon_llm_call_duration_seconds_count", model_alias="deepseek",
                 status="ok") == 1

    succeeded = sum(1 for r in runs if r.status.value == "succeeded")
    assert succeeded >= 1 and all(r.status.value == "succeeded" for r in runs)
    assert value(after, "pantheon_job_runs_total", job=job, status="succeeded") == succeeded
    assert value(after, "pantheon_job_runs_total", job=job, status="failed") == 0
    assert value(after, "pantheon_job_failures_total", job=job) == 0
    assert value(after, "pantheon_job_duration_seconds_count", job=job) == succeeded
    assert value(after, "pantheon_job_runs_total", job="parse_file", status="succeeded") == 0
    assert value(after, "pantheon_queue_depth", queue="pantheon", state="ready") == 0
    assert value(after, "pantheon_queue_depth", queue="housekeeping", state="delayed") == 0


@pytest.mark.parametrize(("env", "token", "sent", "status", "code"), [
    ("development", None, None, 200, None),
    ("development", "s3cret-metrics-token", None, 401, "invalid_metrics_token"),
    ("development", "s3cret-metrics-token", "Bearer wrong", 401, "invalid_metrics_token"),
    ("development", "s3cret-metrics-token", "Bearer s3cret-metrics-token", 200, None),
    ("production", None, None, 403, "metrics_token_required"),
    ("production", "s3cret-metrics-token", "Bearer s3cret-metrics-token", 200, None),
], ids=["dev-open", "token-missing", "token-wrong", "token-right", "prod-closed", "prod-token"])
async def test_who_may_read_the_metrics(tmp_path: Path, env: str, token: str | None,
                                        sent: str | None, status: int,
                                        code: str | None) -> None:
    settings = Settings.model_construct(**{**_settings(tmp_path).__dict__, "env": env,
                                           "metrics_token": token})
    app = create_app(container=fake_app().container(settings))
    headers = {"Authorization": sent} if sent else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=BASE_URL) as client:
        response = await client.get("/metrics", headers=headers)
    if code is None:
        assert response.status_code == status
        assert "pantheon_http_requests_total" in response.text
    else:
        assert_error(response, status, code)


async def test_metrics_are_not_in_the_api_schema(tmp_path: Path) -> None:
    app = create_app(container=fake_app().container(_settings(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=BASE_URL) as client:
        schema = (await client.get("/api/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_two_apps_in_one_process_keep_their_own_numbers(tmp_path: Path) -> None:
    first = create_app(container=fake_app().container(_settings(tmp_path)))
    second = create_app(container=fake_app().container(_settings(tmp_path)))
    for app, calls in ((first, 3), (second, 1)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE_URL) as client:
            for _ in range(calls):
                assert (await client.get("/healthz")).status_code == 200
    for app, calls in ((first, 3), (second, 1)):
        scraped = samples(app.state.metrics.exposition().decode())
        assert value(scraped, "pantheon_http_requests_total", method="GET", route="/healthz",
                     status_class="2xx") == calls
