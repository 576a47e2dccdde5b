"use client";
/**
 * A room's agents: add, edit, remove, and reorder — by drag and drop, or from the keyboard
 * with the move buttons. Order is the roundtable order; changes apply at the next send.
 */
import { useState, type DragEvent } from "react";
import { api, call } from "@/lib/api/client";
import type { Agent, ModelInfo } from "@/lib/api/types";
import { MODEL_LABELS, bareHandle } from "@/lib/format";
import { AgentAvatar } from "./agent-avatar";
import { AgentForm, type AgentDraft } from "./agent-form";
import { ChatIcon, DownIcon, EditIcon, GripIcon, PlusIcon, TrashIcon, UpIcon } from "./icons";

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
  const path = { room_id: roomId };

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
      setStatus(`${agent.name} removed.`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setConfirming(null);
    }
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
                {confirming === agent.id ? (
                  <>
                    <span className="hint">Remove {agent.name}?</span>
                    <button className="btn btn-danger btn-sm" type="button" onClick={() => void remove(agent)} autoFocus>
                      Remove
                    </button>
                    <button className="btn btn-sm" type="button" onClick={() => setConfirming(null)}>Keep</button>
                  </>
                ) : (
                  <>
                    {onChat && (
                      <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Chat 1:1 with ${agent.name}`}
                        title={`Chat 1:1 with ${agent.name}`} onClick={() => onChat(agent)}><ChatIcon /></button>
                    )}
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Move ${agent.name} up`}
                      data-move={`${agent.id}:-1`} disabled={index === 0} onClick={() => move(index, -1)}><UpIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Move ${agent.name} down`}
                      data-move={`${agent.id}:1`} disabled={index === agents.length - 1} onClick={() => move(index, 1)}><DownIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Edit ${agent.name}`}
                      onClick={() => setEditing(agent.id)}><EditIcon /></button>
                    <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Remove ${agent.name}`}
                      onClick={() => setConfirming(agent.id)}><TrashIcon /></button>
                  </>
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
    </div>
  );
}
