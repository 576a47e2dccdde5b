"use client";
/** Add or edit one agent: name (its @handle), model alias, role prompt, tools. */
import { useId, useState, type FormEvent } from "react";
import type { Agent, ModelAlias, ModelInfo } from "@/lib/api/types";
import { MODEL_LABELS } from "@/lib/format";

export interface AgentDraft {
  name: string;
  model_alias: ModelAlias;
  role_prompt: string;
  tools: { web_search: boolean; files: boolean };
}

interface Props {
  agent?: Agent;
  models: ModelInfo[];
  allowed: string[] | null; // aliases the plan allows; null when unknown
  onSubmit: (draft: AgentDraft) => Promise<void>;
  onCancel?: () => void;
  submitLabel: string;
}

const FALLBACK_ALIASES: ModelAlias[] = ["llama", "qwen", "deepseek", "gpt_oss", "premium"];

export function AgentForm({ agent, models, allowed, onSubmit, onCancel, submitLabel }: Props) {
  const id = useId();
  const [draft, setDraft] = useState<AgentDraft>({
    name: agent?.name ?? "",
    model_alias: agent?.model_alias ?? (allowed === null || allowed.includes("qwen") ? "qwen" : ((allowed[0] ?? "qwen") as ModelAlias)),
    role_prompt: agent?.role_prompt ?? "",
    tools: { web_search: agent?.tools.web_search ?? false, files: agent?.tools.files ?? false },
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const aliases: ModelAlias[] = models.length ? models.map((m) => m.alias) : FALLBACK_ALIASES;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!draft.name.trim()) {
      setError("Give the agent a name: it is the @handle you tag it with.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ ...draft, name: draft.name.trim() });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card agent-form" onSubmit={submit} noValidate aria-label={agent ? `Edit ${agent.name}` : "New agent"}
      data-testid="agent-form">
      <div className="form-row">
        <div className="field">
          <label className="label" htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} className="input" value={draft.name} maxLength={40} required
            onChange={(e) => setDraft({ ...draft, name: e.target.value })} placeholder="e.g. Scout"
            aria-describedby={`${id}-name-hint`} autoFocus={!agent} />
          <p className="hint" id={`${id}-name-hint`}>Tag it as <code>@{draft.name.trim().replace(/\s+/g, "") || "Name"}</code> in manual mode.</p>
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-model`}>Model</label>
          <select id={`${id}-model`} className="select" value={draft.model_alias}
            onChange={(e) => setDraft({ ...draft, model_alias: e.target.value as ModelAlias })} aria-describedby={`${id}-model-hint`}>
            {aliases.map((alias) => {
              const onPlan = allowed === null || allowed.includes(alias);
              const info = models.find((m) => m.alias === alias);
              return (
                <option key={alias} value={alias} disabled={!onPlan && alias !== agent?.model_alias}>
                  {MODEL_LABELS[alias] ?? alias}
                  {info ? ` · ×${Number(info.credit_multiplier)} credits` : ""}
                  {onPlan ? "" : " — not on your plan"}
                </option>
              );
            })}
          </select>
          <p className="hint" id={`${id}-model-hint`}>
            {allowed ? `Your plan allows ${allowed.map((a) => MODEL_LABELS[a] ?? a).join(", ")}.` : "Model aliases map to provider models."}
          </p>
        </div>
      </div>
      <div className="field">
        <label className="label" htmlFor={`${id}-role`}>Role prompt</label>
        <textarea id={`${id}-role`} className="textarea" value={draft.role_prompt} rows={3}
          onChange={(e) => setDraft({ ...draft, role_prompt: e.target.value })}
          placeholder="What this agent does, and how it answers. e.g. “Find the weakest assumption.”" />
      </div>
      <fieldset className="tool-toggles">
        <legend>Tools</legend>
        <label className="check">
          <input type="checkbox" checked={draft.tools.web_search}
            onChange={(e) => setDraft({ ...draft, tools: { ...draft.tools, web_search: e.target.checked } })} />
          Web search
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.tools.files}
            onChange={(e) => setDraft({ ...draft, tools: { ...draft.tools, files: e.target.checked } })} />
          Read files
        </label>
      </fieldset>
      {error && <div className="alert alert-error" role="alert">{error}</div>}
      <div className="form-actions">
        {onCancel && <button className="btn" type="button" onClick={onCancel}>Cancel</button>}
        <button className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
