/**
 * Turns as the API stores them (a timeline page, a turn snapshot) in the shape the stream
 * folds into (`TurnView`), so history, reloads and live turns render alike.
 */
import type { StepMessage, TimelineEntry, TurnSnapshot } from "../api/types";
import type { StepView, ToolCallView, TurnError, TurnStatus, TurnView } from "./turn-state";

const TURN_STATUSES: readonly TurnStatus[] = ["running", "completed", "partial", "failed", "cancelled"];

function turnStatus(status: string): TurnStatus {
  return (TURN_STATUSES as readonly string[]).includes(status) ? (status as TurnStatus) : "completed";
}

function errorOf(e: { code: string; message: string } | null | undefined): TurnError | null {
  return e ? { code: e.code, message: e.message } : null;
}

function toolCalls(value: unknown): ToolCallView[] {
  if (!Array.isArray(value)) return [];
  return value.map((v: Record<string, unknown>) => ({
    callId: String(v.call_id ?? ""),
    tool: String(v.tool ?? ""),
    arguments: String(v.arguments ?? ""),
    status: String(v.status ?? "allowed"),
    result: typeof v.result === "string" ? v.result : null,
    error:
      v.error && typeof v.error === "object"
        ? (v.error as TurnError)
        : null,
  }));
}

function planFallback(data: Record<string, unknown> | null | undefined): string | null {
  const fb = data?.plan_fallback as Record<string, unknown> | null | undefined;
  return fb ? String(fb.reason ?? "the plan was unusable") : null;
}

export function stepFromMessage(m: StepMessage): StepView {
  const data = (m.data ?? {}) as Record<string, unknown>;
  return {
    stepId: m.step_id,
    index: m.index,
    kind: m.kind,
    agentId: m.agent_id,
    agentName: m.agent_name,
    modelAlias: m.model_alias,
    model: m.model,
    mode: m.mode,
    instruction: m.instruction,
    status: m.status === "failed" ? "failed" : m.status === "ok" ? "ok" : "running",
    content: m.content,
    credits: m.credits,
    error: errorOf(m.error),
    toolCalls: toolCalls(data.tool_calls),
    planFallback: planFallback(data),
  };
}

export function turnFromEntry(entry: TimelineEntry): TurnView {
  const steps = entry.messages
    .filter((m): m is StepMessage => m.type === "step")
    .map(stepFromMessage)
    .sort((a, b) => a.index - b.index);
  const t = entry.turn;
  return {
    turnId: t.id,
    mode: t.mode,
    message: t.message,
    status: turnStatus(t.status),
    lastSeq: t.last_seq,
    steps,
    credits: t.credits,
    error: errorOf(t.error),
    createdAt: t.created_at,
    upNext: [],
  };
}

/** The durable snapshot of a turn; a reader resumes after its `lastSeq`. */
export function turnFromSnapshot(snapshot: TurnSnapshot): TurnView {
  const t = snapshot.turn;
  const steps: StepView[] = snapshot.timeline.steps.map((s, i) => ({
    stepId: s.step_id,
    index: s.index ?? i,
    kind: s.kind ?? "worker",
    agentId: s.agent_id ?? null,
    agentName: s.agent_name ?? "Manager",
    modelAlias: s.model_alias ?? "",
    model: s.model ?? "",
    mode: s.mode ?? t.mode,
    instruction: s.instruction ?? null,
    status: s.status === "failed" ? "failed" : s.status === "ok" ? "ok" : "running",
    content: s.content,
    credits: s.credits ?? null,
    error: errorOf(s.error),
    toolCalls: toolCalls(s.tool_calls),
    planFallback: planFallback(s.data as Record<string, unknown> | null | undefined),
  }));
  return {
    turnId: t.id,
    mode: t.mode,
    message: t.message,
    status: turnStatus(snapshot.timeline.status || t.status),
    lastSeq: snapshot.timeline.last_seq,
    steps: steps.sort((a, b) => a.index - b.index),
    credits: t.credits,
    error: errorOf(t.error),
    createdAt: t.created_at,
    upNext: [],
  };
}
