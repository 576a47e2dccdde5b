"use client";
/** A range of UTC days: presets (7, 30, 90 days, this month) or two date fields. */
import { useId } from "react";
import { addDays, firstOfMonth, utcToday } from "@/lib/charts";

export interface DayRange {
  from: string;
  to: string;
}

const PRESETS = [
  { id: "7d", label: "7 days", range: (t: string) => ({ from: addDays(t, -6), to: t }) },
  { id: "30d", label: "30 days", range: (t: string) => ({ from: addDays(t, -29), to: t }) },
  { id: "90d", label: "90 days", range: (t: string) => ({ from: addDays(t, -89), to: t }) },
  { id: "month", label: "This month", range: (t: string) => ({ from: firstOfMonth(t), to: t }) },
];

export function defaultRange(): DayRange {
  const t = utcToday();
  return { from: addDays(t, -29), to: t };
}

export function DateRangePicker({ value, onChange }: { value: DayRange; onChange: (r: DayRange) => void }) {
  const id = useId();
  const today = utcToday();
  return (
    <div className="date-range" role="group" aria-label="Date range (UTC days)">
      <div className="toggle-group" role="group" aria-label="Presets">
        {PRESETS.map((p) => {
          const r = p.range(today);
          const on = r.from === value.from && r.to === value.to;
          return (
            <button key={p.id} type="button" className="toggle" aria-pressed={on} onClick={() => onChange(r)}>{p.label}</button>
          );
        })}
      </div>
      <div className="date-fields">
        <label className="visually-hidden" htmlFor={`${id}-from`}>From</label>
        <input id={`${id}-from`} className="input input-sm" type="date" value={value.from} max={value.to}
          onChange={(e) => e.target.value && onChange({ ...value, from: e.target.value })} data-testid="range-from" />
        <span aria-hidden="true">–</span>
        <label className="visually-hidden" htmlFor={`${id}-to`}>To</label>
        <input id={`${id}-to`} className="input input-sm" type="date" value={value.to} min={value.from} max={today}
          onChange={(e) => e.target.value && onChange({ ...value, to: e.target.value })} data-testid="range-to" />
      </div>
    </div>
  );
}
