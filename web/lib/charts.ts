/**
 * The arithmetic behind the small SVG charts (components/charts.tsx): nice axis ticks, a
 * day-by-day series with the gaps filled, and which x labels fit. Pure, unit-tested.
 */

/** A round axis maximum ≥ `max` and the ticks from 0 to it (about `count` of them); whole
 * numbers only when `integer` (counts of users). */
export function niceTicks(max: number, count = 4, integer = false): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = ([1, 2, 2.5, 5, 10].find((f) => f * power >= rough) ?? 10) * power;
  if (integer) step = Math.max(1, Math.ceil(step));
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Every UTC day from `from` to `to`, both included ("YYYY-MM-DD"). At most `limit` days. */
export function daysBetween(from: string, to: string, limit = 3660): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return [];
  const out: string[] = [];
  for (let t = start; t <= end && out.length < limit; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The values of `points` on every day from `from` to `to`; a day without a point is 0. */
export function fillDays<T>(from: string, to: string, points: readonly T[], day: (p: T) => string,
  value: (p: T) => number): { day: string; value: number }[] {
  const byDay = new Map<string, number>();
  for (const p of points) byDay.set(day(p).slice(0, 10), (byDay.get(day(p).slice(0, 10)) ?? 0) + value(p));
  return daysBetween(from, to).map((d) => ({ day: d, value: byDay.get(d) ?? 0 }));
}

/** Show every `n`-th of `count` x labels so that labels about `labelWidth` px wide fit in
 * `width` px; `showLabel` says whether label `index` is one of them. */
export function labelStride(count: number, width: number, labelWidth = 44): number {
  if (count <= 1 || width <= 0) return 1;
  const fits = Math.max(1, Math.floor(width / labelWidth));
  return Math.max(1, Math.ceil(count / fits));
}

export function showLabel(index: number, stride: number): boolean {
  return index % stride === 0;
}

/** UTC today as "YYYY-MM-DD", and a day `days` before or after a day. */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function firstOfMonth(day: string): string {
  return `${day.slice(0, 7)}-01`;
}
