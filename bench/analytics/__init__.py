"""``make bench-analytics``: admin analytics from rollups vs the same answers from raw events."""
