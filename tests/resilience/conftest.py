"""Every resilience test is bounded twice: by its own ``anyio.fail_after`` (a clear
failure) and, should something block the event loop or a thread for good, by a hard
deadline that dumps every thread's stack and ends the test process (pytest-xdist then
reports the test as failed and starts a new worker)."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator

import pytest

HARD_DEADLINE_S = 240


@pytest.fixture(autouse=True)
def hard_deadline() -> Iterator[None]:
    faulthandler.dump_traceback_later(HARD_DEADLINE_S, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
