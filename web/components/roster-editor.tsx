"use client";
/**
 * A room's agents: add, edit, remove, and reorder — by drag and drop, or from the keyboard
 * with the move buttons. Order is the roundtable order; changes apply at the next send.
 * A removed agent can be restored for 7 days: from the toast's Undo, or from "Recently
 * removed" below the roster (it comes back last in the order).
 */
import { Fragment, useCallback, useEffect, useId, useState, type DragEvent } from "react";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { Agent, ModelInfo } from "@/lib/api/types";
import { MODEL_LABELS, bareHandle, formatDateTime } from "@/lib/format";
import { byData, focusWhenReady } from "@/lib/focus";
import { restoreDeadline, restoreFailure, timeUntil } from "@/lib/trash";
import { AgentAvatar } from "./agent-avatar";
import { AgentForm, type AgentDraft } from "./agent-form";
import { ErrorAlert } from "./error-alert";
import { ChatIcon, DownIcon, EditIcon, GripIcon, PlusIcon, TrashIcon, UpIcon } from "./icons";
import { useToast } from "./toast";
import { undoToast } from "./undo-toast";

interface Props {
  onChat?: (agent: Agent) => void;
  roomId: string;
  agents: Agent[];
  models: ModelInfo[];
  allowed: string[] | null;
  onChange: (agents: Agent[]) => void;
}

