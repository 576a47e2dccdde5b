/**
 * A turn as the timeline shows it, folded from its events: the same fold as the server's
 * snapshot (pantheon_core/domain/events.py), so a client that reconnected ends with the
 * timeline of one that never dropped.
 *
 * `applyEvent` is pure: it returns the same object for an event already applied
 * (seq ≤ lastSeq), so duplicates cost nothing and change nothing.
 */
import type { TurnEvent } from "./events";

export type StepStatus = "running" | "ok" | "failed";
export type TurnStatus = "running" | "completed" | "partial" | "failed" | "cancelled";

export interface TurnError {
  code: string;
  message: string;
}

export interface ToolCallView {
  callId: string;
  tool: string;
  arguments: string;
  status: string; // running | allowed | denied | error
  result: string | null;
  error: TurnError | null;
}

export interface StepView {
  stepId: string;
  index: number;
  kind: string; // plan | worker | synthesis | direct
  agentId: string | null;
  agentName: string;
  modelAlias: string;
  model: string;
  mode: string;
  instruction: string | null;
  status: StepStatus;
  content: string;
  credits: string | null;
  error: TurnError | null;
  toolCalls: ToolCallView[];
  planFallback: string | null;
}

export interface TurnView {
  turnId: string;
  mode: string;
  message: string;
  status: TurnStatus;
  lastSeq: number;
  steps: StepView[];
  credits: string | null;
  error: TurnError | null;
  createdAt: string;
  /** Agents picked at turn start (manual: tagged; roundtable: all) that have not started yet. */
  upNext: string[];
}

export function emptyTurn(turnId: string, init: Partial<TurnView> = {}): TurnView {
  return {
    turnId,
    mode: "",
    message: "",
    status: "running",
    lastSeq: 0,
    steps: [],
    credits: null,
    error: null,
    createdAt: "",
    upNext: [],
    ...init,
  };
}

const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown, fallback = 0): number => (typeof v === "number" ? v : fallback);

function errorOf(v: unknown): TurnError | null {
  if (!v || typeof v !== "object") return null;
  const e = v as Record<string, unknown>;
  return { code: str(e.code, "error"), message: str(e.message, str(e.code, "error")) };
}

function toolCallOf(v: Record<string, unknown>): ToolCallView {
  return {
    callId: str(v.call_id),
    tool: str(v.tool),
    arguments: str(v.arguments),
    status: str(v.status, "running"),
    result: strOrNull(v.result),
    error: errorOf(v.error),
  };
}

function updateStep(turn: TurnView, stepId: string | null, f: (s: StepView) => StepView): StepView[] {
  return turn.steps.map((s) => (s.stepId === stepId ? f(s) : s));
}

export function applyEvent(turn: TurnView, event: TurnEvent): TurnView {
  if (event.seq <= turn.lastSeq) return turn;
  const d = event.data;
  const next: TurnView = { ...turn, lastSeq: event.seq, turnId: turn.turnId || event.turn_id };
  switch (event.type) {
    case "turn_started": {
      const roster = Array.isArray(d.roster) ? (d.roster as Record<string, unknown>[]) : [];
      const selected = Array.isArray(d.selected) ? (d.selected as unknown[]) : [];
      const upNext = selected
        .map((id) => roster.find((r) => r.agent_id === id))
        .map((r) => str(r?.name))
        .filter(Boolean);
      return { ...next, mode: str(d.mode, turn.mode), message: str(d.message, turn.message), upNext };
    }
    case "step_started": {
      const stepId = str(d.step_id, event.step_id ?? "");
      if (turn.steps.some((s) => s.stepId === stepId)) return next;
      const step: StepView = {
        stepId,
        index: num(d.index, turn.steps.length),
        kind: str(d.kind, "worker"),
        agentId: strOrNull(d.agent_id),
        agentName: str(d.agent_name, "Manager"),
        modelAlias: str(d.model_alias),
        model: str(d.model),
        mode: str(d.mode, turn.mode),
        instruction: strOrNull(d.instruction),
        status: "running",
        content: "",
        credits: null,
        error: null,
        toolCalls: [],
        planFallback: null,
      };
      const upNext = turn.upNext.filter((name, i) => !(name === step.agentName && turn.upNext.indexOf(name) === i));
      return { ...next, upNext, steps: [...turn.steps, step].sort((a, b) => a.index - b.index) };
    }
    case "step_delta":
      return {
        ...next,
        steps: updateStep(turn, event.step_id, (s) => ({ ...s, content: s.content + str(d.text) })),
      };
    case "tool_started":
    case "tool_completed": {
      const call = toolCallOf(d);
      return {
        ...next,
        steps: updateStep(turn, event.step_id, (s) => {
          const others = s.toolCalls.filter((c) => c.callId !== call.callId);
          const merged = event.type === "tool_started" ? { ...call, status: "running" } : call;
          return { ...s, toolCalls: [...others, merged] };
        }),
      };
    }
    case "step_completed": {
      const inner = (d.data && typeof d.data === "object" ? d.data : {}) as Record<string, unknown>;
      const fallback = inner.plan_fallback as Record<string, unknown> | null | undefined;
      return {
        ...next,
        steps: updateStep(turn, event.step_id, (s) => ({
          ...s,
          status: d.status === "failed" ? "failed" : "ok",
          content: typeof d.content === "string" ? d.content : s.content,
          model: str(d.model, s.model),
          credits: strOrNull(d.credits) ?? s.credits,
          error: errorOf(d.error),
          toolCalls: Array.isArray(d.tool_calls)
            ? (d.tool_calls as Record<string, unknown>[]).map(toolCallOf)
            : s.toolCalls,
          planFallback: fallback ? str(fallback.reason, "the plan was unusable") : null,
        })),
      };
    }
    case "turn_completed":
      return {
        ...next,
        upNext: [],
        status: d.status === "partial" ? "partial" : "completed",
        credits: strOrNull(d.credits),
      };
    case "turn_failed":
      return {
        ...next,
        upNext: [],
        status: d.status === "cancelled" ? "cancelled" : "failed",
        credits: strOrNull(d.credits),
        error: errorOf(d.error),
        // Steps still open when a turn fails were ended by it.
        steps: turn.steps.map((s) => (s.status === "running" ? { ...s, status: "failed" } : s)),
      };
    default:
      return next;
  }
}

export function foldEvents(turnId: string, events: readonly TurnEvent[], init?: Partial<TurnView>): TurnView {
  return events.reduce(applyEvent, emptyTurn(turnId, init));
}

export function isRunning(turn: TurnView): boolean {
  return turn.status === "running";
}
