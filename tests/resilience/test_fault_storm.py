"""A storm of provider faults under many concurrent turns (NFR-REL-003, AT-008).

Twenty-four turns — roundtable, orchestrator, manual and direct, two per user — run at once
through the real container: the real OpenRouter adapter behind its circuit breaker, the real
engine, the real SQL (SQLite, and PostgreSQL when ``PANTHEON_TEST_POSTGRES_URL`` is set). The
provider is :class:`FaultyOpenRouter`; a client follows every turn's live stream meanwhile.

- The storm: about half the answers are faults (429s with Retry-After, 500, 502, 503,
  connection resets, hangs before the headers, before the first token and mid-stream, dropped
  streams, malformed chunks, missing usage, error events), chosen per call and attempt from a
  fixed seed, so the storm is the same on every run. The breaker's threshold is out of reach
  here (its fast failures depend on how concurrent calls interleave); the outage has it.
- The outage: every answer is a 5xx, a reset or a hang. The breaker opens after its default 5
  failures in a row and the remaining attempts fail fast without reaching the provider.

Afterwards:
- every turn ended ``completed``, ``partial`` or ``failed``, with reason codes, and its
  follower received exactly the stored events, terminal event last (no hang);
- one usage row per provider attempt: the request ids the fake received are the rows'
  request ids, each once, each row's outcome what the fake answered; the only other rows are
  the breaker's fast failures (no tokens, no credits);
- every wallet is its ledger, with no hold left open, burns equal to usage credits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_core.actor import Actor
from pantheon_core.domain.events import TurnEvent
from pantheon_core.domain.turns import Turn
from pantheon_core.domain.usage import LlmCall
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import Deps, EnginePolicy
from tests.fakes import FakeMailer
from tests.resilience.fault_provider import (
    BEFORE_TEXT,
    STORM_WEIGHTS,
    Fault,
    FaultPlan,
    FaultyOpenRouter,
    serving,
)
from tests.resilience.invariants import (
    assert_one_row_per_attempt,
    assert_turn_ended_with_reasons,
    assert_wallet_consistent,
    stored_turn,
    usage_rows,
)
from tests.services import copy_migrated

SEED = 20_240_601
USERS = 12  # two turns each: the default limit of running turns per user
STORM_DEADLINE_S = 90
# Client deadlines far below the fake's hangs (60 s); backoffs short, Retry-After capped.
STORM_ENGINE = EnginePolicy(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05,
                            retry_after_cap_s=0.05, first_token_timeout_s=0.8,
                            call_timeout_s=4.0, flush_interval_s=0.05,
                            heartbeat_interval_s=1.0, stream_wait_s=0.5)
READ_TIMEOUT_S = FIRST_TOKEN_S = 0.8
OUT_OF_REACH = 1_000_000  # breaker failures in a row
OUTAGE = {fault: 1 for fault in (Fault.SERVER_ERROR, Fault.BAD_GATEWAY, Fault.UNAVAILABLE,
                                 Fault.RESET, Fault.HANG_BEFORE_HEADERS, Fault.HANG_BEFORE_TOKEN)}

# The code each fault leaves on the attempt's usage row.
ROW_CODE: dict[Fault, str | None] = {
    Fault.OK: None, Fault.MISSING_USAGE: None,
    Fault.RATE_LIMITED: "rate_limited", Fault.SERVER_ERROR: "provider_error",
    Fault.BAD_GATEWAY: "provider_unavailable", Fault.UNAVAILABLE: "provider_unavailable",
    Fault.RESET: "provider_disconnected", Fault.HANG_BEFORE_HEADERS: "provider_timeout",
    Fault.HANG_BEFORE_TOKEN: "provider_timeout", Fault.HANG_MID_STREAM: "provider_timeout",
    Fault.DROP_MID_STREAM: "provider_disconnected",
    Fault.MALFORMED_CHUNK: "provider_bad_response", Fault.STREAM_ERROR: "provider_stream_error",
}

# Every fault at least once, whatever the seed says: the first attempt of the direct
# turns' call and of the manual turns' first call (the turn of number n is of kind n % 4).
KINDS = ("roundtable", "orchestrator", "manual", "direct")
SCRIPT = dict(zip(
    [f"t{n:02d}:worker:Solo" for n in range(3, 2 * USERS, 4)]
    + [f"t{n:02d}:worker:Critic" for n in range(2, 2 * USERS, 4)],
    [[fault] for fault in Fault if fault is not Fault.OK], strict=True))


@dataclass(frozen=True)
class Sent:
    tag: str
    kind: str
    user_id: str
    turn: Turn


def storm_settings(data_dir: Path, database_url: str, provider_url: str,
                   breaker_failures: int) -> Settings:
    """The real adapters on ``database_url``, OpenRouter at the fake; nothing from the
    environment."""
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir, database_url=database_url, auto_migrate=True, redis_url=None,
        jobs_in_process=False, storage_backend="local", mail_backend="outbox",
        openrouter_api_key="sk-or-storm", openrouter_base_url=provider_url,
        llm_base_url=None, tavily_api_key=None, llm_connect_timeout_s=2.0,
        llm_read_timeout_s=READ_TIMEOUT_S, llm_first_token_timeout_s=FIRST_TOKEN_S,
        llm_breaker_failures=breaker_failures, llm_breaker_cooldown_s=600,
        supabase_jwt_secret=None, supabase_jwks_url=None)


@asynccontextmanager
async def storm_container(data_dir: Path, database_url: str, provider: FaultyOpenRouter, *,
                          breaker_failures: int) -> AsyncIterator[Container]:
    await anyio.to_thread.run_sync(copy_migrated, database_url)
    settings = storm_settings(data_dir, database_url, provider.base_url, breaker_failures)
    built = await build_container(settings, engine=STORM_ENGINE, mailer=FakeMailer())
    try:
        yield built
    finally:
        await built.aclose()


def question(tag: str) -> str:
    return f"[{tag}] What should we change in plan {tag} before Friday?"


async def send(uc: UseCases, actor: Actor, kind: str, tag: str) -> Turn:
    """A conversation of ``kind`` made for this one turn, and the turn sent to it."""
    if kind == "direct":
        session = await uc.create_direct_session(actor, name="Solo", model_alias="gpt_oss",
                                                 role_prompt="You answer alone.")
        return await uc.send_direct(actor, session.id, question(tag))
    room = await uc.create_room(actor, name=f"Room {tag}", mode=kind)
    for name, alias in (("Scout", "qwen"), ("Critic", "deepseek")):
        await uc.add_agent(actor, room.id, name=name, model_alias=alias,
                           role_prompt=f"You are the team's {name.lower()}.")
    text = question(tag)
    return await uc.send_to_room(actor, room.id,
                                 f"@Critic @Scout {text}" if kind == "manual" else text)


async def follow(uc: UseCases, actor: Actor, turn_id: str) -> list[TurnEvent]:
    """What a client following the turn's stream from the start receives."""
    return [event async for event in await uc.stream_turn_events(actor, turn_id, after=0)]


