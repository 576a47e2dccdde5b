import { describe, expect, it } from "vitest";
import { heldCredits } from "./billing";

const e = (kind: string, amount: string, reservation_id: string | null = null) => ({ kind, amount, reservation_id });

describe("heldCredits", () => {
  it("counts holds that have not been released", () => {
    expect(heldCredits([e("reserve", "-0.080253", "r1"), e("burn", "-0.01")])).toBeCloseTo(0.080253, 6);
  });
  it("drops a hold once it is released, across buckets", () => {
    const entries = [
      e("release", "0.5", "r1"), e("release", "0.3", "r1"), e("burn", "-0.2"),
      e("reserve", "-0.5", "r1"), e("reserve", "-0.3", "r1"),
      e("reserve", "-0.25", "r2"),
    ];
    expect(heldCredits(entries)).toBeCloseTo(0.25, 6);
  });
  it("ignores grants and entries without a reservation", () => {
    expect(heldCredits([e("grant", "100"), e("release", "0.4", "gone")])).toBe(0);
  });
});
