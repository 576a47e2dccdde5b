"use client";
/**
 * Admin analytics over a range of UTC days (FR-ADMIN-002): provider vs internal cost and the
 * margin, DAU/WAU/MAU with the daily series, the top users and models, and usage by user and
 * model paged with limit/offset. Every table downloads as CSV (`?format=csv`).
 */
import Link from "next/link";
import { useMemo, useState } from "react";
import { useLoad } from "@/hooks/use-load";
import { BarList, CHART_COLORS, ChartFigure, DataTable, SeriesChart } from "@/components/charts";
import { DateRangePicker, defaultRange, type DayRange } from "@/components/date-range";
import { ErrorAlert } from "@/components/error-alert";
import { CsvLink, csvHref } from "@/components/csv-link";
import { api, callJson } from "@/lib/api/client";
import type { ActiveUsers, AdminUsage, Costs, Top } from "@/lib/api/types";
import { fillDays } from "@/lib/charts";
import {
  MODEL_LABELS, formatCredits, formatDay, formatInt, formatPercent, formatTokens, formatUsd,
} from "@/lib/format";

const USAGE_PAGE = 25;

export default function AdminAnalyticsPage() {
  const [range, setRange] = useState<DayRange>(defaultRange);
  const { from, to } = range;
  const costs = useLoad<Costs>(() => callJson<Costs>(api.GET("/api/v1/admin/costs", { params: { query: { from, to } } })), [from, to]);
  const active = useLoad<ActiveUsers>(
    () => callJson<ActiveUsers>(api.GET("/api/v1/admin/active", { params: { query: { day: to, from } } })), [from, to]);

  return (
    <div className="page-inner page-wide">
      <div className="page-head">
        <div>
          <h1>Analytics</h1>
          <p>Costs, active users and usage, {formatDay(from, true)} – {formatDay(to, true)} (UTC).</p>
        </div>
        <DateRangePicker value={range} onChange={setRange} />
      </div>

      <section className="section" aria-labelledby="costs-title" data-testid="costs">
        <div className="section-head">
          <h2 id="costs-title">Costs and margin</h2>
          <CsvLink href={csvHref("/api/v1/admin/costs", { from, to })} label="the daily costs" />
        </div>
        {costs.error && <ErrorAlert error={costs.error} title="Costs could not be loaded" />}
        {costs.data && <CostsView costs={costs.data} />}
      </section>

      <section className="section" aria-labelledby="active-title" data-testid="active">
        <div className="section-head">
          <h2 id="active-title">Active users</h2>
          <CsvLink href={csvHref("/api/v1/admin/active", { day: to, from })} label="the active-user series" />
        </div>
        {active.error && <ErrorAlert error={active.error} title="Active users could not be loaded" />}
        {active.data && <ActiveView active={active.data} from={from} />}
      </section>

      <section className="section" aria-labelledby="top-title">
        <div className="section-head">
          <h2 id="top-title">Top users and models</h2>
        </div>
        <div className="chart-grid chart-grid-even">
          <TopCard of="users" from={from} to={to} />
          <TopCard of="models" from={from} to={to} />
        </div>
      </section>

      <section className="section" aria-labelledby="usage-title">
        <UsageTable key={`${from}-${to}`} from={from} to={to} />
      </section>
    </div>
  );
}

