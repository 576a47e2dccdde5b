/**
 * Reads one turn's events over `fetch` (SSE, or NDJSON when the server answers with it),
 * and keeps reading until the terminal event, whatever happens to the connection.
 *
 * Rules (docs/streaming.md):
 * - every (re)connection asks for the events after the last seq seen, both as
 *   `Last-Event-ID` and `?after=`, so a dropped connection or a reload loses nothing;
 * - events are handed on in seq order, each once: a seq at or below the last one is a
 *   duplicate and is dropped; a seq that skips ahead means a gap, so the reader reconnects
 *   from the last seq instead of handing on a hole;
 * - the end of a body without a terminal event is a drop, not the end of the turn;
 * - a 4xx answer (other than 408/429) is final and thrown as `ApiError`; 5xx, 408, 429 and
 *   network errors are retried with backoff, until `maxFailures` attempts in a row made no
 *   progress.
 *
 * Everything it touches (`fetch`, `sleep`) can be handed in, so it is tested without a server.
 */
import { ApiError, errorFromBody } from "../api/errors";
import { isTerminal, parseEvent, type TurnEvent } from "./events";
import { SseParser } from "./sse-parser";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

export interface ReadTurnOptions {
  /** The events URL, e.g. `/api/v1/turns/{id}/events` (absolute or same-origin). */
  url: string;
  /** Resume after this seq (0: from the start). */
  after?: number;
  onEvent: (event: TurnEvent) => void;
  onState?: (state: ConnectionState, detail?: { attempt: number; error?: unknown }) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Wait before reconnect attempt `n` (1, 2, …). */
  backoffMs?: (attempt: number) => number;
  maxFailures?: number;
}

export interface ReadTurnResult {
  lastSeq: number;
  terminal: TurnEvent;
}

export const defaultBackoffMs = (attempt: number): number =>
  Math.min(500 * 2 ** (attempt - 1), 8000) + Math.floor(Math.random() * 250);

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

class Gap extends Error {}

export async function readTurnEvents(options: ReadTurnOptions): Promise<ReadTurnResult> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const wait = options.sleep ?? sleep;
  const backoff = options.backoffMs ?? defaultBackoffMs;
  const maxFailures = options.maxFailures ?? 8;
  const { signal } = options;
  let lastSeq = options.after ?? 0;
  let failures = 0;

  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw abortError();
    options.onState?.(attempt === 0 ? "connecting" : "reconnecting", { attempt });
    const seqBefore = lastSeq;
    let error: unknown = null;
    try {
      const terminal = await readOnce(doFetch, options.url, lastSeq, signal, (event) => {
        if (event.seq <= lastSeq) return false; // a duplicate: already handed on
        if (event.seq !== lastSeq + 1) throw new Gap(`expected seq ${lastSeq + 1}, got ${event.seq}`);
        lastSeq = event.seq;
        options.onEvent(event);
        return true;
      }, () => options.onState?.("live", { attempt }));
      if (terminal) {
        options.onState?.("closed", { attempt });
        return { lastSeq, terminal };
      }
    } catch (caught) {
      if (signal?.aborted || isAbort(caught)) throw abortError();
      if (caught instanceof ApiError && !retryable(caught.status)) throw caught;
      error = caught;
    }
    failures = lastSeq > seqBefore ? 1 : failures + 1;
    if (failures > maxFailures) {
      throw new ApiError(0, "stream_lost", "Lost the connection to this turn's live stream.", {
        last_seq: lastSeq,
        reason: error instanceof Error ? error.message : "the stream ended early",
      });
    }
    options.onState?.("reconnecting", { attempt: attempt + 1, error });
    await wait(backoff(failures), signal);
  }
}

/** One connection: hands each event to `accept`; the terminal event if it came. */
async function readOnce(
  doFetch: typeof fetch,
  url: string,
  after: number,
  signal: AbortSignal | undefined,
  accept: (event: TurnEvent) => boolean,
  onOpen: () => void,
): Promise<TurnEvent | null> {
  const sep = url.includes("?") ? "&" : "?";
  let response: Response;
  try {
    response = await doFetch(`${url}${sep}after=${after}`, {
      method: "GET",
      headers: { Accept: "text/event-stream", "Last-Event-ID": String(after) },
      credentials: "include",
      cache: "no-store",
      signal,
    });
  } catch (cause) {
    if (isAbort(cause)) throw cause;
    throw ApiError.network(cause);
  }
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw errorFromBody(response.status, body);
  }
  if (!response.body) throw new ApiError(0, "network_error", "The stream had no body.");
  onOpen();
  const ndjson = (response.headers.get("content-type") ?? "").includes("ndjson");
  const sse = new SseParser();
  const lines = new NdjsonSplitter();
  const split = ndjson
    ? (chunk: string) => lines.push(chunk)
    : (chunk: string) => sse.push(chunk).map((frame) => frame.data);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      for (const text of split(value)) {
        const event = parseEvent(text);
        if (event && accept(event) && isTerminal(event)) return event;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

class NdjsonSplitter {
  private buffer = "";
  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines = this.buffer.split("\n");
    this.buffer = lines.pop() ?? "";
    return lines.filter((line) => line.trim() !== "");
  }
}

function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function abortError(): Error {
  const err = new Error("The stream was stopped.");
  err.name = "AbortError";
  return err;
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}
