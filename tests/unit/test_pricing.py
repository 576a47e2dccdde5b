"""The credit formula (AT-009), from a table including DESIGN.md's worked examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pantheon_core.domain.pricing import PricingVersion

V1 = PricingVersion(version="test", tool_credits={"web_search": Decimal("0.2")})


@pytest.mark.parametrize(
    ("prompt", "cached", "completion", "multiplier", "expected"),
    [
        (12_000, 2_000, 800, "1.0", "0.45"),      # DESIGN.md: OE 4 500
        (12_000, 2_000, 800, "0.3", "0.225"),     # multiplier floored to 0.5
        (12_000, None, 800, "1.0", "0.5"),        # cached missing: all fresh, OE 5 000
        (0, None, 0, "1.0", "0"),
        (1, 0, 0, "1.0", "0.000035"),
        (1, 0, 0, "0.5", "0.000018"),             # 0.0000175 rounds half-up
        (3, 0, 0, "0.5", "0.000053"),             # 0.0000525 -> 0.000053
        (10_000, 10_000, 0, "2.0", "0.2"),        # all cached
        (100, 500, 0, "1.0", "0.001"),            # cached cannot exceed prompt
        (1_000_000, 250_000, 200_000, "1.7", "82.875"),
    ],
)
def test_at_009_credit_formula(prompt: int, cached: int | None, completion: int, multiplier: str,
                               expected: str) -> None:
    credits = V1.credits(prompt_tokens=prompt, completion_tokens=completion,
                         cached_tokens=cached, model_multiplier=Decimal(multiplier))
    assert credits == Decimal(expected)
    assert credits.as_tuple().exponent >= -6


def test_tool_credits_come_from_the_pricing_version() -> None:
    credits = V1.credits(prompt_tokens=12_000, completion_tokens=800, cached_tokens=2_000,
                         model_multiplier=Decimal(1), tool_calls={"web_search": 2, "read_file": 3})
    assert credits == Decimal("0.85")