function CostsView({ costs }: { costs: Costs }) {
  const days = useMemo(() => {
    const provider = fillDays(costs.from, costs.to, costs.series, (p) => p.day, (p) => Number(p.provider_cost_usd));
    const internal = fillDays(costs.from, costs.to, costs.series, (p) => p.day, (p) => Number(p.internal_cost_usd));
    return provider.map((p, i) => ({ day: p.day, provider: p.value, internal: internal[i]?.value ?? 0 }));
  }, [costs]);
  const margin = Number(costs.margin_usd);
  return (
    <>
      <div className="kpis" data-testid="cost-kpis">
        <div className="card stat">
          <div className="stat-label">Provider cost</div>
          <div className="stat-value" data-testid="kpi-provider">{formatUsd(costs.provider_cost_usd)}</div>
          <div className="kpi-sub">What the model providers charged</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Internal cost</div>
          <div className="stat-value" data-testid="kpi-internal">{formatUsd(costs.internal_cost_usd)}</div>
          <div className="kpi-sub">{formatCredits(costs.credits)} credits × ${Number(costs.credit_value_usd)} a credit</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Margin</div>
          <div className="stat-value" data-testid="kpi-margin">{formatUsd(costs.margin_usd)}</div>
          <div className="kpi-sub">
            <span className={margin >= 0 ? "up" : "down"}>{formatPercent(costs.margin_ratio)}</span> of internal cost
          </div>
        </div>
        <div className="card stat">
          <div className="stat-label">Credits burned</div>
          <div className="stat-value">{formatCredits(costs.credits)}</div>
          <div className="kpi-sub">{costs.series.length} day{costs.series.length === 1 ? "" : "s"} with usage</div>
        </div>
      </div>
      <ChartFigure
        title="Cost by day"
        testId="chart-costs"
        summary={costs.series.length
          ? `Provider cost ${formatUsd(costs.provider_cost_usd)} against internal cost ${formatUsd(costs.internal_cost_usd)}: a margin of ${formatUsd(costs.margin_usd)} (${formatPercent(costs.margin_ratio)}).`
          : "No usage in this range."}
        legend={[{ name: "Provider cost", color: CHART_COLORS.amber }, { name: "Internal cost", color: CHART_COLORS.accent }]}
        table={
          <DataTable caption="Cost by day"
            columns={[{ key: "day", label: "Day" }, { key: "credits", label: "Credits", num: true },
              { key: "provider", label: "Provider cost", num: true }, { key: "internal", label: "Internal cost", num: true },
              { key: "margin", label: "Margin", num: true }]}
            rows={costs.series.map((p) => ({
              key: p.day,
              cells: [formatDay(p.day, true), formatCredits(p.credits), formatUsd(p.provider_cost_usd),
                formatUsd(p.internal_cost_usd), formatUsd(p.margin_usd)],
            }))}
            empty="No usage in this range." />
        }>
        <SeriesChart labels={days.map((d) => d.day)}
          series={[
            { name: "Provider cost", color: CHART_COLORS.amber, values: days.map((d) => d.provider) },
            { name: "Internal cost", color: CHART_COLORS.accent, values: days.map((d) => d.internal) },
          ]}
          format={formatUsd} labelFormat={(l) => formatDay(l)} tooltipLabel={(l) => formatDay(l, true)} height={220} />
      </ChartFigure>
    </>
  );
}

function ActiveView({ active, from }: { active: ActiveUsers; from: string }) {
  const days = useMemo(() => fillDays(from, active.day, active.daily, (p) => p.start, (p) => p.users), [active, from]);
  const peak = days.reduce((a, b) => (b.value > a.value ? b : a), { day: from, value: 0 });
  return (
    <>
      <div className="kpis" data-testid="active-kpis">
        <div className="card stat">
          <div className="stat-label">DAU</div>
          <div className="stat-value" data-testid="kpi-dau">{formatInt(active.dau)}</div>
          <div className="kpi-sub">on {formatDay(active.day, true)}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">WAU</div>
          <div className="stat-value" data-testid="kpi-wau">{formatInt(active.wau)}</div>
          <div className="kpi-sub">7 days to {formatDay(active.day)}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">MAU</div>
          <div className="stat-value" data-testid="kpi-mau">{formatInt(active.mau)}</div>
          <div className="kpi-sub">30 days to {formatDay(active.day)}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">DAU / MAU</div>
          <div className="stat-value">{active.mau ? formatPercent(active.dau / active.mau) : "—"}</div>
          <div className="kpi-sub">How often monthly users return</div>
        </div>
      </div>
      <ChartFigure
        title="Daily active users"
        testId="chart-active"
        summary={peak.value
          ? `Peak of ${formatInt(peak.value)} user${peak.value === 1 ? "" : "s"} on ${formatDay(peak.day)}; ${formatInt(active.dau)} on ${formatDay(active.day)}.`
          : "No active users in this range."}
        table={
          <DataTable caption="Active users by day, week and month"
            columns={[{ key: "bucket", label: "Bucket" }, { key: "start", label: "Starting" }, { key: "users", label: "Users", num: true }]}
            rows={[
              ...active.daily.map((p) => ({ key: `d${p.start}`, cells: ["Day", formatDay(p.start, true), formatInt(p.users)] })),
              ...active.weekly.map((p) => ({ key: `w${p.start}`, cells: ["Week", formatDay(p.start, true), formatInt(p.users)] })),
              ...active.monthly.map((p) => ({ key: `m${p.start}`, cells: ["Month", formatDay(p.start, true), formatInt(p.users)] })),
            ]}
            empty="No active users in this range." />
        }>
        <SeriesChart kind="line" labels={days.map((d) => d.day)}
          series={[{ name: "Active users", color: CHART_COLORS.teal, values: days.map((d) => d.value) }]}
          format={(n) => formatInt(n)} labelFormat={(l) => formatDay(l)} tooltipLabel={(l) => formatDay(l, true)} integer />
      </ChartFigure>
    </>
  );
}