async def run_storm(uc: UseCases) -> tuple[list[Sent], dict[str, list[TurnEvent]]]:
    sent: list[Sent] = []
    followed: dict[str, list[TurnEvent]] = {}

    async def user(u: int) -> None:
        actor = await uc.act_as(Actor.operator(), f"storm{u:02d}@example.com")
        for n in (2 * u, 2 * u + 1):
            kind, tag = KINDS[n % 4], f"t{n:02d}"
            turn = await send(uc, actor, kind, tag)
            sent.append(Sent(tag, kind, actor.require_user(), turn))
            group.start_soon(followed_into, actor, turn.id)

    async def followed_into(actor: Actor, turn_id: str) -> None:
        followed[turn_id] = await follow(uc, actor, turn_id)

    async with anyio.create_task_group() as group:
        for u in range(USERS):
            group.start_soon(user, u)
    return sent, followed


async def run_and_check(container: Container, provider: FaultyOpenRouter,
                        ) -> tuple[Counter[str], list[LlmCall], list[LlmCall]]:
    """The storm, then the invariants of the module's docstring. Returns how the turns
    ended, the usage rows and, of those, the breaker's fast failures."""
    uc = container.use_cases
    deps: Deps = uc.get_turn.deps
    with anyio.fail_after(STORM_DEADLINE_S):
        sent, followed = await run_storm(uc)
        await container.tasks.wait_idle()

    assert len(sent) == 2 * USERS
    outcomes: Counter[str] = Counter()
    turns: dict[str, Turn] = {}
    for item in sent:
        turn = await assert_turn_ended_with_reasons(deps, item.turn.id)
        turns[turn.id] = turn
        outcomes[turn.status.value] += 1
        _, stored = await stored_turn(deps, turn.id)
        assert followed[turn.id] == stored, f"the follower of {item.tag} saw another stream"

    rows = await usage_rows(deps)
    unsent = assert_one_row_per_attempt(rows, (s.request_id for s in provider.served))
    by_request = {r.request_id: r for r in rows}
    for served in provider.served:
        row = by_request[served.request_id]
        expected = ROW_CODE[served.fault]
        if expected is None:  # a healthy answer: ok (or, on a starved loop, a timeout)
            assert row.error_code in (None, "provider_timeout"), (served, row.error_code)
        else:
            assert (row.status.value, row.error_code) == ("error", expected), (served, row)
        if served.fault in BEFORE_TEXT:
            assert row.completion_tokens == 0 and row.credits_burned == 0, (served, row)
    for user_id in {s.user_id for s in sent}:
        await assert_wallet_consistent(deps, user_id, rows,
                                       [turns[s.turn.id] for s in sent if s.user_id == user_id])
    return outcomes, rows, unsent


async def test_a_fault_storm_ends_every_turn_with_reasons_and_meters_every_attempt_once(
        tmp_path: Path, database_url: str) -> None:
    plan = FaultPlan(seed=SEED, weights=STORM_WEIGHTS, script=SCRIPT)
    with serving(FaultyOpenRouter(plan)) as provider:
        async with storm_container(tmp_path, database_url, provider,
                                   breaker_failures=OUT_OF_REACH) as container:
            outcomes, _, unsent = await run_and_check(container, provider)
    assert unsent == []
    # The storm is the same on every run (the seed and the script); it has all three ends,
    # every fault, and every turn reached the provider.
    assert set(outcomes) == {"completed", "partial", "failed"}, outcomes
    assert set(provider.faults_served()) == set(Fault), provider.faults_served()
    assert {s.key.split(":")[0] for s in provider.served} == {f"t{n:02d}"
                                                              for n in range(2 * USERS)}


async def test_an_outage_opens_the_breaker_and_every_turn_fails_fast_with_reasons(
        tmp_path: Path) -> None:
    with serving(FaultyOpenRouter(FaultPlan(seed=SEED, weights=OUTAGE))) as provider:
        async with storm_container(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'outage.db'}",
                                   provider, breaker_failures=5) as container:
            outcomes, rows, unsent = await run_and_check(container, provider)
    assert outcomes == {"failed": 2 * USERS}
    assert unsent, "the breaker never opened"
    assert len(provider.served) + len(unsent) == len(rows)
