"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AgentAvatar } from "@/components/agent-avatar";
import { Composer } from "@/components/composer";
import { FilesPanel } from "@/components/files-panel";
import { ErrorAlert } from "@/components/error-alert";
import { FileIcon, TrashIcon } from "@/components/icons";
import { useSession } from "@/components/session-provider";
import { useToast } from "@/components/toast";
import { TurnBlock } from "@/components/turn-block";
import { undoToast } from "@/components/undo-toast";
import { useQueryParam } from "@/hooks/use-query-param";
import { useStickToBottom } from "@/hooks/use-stick-to-bottom";
import { useTurnStream } from "@/hooks/use-turn-stream";
import { api, asAccepted, call, JSON_ONLY } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { DirectSession } from "@/lib/api/types";
import { focusWhenReady } from "@/lib/focus";
import { MODEL_LABELS } from "@/lib/format";

function DirectChat({ sessionId }: { sessionId: string }) {
  const router = useRouter();
  const { refreshWallet, refreshDirects } = useSession();
  const { show } = useToast();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<ApiError | null>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const [session, setSession] = useState<DirectSession | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [sendError, setSendError] = useState<ApiError | null>(null);
  const [filesOpen, setFilesOpen] = useState(false);
  const owner = useMemo(() => ({ directSessionId: sessionId }), [sessionId]);

  useEffect(() => {
    call(api.GET("/api/v1/direct-sessions/{session_id}", { params: { path: { session_id: sessionId } } }))
      .then(setSession)
      .catch((err: unknown) => setLoadError(err instanceof ApiError ? err : ApiError.network(err)));
  }, [sessionId]);

  const loadPage = useCallback(
    (before: string | null) =>
      call(api.GET("/api/v1/direct-sessions/{session_id}/history", {
        params: { path: { session_id: sessionId }, query: before ? { before, limit: 20 } : { limit: 20 } },
      })),
    [sessionId],
  );
  const conversation = useTurnStream(sessionId, loadPage, () => void refreshWallet());
  const running = conversation.turns.find((t) => t.status === "running");
  const scroller = useStickToBottom([conversation.turns]);

  async function send(text: string): Promise<boolean> {
    setSendError(null);
    try {
      const accepted = asAccepted(await call(api.POST("/api/v1/direct-sessions/{session_id}/messages", {
        params: { path: { session_id: sessionId } }, body: { content: text }, headers: JSON_ONLY,
      })));
      conversation.follow(accepted.turn, accepted.stream_url);
      scroller.toBottom();
      return true;
    } catch (err) {
      setSendError(err instanceof ApiError ? err : ApiError.network(err));
      return false;
    }
  }

  function keepChat() {
    setConfirmDelete(false);
    focusWhenReady(() => deleteButton.current);
  }

  async function deleteChat(title: string) {
    if (deleting) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await call(api.DELETE("/api/v1/direct-sessions/{session_id}", { params: { path: { session_id: sessionId } } }));
    } catch (err) {
      setDeleteError(err instanceof ApiError ? err : ApiError.network(err));
      setDeleting(false);
      return;
    }
    await refreshDirects().catch(() => undefined);
    router.push("/");
    // This page goes away with the chat: focus goes to the toast's Undo.
    show(undoToast({
      subject: `Chat “${title}”`, focus: true,
      restore: async () => {
        await call(api.POST("/api/v1/direct-sessions/{session_id}/restore", {
          params: { path: { session_id: sessionId } },
        }));
        await refreshDirects().catch(() => undefined);
      },
      restored: { action: { label: "Open chat", run: async () => router.push(`/direct/?id=${sessionId}`) } },
    }));
  }

  if (loadError) {
    return <div className="page"><div className="page-inner"><div className="alert alert-error" role="alert">{loadError.message}</div>
      <p style={{ marginTop: "1rem" }}><Link href="/">Back home</Link></p></div></div>;
  }
  if (!session) {
    return <div className="page"><div className="page-inner"><p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading chat…</p></div></div>;
  }
  const agent = session.agent;

  return (
    <div className="room-layout">
      <div className="room">
        <header className="room-head">
          <AgentAvatar name={agent.name} />
          <div className="room-title">
            <h1 data-testid="room-name">{session.title || agent.name}</h1>
            <div className="roster-line" style={{ display: "flex" }}>
              Direct chat with {agent.name} · {MODEL_LABELS[agent.model_alias] ?? agent.model_alias}
              {agent.tools.web_search ? " · web search" : ""}{agent.tools.files ? " · files" : ""}
            </div>
          </div>
          <div className="room-head-actions">
            {confirmDelete ? (
              <div className="confirm-inline" role="group" aria-labelledby={`confirm-${sessionId}`}
                onKeyDown={(e) => e.key === "Escape" && keepChat()}>
                <span className="hint" id={`confirm-${sessionId}`}>Delete this chat?</span>
                <button className="btn btn-danger btn-sm" type="button" autoFocus aria-disabled={deleting || undefined}
                  onClick={() => void deleteChat(session.title || agent.name)} data-testid="confirm-delete-chat">
                  Delete chat
                </button>
                <button className="btn btn-sm" type="button" onClick={keepChat}>Keep it</button>
              </div>
            ) : (
              <>
                <button className="btn btn-ghost btn-sm" type="button" aria-expanded={filesOpen}
                  onClick={() => setFilesOpen((o) => !o)} data-testid="files-toggle">
                  <FileIcon /> <span className="btn-label">Files</span>
                </button>
                <button ref={deleteButton} className="btn btn-ghost btn-sm" type="button" onClick={() => setConfirmDelete(true)}
                  data-testid="delete-chat">
                  <TrashIcon /> <span className="btn-label">Delete chat…</span>
                </button>
              </>
            )}
          </div>
          {deleteError && (
            <div style={{ width: "100%" }}>
              <ErrorAlert error={deleteError} title="The chat was not deleted" testId="delete-error"
                onDismiss={() => setDeleteError(null)} />
            </div>
          )}
        </header>
        <div className="timeline" ref={scroller.ref} onScroll={scroller.onScroll} role="log" aria-label="Conversation" tabIndex={0}>
          <div className="timeline-inner">
            {conversation.hasOlder && (
              <button className="btn btn-sm" type="button" style={{ alignSelf: "center" }}
                onClick={() => void conversation.loadOlder()}>Load earlier messages</button>
            )}
            {!conversation.loading && conversation.turns.length === 0 && (
              <div className="empty">
                <h3>Chat 1:1 with {agent.name}</h3>
                <p>{agent.role_prompt || "Ask anything."}</p>
              </div>
            )}
            {conversation.turns.map((turn) => (
              <TurnBlock key={turn.turnId} turn={turn} live={conversation.live[turn.turnId]} cancelling={false}
                onCancel={() => void conversation.cancel(turn.turnId).catch(() => undefined)}
                onResume={() => conversation.resume(turn.turnId)} />
            ))}
          </div>
        </div>
        <div className="composer-wrap">
          {sendError && (
            <div className="composer-inner">
              <div className="alert alert-error" role="alert" data-testid="send-error" data-code={sendError.code}>
                <div className="alert-body"><strong>Your message was not sent.</strong> {sendError.message}</div>
              </div>
            </div>
          )}
          <Composer agents={[]} placeholder={`Message ${agent.name}`} hint={`Direct: only ${agent.name} answers, with its own memory.`}
            running={Boolean(running)} onSend={send}
            onStop={() => running && void conversation.cancel(running.turnId).catch(() => undefined)} />
        </div>
      </div>
      {filesOpen && <FilesPanel owner={owner} onClose={() => setFilesOpen(false)} />}
    </div>
  );
}

function Page() {
  const id = useQueryParam("id");
  if (!id) return <div className="page"><div className="page-inner"><div className="alert alert-error" role="alert">No chat given.</div></div></div>;
  return <DirectChat key={id} sessionId={id} />;
}

export default function DirectPage() {
  return (
    <Suspense fallback={null}>
      <Page />
    </Suspense>
  );
}
