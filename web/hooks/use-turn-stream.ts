"use client";
/**
 * The turns of a conversation (a room session or a direct chat): history from the API,
 * live turns from their event streams, folded the same way (lib/stream).
 *
 * - A turn still running when the page loads is resumed from its durable snapshot, after
 *   its `last_seq` (so a reload picks up where the server is, not from scratch).
 * - A sent turn is read from seq 1; a dropped connection is resumed with Last-Event-ID by
 *   the reader; events are applied once each (seq de-duplication in `applyEvent`).
 * - If the reader gives up (`stream_lost`), the turn shows a retry that resumes from the
 *   last seq folded.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api, call } from "@/lib/api/client";
import { apiUrl } from "@/lib/api/base-url";
import { ApiError } from "@/lib/api/errors";
import type { TimelinePage, Turn } from "@/lib/api/types";
import { turnFromEntry, turnFromSnapshot } from "@/lib/stream/from-api";
import { applyEvent, emptyTurn, type TurnView } from "@/lib/stream/turn-state";
import { isAbort, readTurnEvents, type ConnectionState } from "@/lib/stream/turn-stream";

export interface LiveInfo {
  state: ConnectionState | "lost";
  error: ApiError | null;
}

export interface Conversation {
  turns: TurnView[];
  live: Record<string, LiveInfo>;
  loading: boolean;
  loadError: ApiError | null;
  hasOlder: boolean;
  loadOlder: () => Promise<void>;
  reload: () => Promise<void>;
  /** Adds a just-accepted turn and starts reading its stream. */
  follow: (turn: Turn, streamUrl: string) => void;
  resume: (turnId: string) => void;
  cancel: (turnId: string) => Promise<void>;
}

type PageLoader = (before: string | null) => Promise<TimelinePage>;

export function useTurnStream(
  key: string | null,
  loadPage: PageLoader,
  onTurnEnded?: (turn: TurnView) => void,
): Conversation {
  const [turns, setTurns] = useState<TurnView[]>([]);
  const [live, setLive] = useState<Record<string, LiveInfo>>({});
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const readers = useRef(new Map<string, AbortController>());
  const turnsRef = useRef<TurnView[]>([]);
  const loaderRef = useRef(loadPage);
  const endedRef = useRef(onTurnEnded);
  loaderRef.current = loadPage;
  endedRef.current = onTurnEnded;

  const update = useCallback((f: (turns: TurnView[]) => TurnView[]) => {
    setTurns((prev) => {
      const next = f(prev);
      turnsRef.current = next;
      return next;
    });
  }, []);

  const setLiveOf = useCallback((turnId: string, info: LiveInfo | null) => {
    setLive((prev) => {
      const next = { ...prev };
      if (info) next[turnId] = info;
      else delete next[turnId];
      return next;
    });
  }, []);

  const read = useCallback(
    (turnId: string, url: string, after: number) => {
      readers.current.get(turnId)?.abort();
      const controller = new AbortController();
      readers.current.set(turnId, controller);
      setLiveOf(turnId, { state: "connecting", error: null });
      readTurnEvents({
        url,
        after,
        signal: controller.signal,
        onEvent: (event) =>
          update((all) => all.map((t) => (t.turnId === turnId ? applyEvent(t, event) : t))),
        onState: (state) => setLiveOf(turnId, { state, error: null }),
      })
        .then(() => {
          setLiveOf(turnId, null);
          const ended = turnsRef.current.find((t) => t.turnId === turnId);
          if (ended) endedRef.current?.(ended);
        })
        .catch((err: unknown) => {
          if (isAbort(err)) return;
          const error = err instanceof ApiError ? err : ApiError.network(err);
          setLiveOf(turnId, { state: "lost", error });
        })
        .finally(() => {
          if (readers.current.get(turnId) === controller) readers.current.delete(turnId);
        });
    },
    [setLiveOf, update],
  );

  const eventsUrl = (turnId: string) => apiUrl(`/api/v1/turns/${encodeURIComponent(turnId)}/events`);

  const resumeRunning = useCallback(
    async (turnId: string) => {
      try {
        const snapshot = await call(
          api.GET("/api/v1/turns/{turn_id}", { params: { path: { turn_id: turnId } } }),
        );
        const view = turnFromSnapshot(snapshot);
        update((all) => all.map((t) => (t.turnId === turnId ? view : t)));
        if (view.status === "running") read(turnId, eventsUrl(turnId), view.lastSeq);
      } catch (err) {
        setLiveOf(turnId, { state: "lost", error: err instanceof ApiError ? err : ApiError.network(err) });
      }
    },
    [read, setLiveOf, update],
  );

  const reload = useCallback(async () => {
    for (const c of readers.current.values()) c.abort();
    readers.current.clear();
    setLive({});
    setLoading(true);
    setLoadError(null);
    try {
      const page = await loaderRef.current(null);
      const views = page.entries.map(turnFromEntry);
      update(() => views);
      setNextBefore(page.next_before);
      for (const v of views) if (v.status === "running") void resumeRunning(v.turnId);
    } catch (err) {
      setLoadError(err instanceof ApiError ? err : ApiError.network(err));
    } finally {
      setLoading(false);
    }
  }, [resumeRunning, update]);

  useEffect(() => {
    if (key === null) return;
    void reload();
    const current = readers.current;
    return () => {
      for (const c of current.values()) c.abort();
      current.clear();
    };
  }, [key, reload]);

  const loadOlder = useCallback(async () => {
    if (!nextBefore) return;
    const page = await loaderRef.current(nextBefore);
    const older = page.entries.map(turnFromEntry);
    update((all) => [...older.filter((o) => !all.some((t) => t.turnId === o.turnId)), ...all]);
    setNextBefore(page.next_before);
  }, [nextBefore, update]);

  const follow = useCallback(
    (turn: Turn, streamUrl: string) => {
      const view = emptyTurn(turn.id, {
        mode: turn.mode,
        message: turn.message,
        createdAt: turn.created_at,
      });
      update((all) => [...all.filter((t) => t.turnId !== turn.id), view]);
      read(turn.id, streamUrl.startsWith("/") ? apiUrl(streamUrl) : streamUrl, 0);
    },
    [read, update],
  );

  const resume = useCallback(
    (turnId: string) => {
      const view = turnsRef.current.find((t) => t.turnId === turnId);
      read(turnId, eventsUrl(turnId), view?.lastSeq ?? 0);
    },
    [read],
  );

  const cancel = useCallback(async (turnId: string) => {
    await call(api.POST("/api/v1/turns/{turn_id}/cancel", { params: { path: { turn_id: turnId } } }));
  }, []);

  return {
    turns,
    live,
    loading,
    loadError,
    hasOlder: nextBefore !== null,
    loadOlder,
    reload,
    follow,
    resume,
    cancel,
  };
}
