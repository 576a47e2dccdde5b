import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import type { TurnEvent } from "./events";
import { fakeEventsServer, roundtableEvents } from "./fake-server";
import { readTurnEvents } from "./turn-stream";
import { applyEvent, emptyTurn, foldEvents } from "./turn-state";

const noSleep = async () => undefined;
const URL_ = "/api/v1/turns/t1/events";

async function read(all: TurnEvent[], script: Parameters<typeof fakeEventsServer>[1], after = 0) {
  const server = fakeEventsServer(all, script);
  const seen: TurnEvent[] = [];
  const states: string[] = [];
  const result = await readTurnEvents({
    url: URL_, after, fetch: server.fetch, sleep: noSleep, backoffMs: () => 0,
    onEvent: (e) => seen.push(e), onState: (s) => states.push(s),
  });
  return { result, seen, states, requests: server.requests };
}

describe("readTurnEvents", () => {
  const all = roundtableEvents(["Scout", "Critic", "Judge"]);

  it("reads a whole turn in one connection and stops at the terminal event", async () => {
    const { result, seen, requests } = await read(all, [{ kind: "events" }]);
    expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(result.terminal.type).toBe("turn_completed");
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ after: 0, lastEventId: "0" });
  });

  it("reconnects after a drop with Last-Event-ID and ?after= set to the last seq seen", async () => {
    const { seen, requests, states } = await read(all, [
      { kind: "events", dropAfter: 5 },
      { kind: "events", dropAfter: 4 },
      { kind: "events" },
    ]);
    expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(requests.map((r) => [r.after, r.lastEventId])).toEqual([[0, "0"], [5, "5"], [9, "9"]]);
    expect(states).toContain("reconnecting");
  });

  it("drops events the server repeats, so each seq is handed on once", async () => {
    const { seen } = await read(all, [
      { kind: "events", dropAfter: 6 },
      { kind: "events", replayFrom: 2 }, // the server sends 3.. again although we saw 6
    ]);
    expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
  });

  it("reconnects instead of handing on a gap", async () => {
    const { seen, requests } = await read(all, [{ kind: "events", skip: [4] }, { kind: "events" }]);
    expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(requests[1]?.after).toBe(3);
  });

  it("treats a body that ends without a terminal event as a drop", async () => {
    const short = all.slice(0, 4);
    const server = fakeEventsServer(short, [{ kind: "events" }]);
    const seenFirst: number[] = [];
    await expect(readTurnEvents({
      url: URL_, fetch: server.fetch, sleep: noSleep, backoffMs: () => 0, maxFailures: 2,
      onEvent: (e) => seenFirst.push(e.seq),
    })).rejects.toMatchObject({ code: "stream_lost" });
    expect(seenFirst).toEqual([1, 2, 3, 4]);
    expect(server.requests.length).toBe(3); // the first read, then two attempts without progress
  });

  it("retries network errors and 503s, then resumes", async () => {
    const { seen, requests } = await read(all, [
      { kind: "events", dropAfter: 3 },
      { kind: "network-error" },
      { kind: "status", status: 503, body: { error: { code: "unavailable", message: "busy" } } },
      { kind: "events" },
    ]);
    expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(requests.map((r) => r.after)).toEqual([0, 3, 3, 3]);
  });

  it("throws a 4xx answer as a typed error without retrying", async () => {
    const server = fakeEventsServer(all, [
      { kind: "status", status: 404, body: { error: { code: "turn_not_found", message: "No such turn." } } },
    ]);
    const err = await readTurnEvents({ url: URL_, fetch: server.fetch, sleep: noSleep, onEvent: () => {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "turn_not_found", message: "No such turn." });
    expect(server.requests).toHaveLength(1);
  });

  it("resumes from a given seq (a reload that folded the first events already)", async () => {
    const { seen, requests } = await read(all, [{ kind: "events" }], 7);
    expect(seen[0]?.seq).toBe(8);
    expect(requests[0]).toMatchObject({ after: 7, lastEventId: "7" });
  });

  it("stops when aborted", async () => {
    const server = fakeEventsServer(all, [{ kind: "events", dropAfter: 2 }]);
    const controller = new AbortController();
    const promise = readTurnEvents({
      url: URL_, fetch: server.fetch, signal: controller.signal, backoffMs: () => 10_000,
      onEvent: () => {}, onState: (s) => { if (s === "reconnecting") controller.abort(); },
    });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
  });

  it("ends with the timeline of a client that never disconnected", async () => {
    const failing = roundtableEvents(["Scout", "Critic", "Judge"], 4, ["Critic"]);
    const straight = foldEvents("t1", failing);
    let resumed = emptyTurn("t1");
    const server = fakeEventsServer(failing, [
      { kind: "events", dropAfter: 3, chunkSize: 1 },
      { kind: "events", dropAfter: 5, replayFrom: 1, chunkSize: 3 },
      { kind: "network-error" },
      { kind: "events", replayFrom: 0 },
    ]);
    await readTurnEvents({
      url: URL_, fetch: server.fetch, sleep: noSleep, backoffMs: () => 0,
      onEvent: (e) => { resumed = applyEvent(resumed, e); },
    });
    expect(resumed).toEqual(straight);
  });
});
