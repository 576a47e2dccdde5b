from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantheon_core.domain.modes import ModeState, RoomMode, parse_mode
from pantheon_core.errors import InvalidInput

modes = st.sampled_from(list(RoomMode))


@pytest.mark.parametrize(
    ("current", "pending", "effective"),
    [
        (RoomMode.MANUAL, None, RoomMode.MANUAL),
        (RoomMode.MANUAL, RoomMode.ORCHESTRATOR, RoomMode.ORCHESTRATOR),
        (RoomMode.ROUNDTABLE, RoomMode.ROUNDTABLE, RoomMode.ROUNDTABLE),
    ],
)
def test_resolve_at_send_uses_pending_then_clears_it(current, pending, effective) -> None:
    mode, after = ModeState(current, pending).resolve_at_send()
    assert mode is effective
    assert after == ModeState(current=effective, pending=None)


@given(start=modes, requests=st.lists(modes, max_size=6))
def test_requests_only_ever_touch_pending(start: RoomMode, requests: list[RoomMode]) -> None:
    state = ModeState(start)
    for mode in requests:
        state = state.request(mode)
        assert state.current is start
    effective, after = state.resolve_at_send()
    assert effective is (requests[-1] if requests else start)
    assert after.pending is None


@pytest.mark.parametrize("raw", [" Manual ", "ROUNDTABLE", "orchestrator"])
def test_parse_mode_is_forgiving_about_case_and_spaces(raw: str) -> None:
    assert parse_mode(raw).value == raw.strip().lower()


@pytest.mark.parametrize("raw", ["", "auto", "round table", "direct"])
def test_parse_mode_rejects_unknown_modes_listing_the_allowed(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mode(raw)
    assert err.value.code == "invalid_mode"
    assert err.value.details["allowed"] == ["manual", "roundtable", "orchestrator"]
