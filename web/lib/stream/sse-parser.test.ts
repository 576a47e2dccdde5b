import { describe, expect, it } from "vitest";
import { SseParser } from "./sse-parser";

describe("SseParser", () => {
  it("parses frames split at any byte", () => {
    const text = 'id: 1\nevent: turn_started\ndata: {"a":1}\n\n: keep-alive\n\nid: 2\nevent: step_delta\ndata: {"b":2}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const frames = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(frames).toEqual([
        { id: "1", event: "turn_started", data: '{"a":1}' },
        { id: "2", event: "step_delta", data: '{"b":2}' },
      ]);
    }
  });

  it("accepts CRLF and CR line ends and joins multi-line data", () => {
    const p = new SseParser();
    expect(p.push("data: a\r\ndata: b\r\n\r\ndata:c\r\r")).toEqual([
      { id: null, event: "message", data: "a\nb" },
    ]);
    // A trailing CR may be half of a CRLF: the frame ends once the next byte says so.
    expect(p.push("\n")).toEqual([{ id: null, event: "message", data: "c" }]);
  });

  it("ignores comments and frames without data, and waits for the blank line", () => {
    const p = new SseParser();
    expect(p.push(": ping\n\nevent: x\n\ndata: late")).toEqual([]);
    expect(p.push("\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ id: null, event: "message", data: "late" }]);
  });
});
