/**
 * A scripted stand-in for `GET /api/v1/turns/{id}/events` (test support, not shipped):
 * it serves the turn's events after the requested seq as SSE, and can be told to drop a
 * connection after N events, to repeat events, to answer an error status, or to fail.
 */
import type { TurnEvent } from "./events";

export type Connection =
  | { kind: "events"; dropAfter?: number; replayFrom?: number; skip?: number[]; chunkSize?: number }
  | { kind: "status"; status: number; body?: unknown }
  | { kind: "network-error" };

export interface Request {
  url: string;
  lastEventId: string | null;
  after: number;
}

export function sseOf(events: readonly TurnEvent[]): string {
  return events
    .map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n: keep-alive\n\n`)
    .join("");
}

export function fakeEventsServer(all: readonly TurnEvent[], script: Connection[]) {
  const requests: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    const after = Number(new URL(url, "http://x").searchParams.get("after") ?? "0");
    requests.push({ url, lastEventId: headers.get("Last-Event-ID"), after });
    const conn = script.shift() ?? { kind: "events" };
    if (conn.kind === "network-error") throw new TypeError("Failed to fetch");
    if (conn.kind === "status") {
      return new Response(JSON.stringify(conn.body ?? {}), {
        status: conn.status,
        headers: { "content-type": "application/json" },
      });
    }
    const from = conn.replayFrom ?? after; // replayFrom < after: the server repeats events
    let events = all.filter((e) => e.seq > from && !(conn.skip ?? []).includes(e.seq));
    const dropped = conn.dropAfter !== undefined;
    if (dropped) events = events.slice(0, conn.dropAfter);
    const text = sseOf(events);
    const size = conn.chunkSize ?? 7;
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    // Pulled chunk by chunk: an error raised at once would discard the queued chunks.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset < bytes.length) {
          controller.enqueue(bytes.slice(offset, offset + size));
          offset += size;
        } else if (dropped) {
          controller.error(new TypeError("network connection lost"));
        } else {
          controller.close();
        }
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

/** A roundtable turn of `agents` steps, each streaming `words` deltas. */
export function roundtableEvents(agents: string[], words = 3, failed: string[] = []): TurnEvent[] {
  const events: TurnEvent[] = [];
  const add = (type: string, step_id: string | null, data: Record<string, unknown>) =>
    events.push({ type, seq: events.length + 1, turn_id: "t1", step_id, ts: "", data });
  add("turn_started", null, { mode: "roundtable", message: "hello" });
  agents.forEach((name, index) => {
    const step = `s${index}`;
    add("step_started", step, { step_id: step, index, kind: "worker", agent_name: name,
      model_alias: "qwen", model: "offline/qwen", mode: "roundtable" });
    for (let w = 0; w < words; w++) add("step_delta", step, { text: `${name}-${w} ` });
    const bad = failed.includes(name);
    add("step_completed", step, {
      status: bad ? "failed" : "ok",
      content: bad ? `${name}-0 ` : Array.from({ length: words }, (_, w) => `${name}-${w} `).join(""),
      credits: "0.010000",
      error: bad ? { code: "provider_timeout", message: "The model did not answer in time." } : null,
    });
  });
  add("turn_completed", null, { status: failed.length ? "partial" : "completed",
    credits: "0.030000", failed_steps: failed.length });
  return events;
}
