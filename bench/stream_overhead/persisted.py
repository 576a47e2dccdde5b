"""What Pantheon wrote while it streamed: turns, steps, events and usage rows (SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path


def check(db_path: Path, turn_ids: Iterable[str]) -> dict[str, object]:
    """Counts over the whole database, and per measured turn: completed, one usage row per
    LLM call, a gap-free event log that ends with ``turn_completed``."""
    ids = sorted(set(turn_ids))
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        def scalar(sql: str, *args: object) -> int:
            return int(conn.execute(sql, args).fetchone()[0])

        def grouped(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in conn.execute(sql).fetchall()}

        conn.execute("CREATE TEMP TABLE measured (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO measured VALUES (?)", [(i,) for i in ids])
        per_turn = conn.execute("""
            SELECT t.id, t.status, t.last_seq,
                   (SELECT count(*) FROM turn_events e WHERE e.turn_id = t.id),
                   (SELECT max(seq) FROM turn_events e WHERE e.turn_id = t.id),
                   (SELECT type FROM turn_events e WHERE e.turn_id = t.id
                     ORDER BY seq DESC LIMIT 1),
                   (SELECT count(*) FROM llm_call_events u WHERE u.turn_id = t.id),
                   (SELECT coalesce(sum(calls), 0) FROM turn_steps s WHERE s.turn_id = t.id),
                   (SELECT count(*) FROM turn_events e
                     WHERE e.turn_id = t.id AND e.type = 'step_delta')
            FROM turns t JOIN measured m ON m.id = t.id""").fetchall()
        found = len(per_turn)
        completed = sum(1 for r in per_turn if r[1] == "completed")
        gap_free = sum(1 for r in per_turn if r[3] == r[4] == r[2] and r[5] == "turn_completed")
        usage_matches = sum(1 for r in per_turn if r[6] == r[7] and r[6] >= 1)
        return {
            "database": str(db_path),
            "client_turn_ids": len(ids),
            "measured_turns_found": found,
            "measured_turns_completed": completed,
            "measured_turns_with_gap_free_event_log": gap_free,
            "measured_turns_with_usage_rows_equal_to_llm_calls": usage_matches,
            "measured_turn_step_delta_events": sum(r[8] for r in per_turn),
            "measured_turn_usage_rows": sum(r[6] for r in per_turn),
            "all_turns_by_status": grouped("SELECT status, count(*) FROM turns GROUP BY 1"),
            "all_turn_events_by_type": grouped(
                "SELECT type, count(*) FROM turn_events GROUP BY 1"),
            "all_turn_steps": scalar("SELECT count(*) FROM turn_steps"),
            "all_usage_rows_by_status": grouped(
                "SELECT status, count(*) FROM llm_call_events GROUP BY 1"),
            "all_usage_rows_by_purpose": grouped(
                "SELECT purpose, count(*) FROM llm_call_events GROUP BY 1"),
            "ok": bool(ids) and found == completed == gap_free == usage_matches == len(ids),
        }
    finally:
        conn.close()
