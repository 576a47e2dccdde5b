"""Correlation ids follow the work: bound for a block, inherited by the tasks it spawns."""

from __future__ import annotations

import asyncio

import pytest

from pantheon_core import correlation
from pantheon_core.correlation import Correlation


def test_nothing_is_known_outside_any_work() -> None:
    assert correlation.current() == Correlation()
    assert correlation.current().items() == {}


def test_bound_adds_ids_for_the_block_and_restores_after() -> None:
    with correlation.bound(request_id="req-1"):
        with correlation.bound(turn_id="turn-1", user_id="u-1") as inner:
            assert inner.items() == {"request_id": "req-1", "user_id": "u-1",
                                     "turn_id": "turn-1"}
        assert correlation.current().items() == {"request_id": "req-1"}
    assert correlation.current() == Correlation()


def test_unknown_ids_are_refused() -> None:
    with pytest.raises(TypeError):
        correlation.bind(tenant="x")


async def test_a_spawned_task_keeps_its_spawners_ids_and_adds_its_own() -> None:
    seen: dict[str, dict[str, str]] = {}

    async def turn() -> None:
        with correlation.bound(turn_id="turn-9"):
            await asyncio.sleep(0)
            seen["turn"] = correlation.current().items()

    with correlation.bound(request_id="req-9", user_id="u-9"):
        task = asyncio.get_running_loop().create_task(turn())
    seen["after request"] = correlation.current().items()  # the request ended first
    await task
    assert seen == {"after request": {},
                    "turn": {"request_id": "req-9", "user_id": "u-9", "turn_id": "turn-9"}}
