import { describe, expect, it } from "vitest";
import { insertMention, matchHandles, mentionAt, taggedHandles } from "./mentions";

const agents = [
  { name: "Scout", handle: "Scout" },
  { name: "Critic", handle: "Critic" },
  { name: "Sage", handle: "Sage" },
];

describe("mentions", () => {
  it("finds the partial tag at the caret", () => {
    expect(mentionAt("hi @Sc", 6)).toEqual({ start: 3, query: "Sc" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("mail a@b", 8)).toBeNull();
    expect(mentionAt("hi @Scout done", 14)).toBeNull();
  });

  it("matches handles by prefix, case-insensitively", () => {
    expect(matchHandles(agents, "s").map((a) => a.handle)).toEqual(["Scout", "Sage"]);
    expect(matchHandles(agents, "")).toHaveLength(3);
    expect(matchHandles(agents, "x")).toEqual([]);
  });

  it("inserts the picked handle and places the caret after it", () => {
    const at = mentionAt("ask @cr now", 7)!;
    expect(insertMention("ask @cr now", at, "Critic")).toEqual({ text: "ask @Critic now", caret: 12 });
  });

  it("lists tagged handles once, in order", () => {
    expect(taggedHandles("@critic and @Scout, then @Critic again; @nobody", ["Scout", "Critic"])).toEqual([
      "Critic",
      "Scout",
    ]);
  });
});