function TopCard({ of, from, to }: { of: "users" | "models"; from: string; to: string }) {
  const [by, setBy] = useState<"cost" | "tokens">("cost");
  const top = useLoad<Top>(
    () => callJson<Top>(api.GET("/api/v1/admin/top", { params: { query: { of, by, from, to, limit: 10 } } })), [of, by, from, to]);
  const title = of === "users" ? "Top users" : "Top models";
  const name = (r: Top["rows"][number]) =>
    of === "users" ? r.email ?? r.user_id ?? "—" : MODEL_LABELS[r.model_alias ?? ""] ?? r.model_alias ?? "—";
  const value = (r: Top["rows"][number]) => (by === "cost" ? Number(r.credits) : r.tokens);
  const fmt = (n: number) => (by === "cost" ? `${formatCredits(String(n))} cr` : `${formatTokens(n)} tok`);
  const rows = top.data?.rows ?? [];
  return (
    <ChartFigure
      title={title}
      testId={`top-${of}`}
      summary={rows.length ? `By ${by === "cost" ? "credits" : "tokens"}: ${name(rows[0]!)} leads.` : "No usage in this range."}
      actions={
        <>
          <div className="toggle-group" role="group" aria-label={`${title}: rank by`}>
            <button type="button" className="toggle" aria-pressed={by === "cost"} onClick={() => setBy("cost")}>Cost</button>
            <button type="button" className="toggle" aria-pressed={by === "tokens"} onClick={() => setBy("tokens")}>Tokens</button>
          </div>
          <CsvLink href={csvHref("/api/v1/admin/top", { of, by, from, to, limit: 10 })} label={title.toLowerCase()} />
        </>
      }
      table={
        <DataTable caption={`${title} by ${by}`}
          columns={[{ key: "rank", label: "#", num: true }, { key: "name", label: of === "users" ? "User" : "Model" },
            { key: "calls", label: "Calls", num: true }, { key: "tokens", label: "Tokens", num: true },
            { key: "credits", label: "Credits", num: true }, { key: "cost", label: "Provider cost", num: true }]}
          rows={rows.map((r) => ({
            key: String(r.rank),
            cells: [r.rank, name(r), formatInt(r.calls), formatInt(r.tokens), formatCredits(r.credits), formatUsd(r.provider_cost_usd)],
          }))}
          empty="No usage in this range." />
      }>
      {top.error ? (
        <ErrorAlert error={top.error} />
      ) : (
        <BarList
          color={of === "users" ? CHART_COLORS.accent : CHART_COLORS.sky}
          items={rows.map((r) => ({
            key: String(r.rank),
            label: of === "users" && r.email
              ? <Link href={`/admin/user/?email=${encodeURIComponent(r.email)}`}>{r.email}</Link>
              : name(r),
            value: value(r),
          }))}
          format={fmt} emptyText="No usage in this range." />
      )}
    </ChartFigure>
  );
}

