"""Rate limiters: in-process for one machine, Redis when several processes share the limits."""
