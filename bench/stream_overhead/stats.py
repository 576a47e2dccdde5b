"""Percentiles and the "added" overhead of a target over the direct-to-provider baseline.

Method (also in bench/README.md): at each concurrency, the baseline is the same load sent
straight to the fake provider. A target's added time at percentile p is
``target_p − baseline_p`` (paired per percentile: the p95 of the target is compared with
the p95 of the baseline, so the provider's and client's own tail is not counted as
overhead). Both targets are compared with the very same baseline, so which one adds less
does not depend on this choice; ``added_vs_median`` (``target_p − baseline_p50``) is
reported too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.stream_overhead.load import Sample

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    out = {f"p{p}": round(percentile(values, p) * 1000, 2) for p in PERCENTILES}
    if values:
        out["mean"] = round(sum(values) / len(values) * 1000, 2)
        out["min"] = round(min(values) * 1000, 2)
        out["max"] = round(max(values) * 1000, 2)
    return out


def describe(samples: Sequence[Sample]) -> dict[str, object]:
    ok = [s for s in samples if s.ok]
    errors: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            key = (s.error or "unknown")[:120]
            errors[key] = errors.get(key, 0) + 1
    return {
        "requests": len(samples), "ok": len(ok), "failed": len(samples) - len(ok),
        "errors": errors,
        "ttft_ms": summary_ms([s.ttft_s for s in ok if s.ttft_s is not None]),
        "total_ms": summary_ms([s.total_s for s in ok]),
    }


def added(target: dict[str, object], baseline: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for metric in ("ttft_ms", "total_ms"):
        t, b = target[metric], baseline[metric]
        assert isinstance(t, dict) and isinstance(b, dict)
        name = metric.replace("_ms", "")
        out[f"added_{name}_ms"] = {f"p{p}": round(t[f"p{p}"] - b[f"p{p}"], 2)
                                   for p in PERCENTILES}
        out[f"added_{name}_vs_median_ms"] = {f"p{p}": round(t[f"p{p}"] - b["p50"], 2)
                                             for p in PERCENTILES}
    return out
