"""The turn engine: a small graph of nodes (plan, worker steps, synthesis) run by a loop
that emits events, meters every LLM call and persists the outcome."""
