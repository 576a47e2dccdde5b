import { describe, expect, it } from "vitest";
import type { TimelineEntry, TurnSnapshot } from "../api/types";
import { turnFromEntry, turnFromSnapshot } from "./from-api";

const turn = {
  id: "t1", room_id: "r1", session_id: "s1", direct_session_id: null, mode: "roundtable" as const,
  status: "partial" as const, message: "hello", created_at: "2026-11-26T10:00:00Z",
  finished_at: "2026-11-26T10:00:05Z", credits: "0.020000", error: null, last_seq: 12, cancel_requested_at: null,
};

const step = (index: number, name: string, status: "ok" | "failed") => ({
  type: "step", turn_id: "t1", step_id: `s${index}`, index, kind: "worker" as const, agent_name: name,
  agent_id: `a${index}`, model_alias: "qwen", model: "offline/qwen", provider: "offline", mode: "roundtable" as const,
  status, content: `${name} says hi`, credits: "0.010000", usage: {},
  error: status === "failed" ? { code: "provider_timeout", message: "Timed out." } : null,
  instruction: null, data: {}, started_at: "", finished_at: "",
});

describe("turns from the API", () => {
  it("turns a timeline entry into the same view the stream folds", () => {
    const entry = {
      turn,
      messages: [
        { type: "user", turn_id: "t1", mode: "roundtable", content: "hello", created_at: "" },
        step(1, "Critic", "failed"),
        step(0, "Scout", "ok"),
      ],
    } as unknown as TimelineEntry;
    const view = turnFromEntry(entry);
    expect(view).toMatchObject({ turnId: "t1", status: "partial", lastSeq: 12, credits: "0.020000", message: "hello" });
    expect(view.steps.map((s) => [s.agentName, s.status, s.error?.code ?? null])).toEqual([
      ["Scout", "ok", null],
      ["Critic", "failed", "provider_timeout"],
    ]);
  });

  it("resumes a running turn from its snapshot's last seq", () => {
    const snapshot = {
      turn: { ...turn, status: "running", credits: "0" },
      timeline: {
        turn_id: "t1", status: "running", last_seq: 7, mode: "roundtable", roster: [], outcome: {},
        steps: [{ step_id: "s0", status: "running", content: "Scout says", index: 0, agent_name: "Scout",
          model_alias: "qwen", kind: "worker" }],
      },
    } as unknown as TurnSnapshot;
    const view = turnFromSnapshot(snapshot);
    expect(view).toMatchObject({ status: "running", lastSeq: 7 });
    expect(view.steps[0]).toMatchObject({ stepId: "s0", status: "running", content: "Scout says" });
  });
});
