"use client";
/**
 * Recently deleted (FR-DATA-001..002): the rooms and direct chats in the 7-day trash, each
 * with the time it will be purged and a Restore button. Removed agents and deleted files are
 * restored where they were (a room's settings, a Files panel).
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { ErrorAlert } from "@/components/error-alert";
import { ChatIcon } from "@/components/icons";
import { useSession } from "@/components/session-provider";
import { useToast } from "@/components/toast";
import { useLoad } from "@/hooks/use-load";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { DirectSession, Room } from "@/lib/api/types";
import { byData, focusWhenReady } from "@/lib/focus";
import { formatDateTime, timeAgo } from "@/lib/format";
import { RESTORE_DAYS, restoreDeadline, restoreFailure, stillRestorable, timeUntil } from "@/lib/trash";

interface Item {
  kind: "room" | "direct";
  key: string;
  id: string;
  name: string;
  note: string;
  deletedAt: string | null;
  until: string | null;
}

function roomItem(room: Room): Item {
  return {
    kind: "room", key: `room:${room.id}`, id: room.id, name: room.name, note: room.description,
    deletedAt: room.deleted_at, until: restoreDeadline(room),
  };
}

function directItem(session: DirectSession): Item {
  return {
    kind: "direct", key: `direct:${session.id}`, id: session.id, name: session.title || session.agent.name,
    note: `Direct chat with ${session.agent.name}`, deletedAt: session.deleted_at ?? null, until: restoreDeadline(session),
  };
}

async function loadTrash() {
  const [rooms, directs] = await Promise.all([
    call(api.GET("/api/v1/rooms", { params: { query: { deleted: true } } })),
    call(api.GET("/api/v1/direct-sessions", { params: { query: { deleted: true } } })),
  ]);
  return { rooms: rooms.rooms.map(roomItem), directs: directs.sessions.map(directItem) };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const rest = { ...record };
  delete rest[key];
  return rest;
}

/** Re-renders every minute, so "in 5 hours" stays true while the page is open. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

export default function TrashPage() {
  const router = useRouter();
  const { refreshRooms, refreshDirects } = useSession();
  const { show } = useToast();
  const now = useNow();
  const trash = useLoad(loadTrash, []);
  const [restored, setRestored] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, ApiError>>({});
  const heading = useRef<HTMLHeadingElement>(null);

  const rooms = (trash.data?.rooms ?? []).filter((i) => !restored.has(i.key));
  const directs = (trash.data?.directs ?? []).filter((i) => !restored.has(i.key));
  const all = [...rooms, ...directs];

  async function restore(item: Item) {
    if (busy) return;
    setBusy(item.key);
    setErrors((e) => without(e, item.key));
    try {
      if (item.kind === "room") {
        await call(api.POST("/api/v1/rooms/{room_id}/restore", { params: { path: { room_id: item.id } } }));
        void refreshRooms().catch(() => undefined);
      } else {
        await call(api.POST("/api/v1/direct-sessions/{session_id}/restore", {
          params: { path: { session_id: item.id } },
        }));
        void refreshDirects().catch(() => undefined);
      }
      // Focus moves to the next Restore button (the one pressed is gone), else the heading.
      const index = all.findIndex((i) => i.key === item.key);
      const next = all[index + 1] ?? all[index - 1];
      setRestored((s) => new Set(s).add(item.key));
      focusWhenReady(() => (next ? byData("restore", next.key) : heading.current));
      const href = item.kind === "room" ? `/room/?id=${item.id}` : `/direct/?id=${item.id}`;
      show({
        message: `${item.kind === "room" ? "Room" : "Chat"} “${item.name}” restored`,
        tone: "success",
        action: { label: "Open", run: async () => router.push(href) },
      });
    } catch (err) {
      setErrors((e) => ({ ...e, [item.key]: toApiError(err) }));
    } finally {
      setBusy(null);
    }
  }

  function row(item: Item) {
    const error = errors[item.key];
    const failure = error ? restoreFailure(error) : null;
    const left = item.until ? timeUntil(item.until, now) : "";
    const open = stillRestorable({ restorable_until: item.until }, now);
    return (
      <li key={item.key} className="trash-row" data-testid={`trash-${item.kind}`} data-id={item.id}>
        <div className="trash-main">
          <span className="room-glyph" aria-hidden="true">
            {item.kind === "room" ? item.name.slice(0, 1).toUpperCase() : <ChatIcon />}
          </span>
          <div className="trash-info">
            <div className="trash-name">{item.name}</div>
            {item.note && <div className="trash-note">{item.note}</div>}
            <div className="trash-when">
              {item.deletedAt && <span>Deleted {timeAgo(item.deletedAt, now)}</span>}
              {item.until && (
                <span data-testid="restorable-until">
                  {open ? "Restorable until " : "Restore window closed on "}
                  <time dateTime={item.until}>{formatDateTime(item.until)}</time>
                  {left && <> ({left})</>}
                </span>
              )}
            </div>
          </div>
          <button className="btn btn-sm" type="button" data-restore={item.key} aria-label={`Restore ${item.name}`}
            aria-disabled={busy === item.key || undefined} onClick={() => void restore(item)}>
            {busy === item.key && <span className="spinner" aria-hidden="true" />}
            Restore
          </button>
        </div>
        {error && failure && (
          <ErrorAlert error={error} title={failure.title} message={failure.message} testId="restore-error"
            onDismiss={() => setErrors((e) => without(e, item.key))} />
        )}
      </li>
    );
  }

  return (
    <div className="page">
      <div className="page-inner">
        <div className="page-head">
          <div>
            <h1 ref={heading} tabIndex={-1}>Recently deleted</h1>
            <p>
              Deleted rooms and direct chats stay here for {RESTORE_DAYS} days, then they are purged for good.
              Removed agents and deleted files come back from the room’s settings and its Files panel.
            </p>
          </div>
        </div>

        {trash.error && (
          <ErrorAlert error={trash.error} title="Recently deleted could not be loaded" testId="trash-error">
            <div className="alert-actions">
              <button className="btn btn-sm" type="button" onClick={trash.reload}>Try again</button>
            </div>
          </ErrorAlert>
        )}
        {!trash.data && trash.loading && (
          <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading…</p>
        )}
        {trash.data && all.length === 0 && (
          <div className="card empty" data-testid="trash-empty">
            <h2 className="empty-title">Nothing recently deleted</h2>
            <p>
              When you delete a room or a direct chat, it stays here for {RESTORE_DAYS} days so you can restore it.
            </p>
            <p style={{ marginTop: "1rem" }}><Link href="/" className="btn">Back home</Link></p>
          </div>
        )}
        {trash.data && all.length > 0 && (
          <>
            <section className="section" aria-labelledby="trash-rooms">
              <div className="section-head"><h2 id="trash-rooms">Rooms <span className="hint">({rooms.length})</span></h2></div>
              {rooms.length === 0 ? (
                <p className="hint">No deleted rooms.</p>
              ) : (
                <ul className="card list-plain" aria-labelledby="trash-rooms">{rooms.map(row)}</ul>
              )}
            </section>
            <section className="section" aria-labelledby="trash-directs">
              <div className="section-head">
                <h2 id="trash-directs">Direct chats <span className="hint">({directs.length})</span></h2>
              </div>
              {directs.length === 0 ? (
                <p className="hint">No deleted direct chats.</p>
              ) : (
                <ul className="card list-plain" aria-labelledby="trash-directs">{directs.map(row)}</ul>
              )}
            </section>
          </>
        )}
      </div>
    </div>
  );
}
