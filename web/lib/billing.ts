/** What the billing page works out from the ledger. */
import type { LedgerEntry } from "./api/types";

/** Ledger kinds that are holds for a call in progress and their return. */
export const HOLDS = new Set(["reserve", "release"]);

/**
 * Credits still held by calls in progress: for each reservation among `entries`, what its
 * holds took and its releases have not yet given back. The API has no "reserved" balance;
 * holds last as long as one call (a sweep releases stale ones), so the newest page of the
 * ledger holds every open one.
 */
export function heldCredits(entries: readonly Pick<LedgerEntry, "kind" | "amount" | "reservation_id">[]): number {
  const net = new Map<string, number>();
  for (const e of entries) {
    if (!e.reservation_id || !HOLDS.has(e.kind)) continue;
    net.set(e.reservation_id, (net.get(e.reservation_id) ?? 0) + Number(e.amount));
  }
  let held = 0;
  for (const v of net.values()) if (v < -1e-9) held -= v;
  return Math.round(held * 1e6) / 1e6;
}
