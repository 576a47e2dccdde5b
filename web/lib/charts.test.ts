import { describe, expect, it } from "vitest";
import { addDays, daysBetween, fillDays, firstOfMonth, labelStride, niceTicks, showLabel } from "./charts";

describe("niceTicks", () => {
  it("rounds the maximum up to a nice step", () => {
    expect(niceTicks(87)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(4)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(0.0156)).toEqual([0, 0.005, 0.01, 0.015, 0.02]);
  });
  it("keeps counts whole", () => {
    expect(niceTicks(1, 4, true)).toEqual([0, 1]);
    expect(niceTicks(3, 4, true)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(17, 4, true)).toEqual([0, 5, 10, 15, 20]);
  });
  it("has an axis even without data", () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });
  it("never ends below the maximum", () => {
    for (const max of [1, 3, 7, 9.99, 10, 11, 999, 1234.5, 0.3]) {
      const ticks = niceTicks(max);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(7);
    }
  });
});

describe("days", () => {
  it("lists every day, both ends included, across a month end", () => {
    expect(daysBetween("2026-11-29", "2026-12-02")).toEqual(["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]);
    expect(daysBetween("2026-12-02", "2026-11-29")).toEqual([]);
  });
  it("fills the days without a point with zero and sums repeated days", () => {
    const points = [{ d: "2026-11-02", v: 3 }, { d: "2026-11-02", v: 1 }, { d: "2026-11-04", v: 2 }];
    expect(fillDays("2026-11-01", "2026-11-04", points, (p) => p.d, (p) => p.v)).toEqual([
      { day: "2026-11-01", value: 0 }, { day: "2026-11-02", value: 4 },
      { day: "2026-11-03", value: 0 }, { day: "2026-11-04", value: 2 },
    ]);
  });
  it("moves by days and finds the month's first", () => {
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(addDays("2026-11-26", 6)).toBe("2026-12-02");
    expect(firstOfMonth("2026-11-26")).toBe("2026-11-01");
  });
});

describe("x labels", () => {
  it("thins labels to what fits", () => {
    expect(labelStride(7, 600)).toBe(1);
    expect(labelStride(30, 300)).toBe(5);
    const shown = Array.from({ length: 30 }, (_, i) => i).filter((i) => showLabel(i, 5));
    expect(shown[0]).toBe(0);
    expect(shown).toContain(25);
    expect(shown.length).toBeLessThanOrEqual(7);
  });
});
