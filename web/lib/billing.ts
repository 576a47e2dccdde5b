/** What the billing page needs to know about ledger kinds. */

/** Ledger kinds that are holds for a call in progress and their return (hidden by default in
 * the ledger table; the wallet's `balances.reserved` says how much is held right now). */
export const HOLDS = new Set(["reserve", "release"]);
