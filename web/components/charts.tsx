"use client";
/**
 * Small charts drawn here as SVG (no chart library, nothing fetched). Every chart sits in a
 * <ChartFigure> with a visible one-line summary and a data table: the table is the chart's
 * accessible form (the SVG itself is hidden from assistive technology), and a Chart/Table
 * switch shows it to everyone.
 */
import { createContext, useContext, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { labelStride, niceTicks, showLabel } from "@/lib/charts";

export interface Series {
  name: string;
  /** A colour with at least 3:1 contrast on white (WCAG 1.4.11). */
  color: string;
  values: number[];
}

export const CHART_COLORS = {
  accent: "#4338ca",
  amber: "#b45309",
  teal: "#0f766e",
  sky: "#0369a1",
  rose: "#be123c",
} as const;

/** True inside a chart's visually hidden table: nothing there may take keyboard focus. */
const HiddenTable = createContext(false);

function useWidth<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.floor(entry.contentRect.width)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/** A card holding one chart: title, summary, legend, the chart or its table, and actions. */
export function ChartFigure({
  title, summary, table, children, actions, legend, testId,
}: {
  title: string;
  summary: ReactNode;
  table: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  legend?: { name: string; color: string }[];
  testId?: string;
}) {
  const id = useId();
  const [view, setView] = useState<"chart" | "table">("chart");
  return (
    <figure className="card chart-card" aria-labelledby={`${id}-title`} data-testid={testId}>
      <div className="chart-head">
        <div className="chart-titles">
          <h3 id={`${id}-title`}>{title}</h3>
          <p className="chart-summary" data-testid={testId ? `${testId}-summary` : undefined}>{summary}</p>
        </div>
        <div className="chart-tools">
          {actions}
          <div className="toggle-group" role="group" aria-label={`${title}: show as`}>
            <button type="button" className="toggle" aria-pressed={view === "chart"} onClick={() => setView("chart")}>Chart</button>
            <button type="button" className="toggle" aria-pressed={view === "table"} onClick={() => setView("table")}>Table</button>
          </div>
        </div>
      </div>
      {legend && legend.length > 1 && view === "chart" && (
        <ul className="chart-legend" aria-hidden="true">
          {legend.map((l) => (
            <li key={l.name}><span className="swatch" style={{ background: l.color }} />{l.name}</li>
          ))}
        </ul>
      )}
      {view === "chart" ? (
        <>
          <div className="chart-body">{children}</div>
          <div className="visually-hidden"><HiddenTable.Provider value={true}>{table}</HiddenTable.Provider></div>
        </>
      ) : (
        <div className="chart-table">{table}</div>
      )}
    </figure>
  );
}

/**
 * Values over a row of categories (usually days): grouped columns or lines. Hovering a
 * category shows its values.
 */
export function SeriesChart({
  labels, series, kind = "columns", height = 200, format, labelFormat = (l) => l, tooltipLabel, integer = false,
}: {
  labels: string[];
  series: Series[];
  kind?: "columns" | "line";
  height?: number;
  format: (n: number) => string;
  labelFormat?: (label: string) => string;
  tooltipLabel?: (label: string) => string;
  /** The values are counts: whole-number ticks. */
  integer?: boolean;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);
  const n = labels.length;
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const ticks = niceTicks(max, 4, integer);
  const top = ticks.at(-1) ?? 1;
  const tickText = ticks.map(format);
  const padLeft = Math.max(28, Math.max(...tickText.map((t) => t.length)) * 6.6 + 10);
  const padRight = 8;
  const padTop = 10;
  const padBottom = 26;
  const plotW = Math.max(0, width - padLeft - padRight);
  const plotH = height - padTop - padBottom;
  const band = n > 0 ? plotW / n : 0;
  const y = (v: number) => padTop + plotH - (v / top) * plotH;
  const stride = labelStride(n, plotW, 48);

  const groupW = Math.min(band * 0.72, 22 * series.length + 4);
  const barW = series.length ? Math.max(1, groupW / series.length - (series.length > 1 ? 2 : 0)) : 0;

  const columnPath = (x: number, value: number) => {
    const h = value > 0 ? Math.max(2, (value / top) * plotH) : 0;
    if (h === 0) return "";
    const r = Math.min(3, barW / 2, h);
    const y0 = padTop + plotH;
    const y1 = y0 - h;
    return `M${x},${y0}V${y1 + r}Q${x},${y1} ${x + r},${y1}H${x + barW - r}Q${x + barW},${y1} ${x + barW},${y1 + r}V${y0}Z`;
  };

  const activeLabel = active !== null ? labels[active] : undefined;
  const tooltipLeft = active !== null ? Math.min(Math.max(padLeft + band * (active + 0.5), 70), width - 70) : 0;

  return (
    <div ref={ref} className="series-chart" style={{ height }} onMouseLeave={() => setActive(null)}>
      {width > 0 && (
        <svg width={width} height={height} aria-hidden="true" focusable="false" className="chart-svg">
          {ticks.map((t, i) => (
            <g key={t}>
              <line x1={padLeft} x2={width - padRight} y1={y(t)} y2={y(t)} className={i === 0 ? "axis-line" : "grid-line"} />
              <text x={padLeft - 8} y={y(t)} dy="0.32em" textAnchor="end" className="tick">{tickText[i]}</text>
            </g>
          ))}
          {active !== null && (
            <rect x={padLeft + band * active} y={padTop} width={band} height={plotH} className="hover-band" />
          )}
          {kind === "columns" &&
            series.map((s, si) => (
              <g key={s.name} fill={s.color}>
                {s.values.map((v, i) => {
                  const x = padLeft + band * i + (band - groupW) / 2 + si * (barW + (series.length > 1 ? 2 : 0));
                  const d = columnPath(x, v);
                  return d ? <path key={i} d={d} /> : null;
                })}
              </g>
            ))}
          {kind === "line" &&
            series.map((s) => {
              const pts = s.values.map((v, i) => [padLeft + band * (i + 0.5), y(v)] as const);
              const line = pts.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
              const area = pts.length
                ? `${line}L${pts.at(-1)![0].toFixed(1)},${padTop + plotH}L${pts[0]![0].toFixed(1)},${padTop + plotH}Z`
                : "";
              return (
                <g key={s.name}>
                  {series.length === 1 && <path d={area} fill={s.color} opacity={0.1} />}
                  <path d={line} fill="none" stroke={s.color} strokeWidth={2} strokeLinejoin="round" strokeLinecap="round" />
                  {pts.map(([px, py], i) =>
                    n <= 14 || i === active || (s.values[i] ?? 0) > 0 ? (
                      <circle key={i} cx={px} cy={py} r={i === active ? 4.5 : 3} fill="#fff" stroke={s.color} strokeWidth={2} />
                    ) : null,
                  )}
                </g>
              );
            })}
          {labels.map((l, i) =>
            showLabel(i, stride) ? (
              <text key={l + i} x={padLeft + band * (i + 0.5)} y={height - 8} textAnchor="middle" className="tick">
                {labelFormat(l)}
              </text>
            ) : null,
          )}
          {labels.map((l, i) => (
            <rect key={`hit-${i}`} x={padLeft + band * i} y={padTop} width={band} height={plotH + padBottom}
              fill="transparent" onMouseEnter={() => setActive(i)} />
          ))}
        </svg>
      )}
      {activeLabel !== undefined && active !== null && (
        <div className="chart-tooltip" style={{ left: tooltipLeft }} aria-hidden="true">
          <div className="chart-tooltip-title">{tooltipLabel ? tooltipLabel(activeLabel) : labelFormat(activeLabel)}</div>
          {series.map((s) => (
            <div key={s.name} className="chart-tooltip-row">
              <span className="swatch" style={{ background: s.color }} />
              <span>{s.name}</span>
              <strong>{format(s.values[active] ?? 0)}</strong>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/** A ranked list of horizontal bars (models, users): each row's label and value are text. */
export function BarList({
  items, format, color = CHART_COLORS.accent, emptyText = "Nothing yet.",
}: {
  items: { key: string; label: ReactNode; value: number; detail?: ReactNode }[];
  format: (n: number) => string;
  color?: string;
  emptyText?: string;
}) {
  const max = Math.max(0, ...items.map((i) => i.value));
  if (items.length === 0) return <p className="chart-empty">{emptyText}</p>;
  return (
    <ol className="bar-list">
      {items.map((item) => (
        <li key={item.key} className="bar-row">
          <div className="bar-text">
            <span className="bar-label">{item.label}</span>
            <span className="bar-value">
              {item.detail && <span className="bar-detail">{item.detail}</span>}
              {format(item.value)}
            </span>
          </div>
          <div className="bar-track" aria-hidden="true">
            <span className="bar-fill" style={{ width: `${max > 0 ? Math.max(1.5, (item.value / max) * 100) : 0}%`, background: color }} />
          </div>
        </li>
      ))}
    </ol>
  );
}

/** A plain data table in a keyboard-scrollable wrapper. `columns[i].num` aligns right. */
export function DataTable({
  caption, columns, rows, testId, empty = "No rows.",
}: {
  caption: string;
  columns: { key: string; label: string; num?: boolean }[];
  rows: { key: string; cells: ReactNode[] }[];
  testId?: string;
  empty?: string;
}) {
  const hidden = useContext(HiddenTable);
  return (
    <div className={hidden ? undefined : "table-wrap"} tabIndex={hidden ? undefined : 0} role={hidden ? undefined : "region"}
      aria-label={hidden ? undefined : caption}>
      <table className="table" data-testid={testId}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.num ? "num" : undefined}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr><td colSpan={columns.length} className="table-empty">{empty}</td></tr>
          ) : (
            rows.map((r) => (
              <tr key={r.key}>
                {r.cells.map((cell, i) => (
                  <td key={columns[i]?.key ?? i} className={columns[i]?.num ? "num" : undefined}>{cell}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
