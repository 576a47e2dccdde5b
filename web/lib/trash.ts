/**
 * The 7-day trash (FR-DATA-001..002, docs/retention.md): whatever a user deletes can be
 * restored for 7 days, then it is purged. How the screens word its deadline and a failed
 * restore.
 */
import type { ApiError } from "./api/errors";

/** The server's restore window (pantheon_core/domain/trash.py RESTORE_WINDOW): a fallback for
 * an item that carries `deleted_at` without `restorable_until` (every list gives both now). */
export const RESTORE_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Trashed {
  deleted_at?: string | null;
  restorable_until?: string | null;
}

/** When a deleted thing stops being restorable (the server's `restorable_until` when it
 * gives one, else `deleted_at` + 7 days); null for something that is not deleted. */
export function restoreDeadline(item: Trashed): string | null {
  if (item.restorable_until) return item.restorable_until;
  if (!item.deleted_at) return null;
  const t = Date.parse(item.deleted_at);
  return Number.isFinite(t) ? new Date(t + RESTORE_DAYS * DAY_MS).toISOString() : null;
}

const RELATIVE = new Intl.RelativeTimeFormat("en-US", { numeric: "always" });

/** How long until `iso`, in words: "in 7 days", "in 5 hours", "in 12 minutes",
 * "in less than a minute"; "" for a time already past (or unreadable). */
export function timeUntil(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t) || t <= now) return "";
  const minutes = (t - now) / 60_000;
  if (minutes < 1) return "in less than a minute";
  if (minutes < 60) return RELATIVE.format(Math.round(minutes), "minute");
  const hours = minutes / 60;
  if (hours < 36) return RELATIVE.format(Math.round(hours), "hour");
  return RELATIVE.format(Math.round(hours / 24), "day");
}

/** Whether the restore window is still open at `now` (the server has the last word). */
export function stillRestorable(item: Trashed, now: number = Date.now()): boolean {
  const until = restoreDeadline(item);
  return until !== null && Date.parse(until) >= now;
}

/** A failed restore, said plainly: a title and a sentence for the codes a restore answers
 * (the server's message otherwise). */
export function restoreFailure(error: ApiError): { title: string; message: string } {
  switch (error.code) {
    case "restore_window_expired":
      return {
        title: "It can no longer be restored",
        message: `It was deleted more than ${RESTORE_DAYS} days ago, so it has been (or is about to be) purged for good.`,
      };
    case "retention_expired":
      return {
        title: "It can no longer be restored",
        message: "It was older than this server keeps chats and files, and has been purged.",
      };
    case "duplicate_agent_name":
      return {
        title: "Another agent has this name now",
        message: "Rename or remove the other agent, then restore this one.",
      };
    case "agent_limit_reached":
      return { title: "This room is full", message: "Remove an agent first, then restore this one." };
    case "room_storage_full":
      return { title: "This file no longer fits", message: "Delete other files in this room, then restore it." };
    case "room_not_deleted":
    case "agent_not_deleted":
    case "direct_session_not_deleted":
      return { title: "Already restored", message: "It is back already." };
    default:
      return { title: error.status === 404 ? "It is gone" : "It could not be restored", message: error.message };
  }
}
