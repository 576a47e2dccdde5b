"use client";
import Link from "next/link";
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AgentAvatar } from "@/components/agent-avatar";
import { Composer } from "@/components/composer";
import { FileIcon, SettingsIcon } from "@/components/icons";
import { FilesPanel } from "@/components/files-panel";
import { ModeSwitch, pendingOf } from "@/components/mode-switch";
import { useSession } from "@/components/session-provider";
import { TurnBlock } from "@/components/turn-block";
import { useQueryParam } from "@/hooks/use-query-param";
import { useTurnStream } from "@/hooks/use-turn-stream";
import { api, asAccepted, call, JSON_ONLY } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { Room, RoomDetail } from "@/lib/api/types";
import { bareHandle } from "@/lib/format";
import { useStickToBottom } from "@/hooks/use-stick-to-bottom";

function composerHint(mode: string, agents: number): string {
  if (mode === "manual") return "Manual: only the agents you @tag answer. Type @ to pick one.";
  if (mode === "orchestrator") return "Orchestrator: a manager picks the agents, then writes a synthesis.";
  if (agents === 1) return "Roundtable: your one agent answers. Add more to hear several views.";
  return `Roundtable: all ${agents} agents answer in order, each seeing the ones before it.`;
}

function Workspace({ roomId }: { roomId: string }) {
  const { refreshWallet, refreshRooms } = useSession();
  const [room, setRoom] = useState<RoomDetail | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [sendError, setSendError] = useState<ApiError | null>(null);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const insertRef = useRef<((handle: string) => void) | null>(null);
  const [filesOpen, setFilesOpen] = useState(false);
  const owner = useMemo(() => ({ roomId }), [roomId]);

  useEffect(() => {
    call(api.GET("/api/v1/rooms/{room_id}", { params: { path: { room_id: roomId } } }))
      .then(setRoom)
      .catch((err: unknown) => setLoadError(err instanceof ApiError ? err : ApiError.network(err)));
  }, [roomId]);

  const loadPage = useCallback(
    (before: string | null) =>
      call(api.GET("/api/v1/rooms/{room_id}/timeline", {
        params: { path: { room_id: roomId }, query: before ? { before, limit: 20 } : { limit: 20 } },
      })),
    [roomId],
  );
  const conversation = useTurnStream(roomId, loadPage, () => void refreshWallet());
  const running = conversation.turns.find((t) => t.status === "running");
  const scroller = useStickToBottom([conversation.turns]);

  async function send(text: string): Promise<boolean> {
    setSendError(null);
    try {
      const accepted = asAccepted(await call(
        api.POST("/api/v1/rooms/{room_id}/messages", {
          params: { path: { room_id: roomId } }, body: { content: text }, headers: JSON_ONLY,
        }),
      ));
      conversation.follow(accepted.turn, accepted.stream_url);
      setRoom((r) => (r ? { ...r, current_mode: accepted.turn.mode as Room["current_mode"], pending_mode: null } : r));
      scroller.toBottom();
      void refreshRooms();
      return true;
    } catch (err) {
      setSendError(err instanceof ApiError ? err : ApiError.network(err));
      return false;
    }
  }

  async function cancel(turnId: string) {
    setCancelling(turnId);
    try {
      await conversation.cancel(turnId);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "turn_not_running")) {
        setSendError(err instanceof ApiError ? err : ApiError.network(err));
      }
    } finally {
      setCancelling(null);
    }
  }

  if (loadError) {
    return (
      <div className="page"><div className="page-inner">
        <div className="alert alert-error" role="alert">
          <div className="alert-body"><strong>This room could not be opened.</strong> {loadError.message}</div>
        </div>
        <p style={{ marginTop: "1rem" }}><Link href="/">Back to your rooms</Link></p>
      </div></div>
    );
  }
  if (!room) {
    return <div className="page"><div className="page-inner"><p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading room…</p></div></div>;
  }

  const next = pendingOf(room) ?? room.current_mode;
  const validHandles = Array.isArray(sendError?.details.valid_handles)
    ? (sendError.details.valid_handles as string[]).map((h) => h.replace(/^@/, ""))
    : [];

  return (
    <div className="room-layout">
    <div className="room">
      <header className="room-head">
        <div className="room-title">
          <h1 data-testid="room-name">{room.name}</h1>
          <div className="roster-line" aria-label="Agents">
            {room.agents.length === 0 ? "No agents yet" : room.agents.map((a) => (
              <span key={a.id} style={{ display: "inline-flex", alignItems: "center", gap: 4, marginRight: 8 }}>
                <AgentAvatar name={a.name} size={18} /> {a.name}
              </span>
            ))}
          </div>
        </div>
        <ModeSwitch room={room} onChange={(r) => { setRoom({ ...room, ...r }); void refreshRooms(); }} />
        <div className="room-head-actions">
          <button className="btn btn-ghost btn-sm" type="button" aria-expanded={filesOpen}
            onClick={() => setFilesOpen((o) => !o)} data-testid="files-toggle">
            <FileIcon /> <span className="btn-label">Files</span>
          </button>
          <Link className="btn btn-ghost btn-sm" href={`/room/settings/?id=${roomId}`} data-testid="room-settings">
            <SettingsIcon /> <span className="btn-label">Agents &amp; settings</span>
          </Link>
        </div>
      </header>

      <div className="timeline" ref={scroller.ref} onScroll={scroller.onScroll} role="log" aria-label="Conversation" tabIndex={0}
        data-testid="timeline">
        <div className="timeline-inner">
          {conversation.hasOlder && (
            <button className="btn btn-sm" type="button" style={{ alignSelf: "center" }}
              onClick={() => void conversation.loadOlder()}>Load earlier messages</button>
          )}
          {conversation.loadError && (
            <div className="alert alert-error" role="alert">
              <div className="alert-body">{conversation.loadError.message}</div>
              <button className="btn btn-sm" type="button" onClick={() => void conversation.reload()}>Retry</button>
            </div>
          )}
          {!conversation.loading && conversation.turns.length === 0 && (
            <div className="empty">
              <h3>Start the conversation</h3>
              <p>{room.agents.length ? composerHint(next, room.agents.length) : "Add agents to this room first."}</p>
            </div>
          )}
          {conversation.turns.map((turn) => (
            <TurnBlock key={turn.turnId} turn={turn} live={conversation.live[turn.turnId]}
              cancelling={cancelling === turn.turnId}
              onCancel={() => void cancel(turn.turnId)} onResume={() => conversation.resume(turn.turnId)} />
          ))}
        </div>
      </div>

      <div className="composer-wrap">
        <div className="composer-inner">
          {room.agents.length === 0 && (
            <div className="alert alert-info">
              <div className="alert-body">This room has no agents yet. <Link href={`/room/settings/?id=${roomId}`}>Add agents</Link> to start.</div>
            </div>
          )}
          {sendError && (
            <div className="alert alert-error" role="alert" data-testid="send-error" data-code={sendError.code}>
              <div className="alert-body">
                <strong>{sendError.code === "no_valid_tags" ? "Tag an agent to send in manual mode." : "Your message was not sent."}</strong>{" "}
                {sendError.message}
                {validHandles.length > 0 && (
                  <div className="alert-actions">
                    {validHandles.map((h) => (
                      <button key={h} className="btn btn-sm" type="button"
                        onClick={() => { insertRef.current?.(h); setSendError(null); }}>@{h}</button>
                    ))}
                  </div>
                )}
              </div>
              <button className="btn btn-ghost btn-sm" type="button" aria-label="Dismiss" onClick={() => setSendError(null)}>✕</button>
            </div>
          )}
        </div>
        <Composer
          agents={room.agents.map((a) => ({ name: a.name, handle: bareHandle(a.handle), model_alias: a.model_alias }))}
          placeholder={next === "manual" ? "Message — tag agents with @" : `Message ${room.name}`}
          hint={composerHint(next, room.agents.length)}
          running={Boolean(running)}
          disabled={room.agents.length === 0}
          onSend={send}
          onStop={() => running && void cancel(running.turnId)}
          insertRef={insertRef}
        />
      </div>
    </div>
    {filesOpen && <FilesPanel owner={owner} onClose={() => setFilesOpen(false)} />}
    </div>
  );
}

function Page() {
  const roomId = useQueryParam("id");
  if (!roomId) return <div className="page"><div className="page-inner"><div className="alert alert-error" role="alert">No room given.</div></div></div>;
  return <Workspace key={roomId} roomId={roomId} />;
}

export default function RoomPage() {
  return (
    <Suspense fallback={null}>
      <Page />
    </Suspense>
  );
}
