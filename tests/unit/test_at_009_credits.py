"""AT-009: credits equal the formula (DESIGN §5) for a table of reference calls, across
pricing versions, with and without cached tokens, multipliers above and below the floor, and
tool credits — asked through the same quote the CLI's ``billing quote`` prints."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from pantheon_core.errors import InvalidInput, NotFound
from tests.fakes import FakeApp, fake_app
from tests.pricing_seed import SEED_PRICING

# A later version: a higher floor and cheaper fresh tokens, same models.
V2 = replace(SEED_PRICING, version="2027-01-v2", multiplier_floor=Decimal("0.7"),
             fresh_weight=Decimal("0.30"), tool_credits={"web_search": Decimal("0.25"),
                                                        "read_file": Decimal("0.05")})

# (version, alias [multiplier], prompt, cached, completion, tools, expected credits)
REFERENCE = [
    # DESIGN §5's worked examples, on deepseek (multiplier 1.0)
    ("2026-11-v1", "deepseek", 12_000, 2_000, 800, {}, "0.45"),
    ("2026-11-v1", "deepseek", 12_000, None, 800, {}, "0.5"),
    # qwen 0.6 is above the 0.5 floor; llama 0.4 is below it (billed 0.5)
    ("2026-11-v1", "qwen", 12_000, 2_000, 800, {}, "0.27"),
    ("2026-11-v1", "llama", 12_000, 2_000, 800, {}, "0.225"),
    ("2026-11-v1", "gpt_oss", 12_000, 2_000, 800, {}, "0.225"),  # exactly at the floor
    ("2026-11-v1", "premium", 12_000, 2_000, 800, {}, "2.7"),
    # rounding once, half-up, to 6 places: OE 0.35 -> 0.000035 x 0.6 = 0.000021
    ("2026-11-v1", "qwen", 1, None, 0, {}, "0.000021"),
    # 3 fresh tokens: OE 1.05 -> 0.000105 x 0.5 = 0.0000525 -> 0.000053 (half-up)
    ("2026-11-v1", "llama", 3, 0, 0, {}, "0.000053"),
    ("2026-11-v1", "deepseek", 0, None, 0, {}, "0"),
    # every prompt token cached
    ("2026-11-v1", "deepseek", 10_000, 10_000, 0, {}, "0.1"),
    # tool credits on top of the tokens
    ("2026-11-v1", "deepseek", 12_000, 2_000, 800, {"web_search": 2, "read_file": 3}, "1.75"),
    # the second version: fresh 0.30, floor 0.7 (qwen 0.6 and llama 0.4 both billed 0.7)
    ("2027-01-v2", "deepseek", 12_000, 2_000, 800, {}, "0.4"),
    ("2027-01-v2", "qwen", 12_000, 2_000, 800, {}, "0.28"),
    ("2027-01-v2", "llama", 12_000, None, 800, {}, "0.308"),
    ("2027-01-v2", "deepseek", 0, None, 0, {"web_search": 1}, "0.25"),
]


def app_with_versions() -> FakeApp:
    app = fake_app()
    app.store.past_pricing.append(V2)
    return app


@pytest.mark.parametrize(("version", "alias", "prompt", "cached", "completion", "tools",
                          "expected"), REFERENCE)
async def test_at_009_reference_calls(version: str, alias: str, prompt: int,
                                      cached: int | None, completion: int,
                                      tools: dict[str, int], expected: str) -> None:
    app = app_with_versions()
    quote = await app.uc.quote_call(model_alias=alias, prompt_tokens=prompt,
                                    completion_tokens=completion, cached_tokens=cached,
                                    pricing_version=version, tool_calls=tools)
    assert quote.credits == Decimal(expected)
    assert quote.pricing_version == version
    pricing = SEED_PRICING if version == SEED_PRICING.version else V2
    fresh = prompt - (cached or 0)
    oe = (fresh * pricing.fresh_weight + (cached or 0) * pricing.cached_weight + completion)
    assert quote.output_equivalent == oe
    assert quote.billed_multiplier == max(quote.model_multiplier, pricing.multiplier_floor)


async def test_at_009_the_current_version_is_the_default() -> None:
    quote = await app_with_versions().uc.quote_call(
        model_alias="deepseek", prompt_tokens=12_000, completion_tokens=800, cached_tokens=2_000)
    assert quote.pricing_version == "2026-11-v1" and quote.credits == Decimal("0.45")


async def test_at_009_a_recorded_call_burns_what_the_quote_says() -> None:
    """The engine's usage rows and the quote are one formula."""
    from tests.unit.engine_helpers import room_of, run_turn

    app = app_with_versions()
    actor, room = await room_of(app, "Scout")
    await run_turn(app, actor, room.id, "Hi")
    [call] = app.store.calls
    quote = await app.uc.quote_call(model_alias=call.model_alias,
                                    prompt_tokens=call.prompt_tokens,
                                    completion_tokens=call.completion_tokens,
                                    cached_tokens=call.cached_tokens
                                    if call.cached_tokens_reported else None)
    assert quote.credits == call.credits_burned


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"model_alias": "gpt5"}, "unknown_model_alias"),
    ({"prompt_tokens": -1}, "invalid_tokens"),
    ({"cached_tokens": 20_000}, "invalid_tokens"),
    ({"tool_calls": {"shell": 1}}, "unknown_tool"),
])
async def test_at_009_bad_quotes_are_clear_errors(kwargs: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"model_alias": "qwen", "prompt_tokens": 10_000,
                               "completion_tokens": 10, **kwargs}
    with pytest.raises(InvalidInput) as caught:
        await app_with_versions().uc.quote_call(**args)  # type: ignore[arg-type]
    assert caught.value.code == code


async def test_at_009_an_unknown_pricing_version_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        await app_with_versions().uc.quote_call(model_alias="qwen", prompt_tokens=1,
                                                completion_tokens=1, pricing_version="1999")
    assert caught.value.code == "pricing_version_not_found"