export function RosterEditor({ roomId, agents, models, allowed, onChange, onChat }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  const [adding, setAdding] = useState(agents.length === 0);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [dragId, setDragId] = useState<string | null>(null);
  const [overId, setOverId] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [removed, setRemoved] = useState<Agent[]>([]);
  const [restoring, setRestoring] = useState<string | null>(null);
  const [restoreError, setRestoreError] = useState<{ id: string; error: ApiError } | null>(null);
  const { show } = useToast();
  const removedId = useId();
  const path = { room_id: roomId };

  const loadRemoved = useCallback(async () => {
    const list = await call(api.GET("/api/v1/rooms/{room_id}/agents", {
      params: { path: { room_id: roomId }, query: { deleted: true } },
    }));
    setRemoved(list.agents);
  }, [roomId]);
  useEffect(() => {
    loadRemoved().catch(() => setRemoved([])); // the trash is an extra: the roster works without it
  }, [loadRemoved]);

  /** After a restore: the live roster (the agent is back, last) and the trash again. */
  const refresh = useCallback(async () => {
    const [live] = await Promise.all([
      call(api.GET("/api/v1/rooms/{room_id}/agents", { params: { path: { room_id: roomId } } })),
      loadRemoved().catch(() => undefined),
    ]);
    onChange(live.agents);
  }, [roomId, loadRemoved, onChange]);

  async function restoreAgent(agent: Agent) {
    if (restoring) return;
    setRestoring(agent.id);
    setRestoreError(null);
    try {
      await call(api.POST("/api/v1/rooms/{room_id}/agents/{agent_id}/restore", {
        params: { path: { room_id: roomId, agent_id: agent.id } },
      }));
      await refresh();
      setStatus(`${agent.name} restored, last in the order.`);
      // The Restore button is gone: focus goes to the agent, back in the roster.
      focusWhenReady(() => byData("edit", agent.id));
    } catch (err) {
      setRestoreError({ id: agent.id, error: toApiError(err) });
    } finally {
      setRestoring(null);
    }
  }

  async function add(draft: AgentDraft) {
    const agent = await call(api.POST("/api/v1/rooms/{room_id}/agents", { params: { path }, body: draft }));
    onChange([...agents, agent]);
    setStatus(`${agent.name} added.`);
    setAdding(false);
  }

  async function edit(agent: Agent, draft: AgentDraft) {
    const updated = await call(
      api.PATCH("/api/v1/rooms/{room_id}/agents/{agent_id}", {
        params: { path: { ...path, agent_id: agent.id } },
        body: draft,
      }),
    );
    onChange(agents.map((a) => (a.id === agent.id ? updated : a)));
    setStatus(`${updated.name} saved.`);
    setEditing(null);
  }

  async function remove(agent: Agent) {
    setError(null);
    try {
      await call(
        api.DELETE("/api/v1/rooms/{room_id}/agents/{agent_id}", { params: { path: { ...path, agent_id: agent.id } } }),
      );
      onChange(agents.filter((a) => a.id !== agent.id));
      void loadRemoved().catch(() => undefined);
      show(undoToast({
        subject: `Agent “${agent.name}”`, verb: "removed", focus: true,
        restore: async () => {
          await call(api.POST("/api/v1/rooms/{room_id}/agents/{agent_id}/restore", {
            params: { path: { room_id: roomId, agent_id: agent.id } },
          }));
          await refresh().catch(() => undefined);
        },
      }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setConfirming(null);
    }
  }

  /** Backs out of the confirm; focus returns to the agent's Remove button. */
  function keep(agent: Agent) {
    setConfirming(null);
    focusWhenReady(() => byData("remove", agent.id));
  }

  async function reorder(ids: string[], moved: string) {
    const before = agents;
    const next = ids.map((id) => agents.find((a) => a.id === id)!).filter(Boolean);
    onChange(next);
    setError(null);
    try {
      const saved = await call(api.PUT("/api/v1/rooms/{room_id}/agents/order", { params: { path }, body: { agent_ids: ids } }));
      onChange(saved.agents);
      const name = next.find((a) => a.id === moved)?.name ?? "Agent";
      setStatus(`${name} moved to position ${ids.indexOf(moved) + 1} of ${ids.length}.`);
    } catch (err) {
      onChange(before);
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  function move(index: number, by: number) {
    const ids = agents.map((a) => a.id);
    const to = index + by;
    if (to < 0 || to >= ids.length) return;
    const [id] = ids.splice(index, 1);
    ids.splice(to, 0, id!);
    void reorder(ids, id!);
    // Keep focus on the same control after the list re-renders.
    requestAnimationFrame(() => {
      const button = document.querySelector<HTMLButtonElement>(`[data-move="${id}:${by}"]`);
      (button && !button.disabled ? button : document.querySelector<HTMLButtonElement>(`[data-move="${id}:${-by}"]`))?.focus();
    });
  }

  function drop(e: DragEvent, targetId: string) {
    e.preventDefault();
    const from = dragId;
    setDragId(null);
    setOverId(null);
    if (!from || from === targetId) return;
    const ids = agents.map((a) => a.id).filter((id) => id !== from);
    ids.splice(ids.indexOf(targetId) + (agents.findIndex((a) => a.id === from) < agents.findIndex((a) => a.id === targetId) ? 1 : 0), 0, from);
    void reorder(ids, from);
  }

  return (
    <div className="roster">
      <p className="visually-hidden" role="status" aria-live="polite">{status}</p>
      {error && <div className="alert alert-error" role="alert">{error}</div>}
      {agents.length === 0 && !adding && (
        <div className="card empty"><p>No agents yet. Add at least one to start chatting.</p></div>
      )}
      <ol className="list-plain roster" aria-label="Agents, in answer order">
        {agents.map((agent, index) =>
          editing === agent.id ? (
            <li key={agent.id}>
              <AgentForm agent={agent} models={models} allowed={allowed} submitLabel="Save agent"
                onSubmit={(d) => edit(agent, d)} onCancel={() => setEditing(null)} />
            </li>
          ) : (
            <li key={agent.id} className="card agent-row" data-testid="agent-row"
              data-dragging={dragId === agent.id} data-drop-target={overId === agent.id && dragId !== agent.id}
              draggable onDragStart={(e) => { setDragId(agent.id); e.dataTransfer.effectAllowed = "move"; }}
              onDragEnd={() => { setDragId(null); setOverId(null); }}
              onDragOver={(e) => { e.preventDefault(); setOverId(agent.id); }}
              onDrop={(e) => drop(e, agent.id)}>
              <span className="drag-handle" title="Drag to reorder" aria-hidden="true"><GripIcon /></span>
              <AgentAvatar name={agent.name} />
              <div className="agent-info">
                <div className="agent-name">{agent.name} <span className="hint mono">@{bareHandle(agent.handle)}</span></div>
                {agent.role_prompt && <div className="agent-role">{agent.role_prompt}</div>}
                <div className="agent-badges">
                  <span className="badge badge-accent">{MODEL_LABELS[agent.model_alias] ?? agent.model_alias}</span>
                  {agent.tools.web_search && <span className="badge">Web search</span>}
                  {agent.tools.files && <span className="badge">Files</span>}
                </div>
              </div>
              <div className="agent-actions">
                {/* Keyed, so the confirm's buttons are new elements (autoFocus works), not reused ones. */}
                {confirming === agent.id ? (
                  <Fragment key="confirm">
                    <span className="hint">Remove {agent.name}?</span>
                    <button className="btn btn-danger btn-sm" type="button" onClick={() => void remove(agent)} autoFocus>
                      Remove
                    </button>
                    <button className="btn btn-sm" type="button" onClick={() => keep(agent)}>Keep</button>
                  </Fragment>
                ) : (
                  <Fragment key="actions">
                    {onChat && (
                      <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Chat 1:1 with ${agent.name}`}
                        title={`Chat 1:1 with ${agent.name}`} onClick={() => onChat(agent)}><ChatIcon /></button>
                    )}
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Move ${agent.name} up`}
                      data-move={`${agent.id}:-1`} disabled={index === 0} onClick={() => move(index, -1)}><UpIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Move ${agent.name} down`}
                      data-move={`${agent.id}:1`} disabled={index === agents.length - 1} onClick={() => move(index, 1)}><DownIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Edit ${agent.name}`}
                      data-edit={agent.id} onClick={() => setEditing(agent.id)}><EditIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Remove ${agent.name}`}
                      data-remove={agent.id} onClick={() => setConfirming(agent.id)}><TrashIcon /></button>
                  </Fragment>
                )}
              </div>
            </li>
          ),
        )}
      </ol>
      {adding ? (
        <AgentForm models={models} allowed={allowed} submitLabel="Add agent" onSubmit={add}
          onCancel={agents.length ? () => setAdding(false) : undefined} key={agents.length} />
      ) : (
        <div>
          <button className="btn" type="button" onClick={() => setAdding(true)} data-testid="add-agent">
            <PlusIcon /> Add agent
          </button>
        </div>
      )}
      {removed.length > 0 && (
        <section className="removed-agents" aria-labelledby={removedId} data-testid="removed-agents">
          <h3 id={removedId}>Recently removed</h3>
          <p className="hint">Restorable for 7 days after removal; a restored agent goes last in the order.</p>
          <ul className="card list-plain">
            {removed.map((agent) => {
              const until = restoreDeadline(agent);
              const left = until ? timeUntil(until) : "";
              const failed = restoreError?.id === agent.id ? restoreError.error : null;
              const failure = failed ? restoreFailure(failed) : null;
              return (
                <li key={agent.id} className="trash-row" data-testid="removed-agent">
                  <div className="trash-main">
                    <AgentAvatar name={agent.name} />
                    <div className="trash-info">
                      <div className="trash-name">{agent.name} <span className="hint mono">@{bareHandle(agent.handle)}</span></div>
                      {until && (
                        <div className="trash-when">
                          <span>Restorable until <time dateTime={until}>{formatDateTime(until)}</time>{left && <> ({left})</>}</span>
                        </div>
                      )}
                    </div>
                    <button className="btn btn-sm" type="button" aria-label={`Restore ${agent.name}`}
                      aria-disabled={restoring === agent.id || undefined} onClick={() => void restoreAgent(agent)}>
                      {restoring === agent.id && <span className="spinner" aria-hidden="true" />}
                      Restore
                    </button>
                  </div>
                  {failed && failure && (
                    <ErrorAlert error={failed} title={failure.title} message={failure.message} testId="restore-error"
                      onDismiss={() => setRestoreError(null)} />
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </div>
  );
}
