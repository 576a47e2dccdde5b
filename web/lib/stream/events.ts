/**
 * The turn event contract (docs/streaming.md): every turn has a gap-free `seq = 1, 2, 3, …`
 * and ends with exactly one `turn_completed` or `turn_failed`.
 */
export type TurnEventType =
  | "turn_started"
  | "step_started"
  | "step_delta"
  | "tool_started"
  | "tool_completed"
  | "step_completed"
  | "turn_completed"
  | "turn_failed";

export interface TurnEvent {
  type: TurnEventType | string;
  seq: number;
  turn_id: string;
  step_id: string | null;
  ts: string;
  data: Record<string, unknown>;
}

export const TERMINAL_EVENTS: ReadonlySet<string> = new Set(["turn_completed", "turn_failed"]);

export function isTerminal(event: TurnEvent): boolean {
  return TERMINAL_EVENTS.has(event.type);
}

/** A parsed event, or null for anything that is not one (a malformed frame is skipped). */
export function parseEvent(text: string): TurnEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const event = value as Partial<TurnEvent>;
  if (typeof event.type !== "string" || typeof event.seq !== "number") return null;
  return {
    type: event.type,
    seq: event.seq,
    turn_id: typeof event.turn_id === "string" ? event.turn_id : "",
    step_id: typeof event.step_id === "string" ? event.step_id : null,
    ts: typeof event.ts === "string" ? event.ts : "",
    data: event.data && typeof event.data === "object" ? event.data : {},
  };
}
