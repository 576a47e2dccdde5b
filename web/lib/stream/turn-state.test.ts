import { describe, expect, it } from "vitest";
import { roundtableEvents } from "./fake-server";
import { applyEvent, emptyTurn, foldEvents } from "./turn-state";

describe("turn state", () => {
  it("folds a roundtable turn into one message per step, in order", () => {
    const turn = foldEvents("t1", roundtableEvents(["Scout", "Critic", "Judge"], 2));
    expect(turn.status).toBe("completed");
    expect(turn.mode).toBe("roundtable");
    expect(turn.steps.map((s) => [s.agentName, s.status, s.content])).toEqual([
      ["Scout", "ok", "Scout-0 Scout-1 "],
      ["Critic", "ok", "Critic-0 Critic-1 "],
      ["Judge", "ok", "Judge-0 Judge-1 "],
    ]);
    expect(turn.credits).toBe("0.030000");
  });

  it("streams text into the running step", () => {
    const events = roundtableEvents(["Scout"], 3);
    const partway = foldEvents("t1", events.slice(0, 4));
    expect(partway.status).toBe("running");
    expect(partway.steps[0]).toMatchObject({ status: "running", content: "Scout-0 Scout-1 " });
  });

  it("ignores an event it has already applied", () => {
    const events = roundtableEvents(["Scout"], 2);
    const once = foldEvents("t1", events.slice(0, 3));
    expect(applyEvent(once, events[2]!)).toBe(once);
    expect(applyEvent(once, events[1]!)).toBe(once);
  });

  it("shows failed steps with their reason and a partial turn", () => {
    const turn = foldEvents("t1", roundtableEvents(["Scout", "Critic"], 1, ["Critic"]));
    expect(turn.status).toBe("partial");
    expect(turn.steps[1]).toMatchObject({
      status: "failed",
      error: { code: "provider_timeout", message: "The model did not answer in time." },
    });
  });

  it("marks a cancelled turn and ends its open steps", () => {
    const events = roundtableEvents(["Scout"], 3).slice(0, 3);
    const turn = applyEvent(foldEvents("t1", events), {
      type: "turn_failed", seq: 4, turn_id: "t1", step_id: null, ts: "",
      data: { status: "cancelled", error: { code: "cancelled", message: "Cancelled." }, credits: "0" },
    });
    expect(turn.status).toBe("cancelled");
    expect(turn.error?.code).toBe("cancelled");
    expect(turn.steps[0]?.status).toBe("failed");
  });

  it("lists the selected agents that have not started yet", () => {
    const events = roundtableEvents(["Scout", "Critic"], 1);
    events[0]!.data = { mode: "roundtable", message: "hi", selected: ["a1", "a2"],
      roster: [{ agent_id: "a1", name: "Scout" }, { agent_id: "a2", name: "Critic" }] };
    expect(foldEvents("t1", events.slice(0, 1)).upNext).toEqual(["Scout", "Critic"]);
    expect(foldEvents("t1", events.slice(0, 2)).upNext).toEqual(["Critic"]);
    expect(foldEvents("t1", events).upNext).toEqual([]);
  });

  it("starts empty", () => {
    expect(emptyTurn("x")).toMatchObject({ turnId: "x", status: "running", steps: [], lastSeq: 0 });
  });
});