function UsageTable({ from, to }: { from: string; to: string }) {
  const [offset, setOffset] = useState(0);
  const usage = useLoad<AdminUsage>(
    () => callJson<AdminUsage>(api.GET("/api/v1/admin/usage", {
      params: { query: { from, to, by: "user,model", limit: USAGE_PAGE, offset } },
    })),
    [from, to, offset],
  );
  const data = usage.data;
  const last = data ? Math.min(data.offset + data.rows.length, data.groups) : 0;
  return (
    <>
      <div className="section-head">
        <h2 id="usage-title">Usage by user and model</h2>
        <CsvLink href={csvHref("/api/v1/admin/usage", { from, to, by: "user,model" })} label="usage by user and model" />
      </div>
      {usage.error && <ErrorAlert error={usage.error} title="Usage could not be loaded" />}
      {data && (
        <div className="card table-card" data-testid="usage-table">
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Usage by user and model">
            <table className="table">
              <caption className="visually-hidden">Usage by user and model, most credits first</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Model</th>
                  <th scope="col" className="num">Calls</th>
                  <th scope="col" className="num">Failed</th>
                  <th scope="col" className="num">Prompt</th>
                  <th scope="col" className="num">Cached</th>
                  <th scope="col" className="num">Completion</th>
                  <th scope="col" className="num">Credits</th>
                  <th scope="col" className="num">Provider cost</th>
                </tr>
              </thead>
              <tbody>
                {data.rows.length === 0 ? (
                  <tr><td colSpan={9} className="table-empty">No usage in this range.</td></tr>
                ) : (
                  data.rows.map((r) => (
                    <tr key={`${r.user_id}-${r.model_alias}`} data-testid="usage-row">
                      <td>
                        {r.email ? <Link href={`/admin/user/?email=${encodeURIComponent(r.email)}`}>{r.email}</Link> : r.user_id}
                      </td>
                      <td>{MODEL_LABELS[r.model_alias ?? ""] ?? r.model_alias}</td>
                      <td className="num">{formatInt(r.calls)}</td>
                      <td className="num">{formatInt(r.failed_calls)}</td>
                      <td className="num">{formatInt(r.prompt_tokens)}</td>
                      <td className="num">{formatInt(r.cached_tokens)}</td>
                      <td className="num">{formatInt(r.completion_tokens)}</td>
                      <td className="num">{formatCredits(r.credits)}</td>
                      <td className="num">{formatUsd(r.provider_cost_usd)}</td>
                    </tr>
                  ))
                )}
              </tbody>
              {data.rows.length > 0 && (
                <tfoot>
                  <tr>
                    <td colSpan={2}>Total · {formatInt(data.groups)} row{data.groups === 1 ? "" : "s"}</td>
                    <td className="num">{formatInt(data.totals.calls)}</td>
                    <td className="num">{formatInt(data.totals.failed_calls)}</td>
                    <td className="num">{formatInt(data.totals.prompt_tokens)}</td>
                    <td className="num">{formatInt(data.totals.cached_tokens)}</td>
                    <td className="num">{formatInt(data.totals.completion_tokens)}</td>
                    <td className="num">{formatCredits(data.totals.credits)}</td>
                    <td className="num">{formatUsd(data.totals.provider_cost_usd)}</td>
                  </tr>
                </tfoot>
              )}
            </table>
          </div>
          <div className="pager">
            <span aria-live="polite" data-testid="usage-range">
              {data.groups ? `${formatInt(data.offset + 1)}–${formatInt(last)} of ${formatInt(data.groups)}` : "0 rows"}
            </span>
            <div className="pager-buttons">
              <button className="btn btn-sm" type="button" disabled={offset === 0}
                onClick={() => setOffset(Math.max(0, offset - USAGE_PAGE))}>Previous</button>
              <button className="btn btn-sm" type="button" disabled={last >= data.groups}
                onClick={() => setOffset(offset + USAGE_PAGE)} data-testid="usage-next">Next</button>
            </div>
          </div>
        </div>
      )}
    </>
  );
}
