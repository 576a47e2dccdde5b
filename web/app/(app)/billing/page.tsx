"use client";
/**
 * Billing and usage (UI-002 #5): the wallet's buckets, usage by day and by model as charts
 * (each with its table), plans and top-up packs through Stripe Checkout, the customer portal,
 * and the credit ledger paged by its cursor.
 */
import { Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { BarList, CHART_COLORS, ChartFigure, DataTable, SeriesChart } from "@/components/charts";
import { ErrorAlert } from "@/components/error-alert";
import { useSession } from "@/components/session-provider";
import { useQueryParam } from "@/hooks/use-query-param";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { LedgerEntry, Offer, Usage } from "@/lib/api/types";
import { HOLDS } from "@/lib/billing";
import { addDays, fillDays, firstOfMonth, utcToday } from "@/lib/charts";
import {
  MODEL_LABELS, creditsLabel, formatCredits, formatDateTime, formatDay, formatInt, formatSignedCredits, formatTokens,
} from "@/lib/format";

type Period = "month" | "7d" | "30d";
const PERIODS: { id: Period; label: string }[] = [
  { id: "month", label: "This month" },
  { id: "7d", label: "Last 7 days" },
  { id: "30d", label: "Last 30 days" },
];

function periodStart(period: Period, today: string): string {
  if (period === "7d") return addDays(today, -6);
  if (period === "30d") return addDays(today, -29);
  return firstOfMonth(today);
}

const KIND_TEXT: Record<string, { label: string; detail: string; tone: string }> = {
  grant: { label: "Credits added", detail: "Grant", tone: "badge-success" },
  burn: { label: "Usage", detail: "Model and tool calls", tone: "" },
  reserve: { label: "Hold", detail: "Held for a call in progress", tone: "badge-warning" },
  release: { label: "Hold released", detail: "Given back when the call finished", tone: "" },
  expire: { label: "Expired", detail: "Unused plan credits at the end of the period", tone: "badge-warning" },
  adjust: { label: "Adjustment", detail: "Corrected by an admin", tone: "badge-accent" },
  refund: { label: "Refund", detail: "Taken back after a refunded payment", tone: "badge-danger" },
};
const LEDGER_PAGE = 100;

function Billing() {
  const { me, wallet, refreshWallet } = useSession();
  const checkout = useQueryParam("checkout");
  const today = utcToday();
  const [period, setPeriod] = useState<Period>("month");
  const [byModel, setByModel] = useState<Usage | null>(null);
  const [byDay, setByDay] = useState<Usage | null>(null);
  const [usageError, setUsageError] = useState<ApiError | null>(null);
  const [offer, setOffer] = useState<Offer | null>(null);
  const [entries, setEntries] = useState<LedgerEntry[]>([]);
  const [cursor, setCursor] = useState<{ before_at: string; before_id: string } | null>(null);
  const [ledgerLoaded, setLedgerLoaded] = useState(false);
  const [ledgerError, setLedgerError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [showHolds, setShowHolds] = useState(false);
  const [buying, setBuying] = useState<string | null>(null);
  const [payError, setPayError] = useState<ApiError | null>(null);

  const from = periodStart(period, today);

  useEffect(() => {
    let stop = false;
    setUsageError(null);
    const query = { from };
    Promise.all([
      call(api.GET("/api/v1/billing/usage", { params: { query: { ...query, by: "model" } } })),
      call(api.GET("/api/v1/billing/usage", { params: { query: { ...query, by: "day" } } })),
    ])
      .then(([models, days]) => {
        if (stop) return;
        setByModel(models);
        setByDay(days);
      })
      .catch((err: unknown) => !stop && setUsageError(toApiError(err)));
    return () => {
      stop = true;
    };
  }, [from]);

  const loadLedger = useCallback(async (before: { before_at: string; before_id: string } | null) => {
    const page = await call(api.GET("/api/v1/billing/ledger", {
      params: { query: { limit: LEDGER_PAGE, ...(before ?? {}) } },
    }));
    setEntries((all) => (before ? [...all, ...page.entries] : page.entries));
    setCursor(page.next ?? null);
    setLedgerLoaded(true);
  }, []);

  useEffect(() => {
    void refreshWallet();
    loadLedger(null).catch((err: unknown) => setLedgerError(toApiError(err)));
    call(api.GET("/api/v1/billing/plans")).then(setOffer).catch((err: unknown) => setPayError(toApiError(err)));
  }, [loadLedger, refreshWallet]);

  async function loadMore() {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      await loadLedger(cursor);
    } catch (err) {
      setLedgerError(toApiError(err));
    } finally {
      setLoadingMore(false);
    }
  }

  async function startCheckout(body: { plan_id: string } | { pack_id: string }, key: string) {
    setBuying(key);
    setPayError(null);
    try {
      const { url } = await call(api.POST("/api/v1/billing/checkout", { body }));
      window.location.assign(url);
    } catch (err) {
      setPayError(toApiError(err));
      setBuying(null);
    }
  }

  async function openPortal() {
    setBuying("portal");
    setPayError(null);
    try {
      const { url } = await call(api.POST("/api/v1/billing/portal"));
      window.location.assign(url);
    } catch (err) {
      setPayError(toApiError(err));
      setBuying(null);
    }
  }

  const visible = showHolds ? entries : entries.filter((e) => !HOLDS.has(e.kind));
  const days = useMemo(
    () => (byDay ? fillDays(from, today, byDay.rows, (r) => r.key, (r) => Number(r.credits)) : []),
    [byDay, from, today],
  );
  const plan = Number(wallet?.balances.plan ?? 0);
  const topup = Number(wallet?.balances.topup ?? 0);
  const available = Number(wallet?.balances.available ?? 0);
  const held = Number(wallet?.balances.reserved ?? 0);
  const cap = wallet?.monthly_cap ? Number(wallet.monthly_cap) : null;
  const burned = Number(wallet?.burned_this_month ?? 0);
  const meterTotal = Math.max(plan + topup + held, 1e-9);
  const periodLabel = PERIODS.find((p) => p.id === period)!.label.toLowerCase();

  return (
    <div className="page">
      <div className="page-inner page-wide">
        <div className="page-head">
          <div>
            <h1>Billing &amp; usage</h1>
            <p>Your credits, what they went on, and ways to add more.</p>
          </div>
          <button className="btn" type="button" onClick={() => void openPortal()} disabled={buying !== null}
            data-testid="portal-button">
            {buying === "portal" ? "Opening…" : "Manage billing"}
          </button>
        </div>

        {checkout === "success" && (
          <div className="alert alert-success" role="status" style={{ marginBottom: "1.5rem" }}>
            <div className="alert-body"><strong>Payment received.</strong> Your credits arrive as soon as Stripe confirms it — usually within a minute.</div>
          </div>
        )}
        {checkout === "cancelled" && (
          <div className="alert alert-info" role="status" style={{ marginBottom: "1.5rem" }}>
            <div className="alert-body">Checkout was cancelled; nothing was charged.</div>
          </div>
        )}

        <section className="section" aria-labelledby="wallet-title">
          <div className="section-head">
            <h2 id="wallet-title">Wallet</h2>
            {wallet?.plan ? (
              <span className="badge badge-accent">{wallet.plan.name} plan{wallet.subscription_status && wallet.subscription_status !== "active" ? ` · ${wallet.subscription_status.replace("_", " ")}` : ""}</span>
            ) : (
              <span className="badge">No plan</span>
            )}
          </div>
          {wallet ? (
            <div className="wallet-grid" data-testid="wallet-buckets">
              <div className="card wallet-main">
                <div className="stat-label">Available credits</div>
                <div className="wallet-amount" data-testid="bucket-available">{formatCredits(wallet.balances.available)}</div>
                <div className="meter" aria-hidden="true">
                  <span style={{ width: `${(plan / meterTotal) * 100}%`, background: CHART_COLORS.accent }} />
                  <span style={{ width: `${(topup / meterTotal) * 100}%`, background: CHART_COLORS.teal }} />
                  <span style={{ width: `${(held / meterTotal) * 100}%`, background: CHART_COLORS.amber }} />
                </div>
                <dl className="bucket-list">
                  <div>
                    <dt><span className="swatch" style={{ background: CHART_COLORS.accent }} />Plan credits</dt>
                    <dd data-testid="bucket-plan">{formatCredits(wallet.balances.plan)}</dd>
                    <dd className="bucket-note">
                      {wallet.period_end ? <>Expire {formatDateTime(wallet.period_end)}</> : "No plan period"}
                    </dd>
                  </div>
                  <div>
                    <dt><span className="swatch" style={{ background: CHART_COLORS.teal }} />Top-up credits</dt>
                    <dd data-testid="bucket-topup">{formatCredits(wallet.balances.topup)}</dd>
                    <dd className="bucket-note">Never expire</dd>
                  </div>
                  <div>
                    <dt><span className="swatch" style={{ background: CHART_COLORS.amber }} />Reserved</dt>
                    <dd data-testid="bucket-reserved">{formatCredits(String(held))}</dd>
                    <dd className="bucket-note">Held for calls in progress</dd>
                  </div>
                </dl>
                <p className="hint wallet-foot" data-testid="period-end">
                  {wallet.period_end
                    ? <>The plan period ends <strong>{formatDateTime(wallet.period_end)}</strong>; unused plan credits expire then. </>
                    : <>No plan period: pick a plan below for monthly credits. </>}
                  Spending takes plan credits first; available is plan plus top-up, after holds.
                </p>
              </div>
              <div className="wallet-side">
                <div className="card stat">
                  <div className="stat-label">Used this month</div>
                  <div className="stat-value" data-testid="burned-this-month">{formatCredits(wallet.burned_this_month)}</div>
                  {cap !== null ? (
                    <>
                      <div className="meter meter-thin" aria-hidden="true">
                        <span style={{ width: `${Math.min(100, (burned / Math.max(cap, 1e-9)) * 100)}%`, background: burned >= cap ? "var(--danger)" : CHART_COLORS.accent }} />
                      </div>
                      <div className="hint">of a {formatCredits(wallet.monthly_cap)} credit monthly cap</div>
                    </>
                  ) : (
                    <div className="hint">No monthly cap</div>
                  )}
                </div>
                <div className="card stat">
                  <div className="stat-label">Models you can use</div>
                  <div className="chip-row">
                    {wallet.models.map((m) => <span key={m} className="badge">{MODEL_LABELS[m] ?? m}</span>)}
                  </div>
                </div>
              </div>
            </div>
          ) : (
            <p className="hint">Your wallet could not be loaded.</p>
          )}
          {available <= 0 && wallet && (
            <div className="alert alert-warning" style={{ marginTop: "0.75rem" }}>
              <div className="alert-body"><strong>You’re out of credits.</strong> Sends are refused until you add more below.</div>
            </div>
          )}
        </section>

        <section className="section" aria-labelledby="usage-title">
          <div className="section-head section-head-wrap">
            <h2 id="usage-title">Usage</h2>
            <div className="toggle-group" role="group" aria-label="Usage period">
              {PERIODS.map((p) => (
                <button key={p.id} type="button" className="toggle" aria-pressed={period === p.id}
                  onClick={() => setPeriod(p.id)}>{p.label}</button>
              ))}
            </div>
          </div>
          {usageError && <ErrorAlert error={usageError} title="Usage could not be loaded" />}
          {byModel && byDay && (
            <>
              <div className="stats stats-compact" data-testid="usage-totals">
                <div className="card stat"><div className="stat-label">Credits</div><div className="stat-value">{formatCredits(byModel.totals.credits)}</div></div>
                <div className="card stat"><div className="stat-label">Calls</div><div className="stat-value">{formatInt(byModel.totals.calls)}</div></div>
                <div className="card stat"><div className="stat-label">Tokens</div><div className="stat-value">{formatTokens(byModel.totals.tokens)}</div></div>
              </div>
              <div className="chart-grid">
                <ChartFigure
                  title="Credits by day"
                  testId="chart-by-day"
                  summary={summaryByDay(days, periodLabel)}
                  table={
                    <DataTable caption={`Credits by day, ${periodLabel}`}
                      columns={[{ key: "day", label: "Day" }, { key: "calls", label: "Calls", num: true },
                        { key: "tokens", label: "Tokens", num: true }, { key: "credits", label: "Credits", num: true }]}
                      rows={byDay.rows.map((r) => ({
                        key: r.key, cells: [formatDay(r.key, true), formatInt(r.calls), formatInt(r.tokens), formatCredits(r.credits)],
                      }))}
                      empty="No usage in this period." />
                  }>
                  <SeriesChart labels={days.map((d) => d.day)}
                    series={[{ name: "Credits", color: CHART_COLORS.accent, values: days.map((d) => d.value) }]}
                    format={(n) => formatCredits(String(n))} labelFormat={(l) => formatDay(l)}
                    tooltipLabel={(l) => formatDay(l, true)} />
                </ChartFigure>
                <ChartFigure
                  title="By model"
                  testId="chart-by-model"
                  summary={byModel.rows.length
                    ? `${byModel.rows.length} model${byModel.rows.length === 1 ? "" : "s"}; most credits on ${MODEL_LABELS[byModel.rows[0]!.key] ?? byModel.rows[0]!.key}.`
                    : `No usage ${periodLabel}.`}
                  table={
                    <DataTable caption={`Usage by model, ${periodLabel}`}
                      columns={[{ key: "model", label: "Model" }, { key: "calls", label: "Calls", num: true },
                        { key: "tokens", label: "Tokens", num: true }, { key: "credits", label: "Credits", num: true }]}
                      rows={byModel.rows.map((r) => ({
                        key: r.key, cells: [MODEL_LABELS[r.key] ?? r.key, formatInt(r.calls), formatInt(r.tokens), formatCredits(r.credits)],
                      }))}
                      empty="No usage in this period." />
                  }>
                  <BarList
                    items={[...byModel.rows].sort((a, b) => Number(b.credits) - Number(a.credits)).map((r) => ({
                      key: r.key, label: MODEL_LABELS[r.key] ?? r.key, value: Number(r.credits),
                      detail: `${formatTokens(r.tokens)} tokens · `,
                    }))}
                    format={(n) => creditsLabel(String(n))} emptyText={`No usage ${periodLabel}.`} />
                </ChartFigure>
              </div>
            </>
          )}
          {!byModel && !usageError && <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading usage…</p>}
        </section>

        <section className="section" aria-labelledby="plans-title" data-testid="plans">
          <div className="section-head">
            <h2 id="plans-title">Plans and credits</h2>
          </div>
          {payError && (
            <div style={{ marginBottom: "1rem" }}>
              <ErrorAlert error={payError} testId="checkout-error" onDismiss={() => setPayError(null)}
                message={payError.code === "payments_not_configured"
                  ? "This Pantheon server has no Stripe account connected, so plans and top-up packs can’t be bought here yet. Ask an owner to add credits to your wallet."
                  : payError.code === "no_billing_account"
                    ? "Your billing account is created with your first purchase; there is nothing to manage yet."
                    : undefined}>
                {payError.code === "payments_not_configured" && (
                  <p className="alert-text alert-small">
                    Owners can run <code>pantheon billing grant {me.email} 500 --reason "…"</code>, or connect Stripe to sell plans.
                  </p>
                )}
              </ErrorAlert>
            </div>
          )}
          {offer ? (
            <>
              <ul className="plan-grid list-plain">
                {offer.plans.map((p) => {
                  const current = wallet?.plan?.id === p.id;
                  return (
                    <li key={p.id} className={`card plan-card${current ? " plan-current" : ""}`} data-testid="plan-card">
                      <div className="plan-top">
                        <h3>{p.name}</h3>
                        {current && <span className="badge badge-accent">Current plan</span>}
                      </div>
                      <div className="plan-price"><strong>${Number(p.price_usd).toLocaleString("en-US")}</strong> / month</div>
                      <div className="plan-credits">{formatInt(Number(p.monthly_credits))} credits every month</div>
                      <ul className="plan-models">
                        {p.models.map((m) => <li key={m}>{MODEL_LABELS[m] ?? m}</li>)}
                      </ul>
                      <button className={`btn ${current ? "" : "btn-primary"} plan-cta`} type="button"
                        disabled={buying !== null || current}
                        onClick={() => void startCheckout({ plan_id: p.id }, p.id)}>
                        {buying === p.id ? "Opening checkout…" : current ? "Your plan" : `Choose ${p.name}`}
                      </button>
                    </li>
                  );
                })}
              </ul>
              <h3 className="subhead">Top-up packs</h3>
              {offer.topups.length ? (
                <ul className="pack-grid list-plain">
                  {offer.topups.map((t) => (
                    <li key={t.id} className="card pack-card" data-testid="pack-card">
                      <div>
                        <div className="pack-credits">{formatInt(Number(t.credits))} credits</div>
                        <div className="hint">One-off · never expire</div>
                      </div>
                      <button className="btn" type="button" disabled={buying !== null}
                        onClick={() => void startCheckout({ pack_id: t.id }, t.id)}>
                        {buying === t.id ? "Opening…" : "Buy"}
                      </button>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="hint">No top-up packs are on sale on this server.</p>
              )}
              <p className="hint" style={{ marginTop: "0.75rem" }}>
                Checkout and billing open Stripe’s secure pages. Credits arrive once the payment clears.
              </p>
            </>
          ) : (
            !payError && <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading plans…</p>
          )}
        </section>

        <section className="section" aria-labelledby="ledger-title">
          <div className="section-head section-head-wrap">
            <h2 id="ledger-title">Credit history</h2>
            <label className="check">
              <input type="checkbox" checked={showHolds} onChange={(e) => setShowHolds(e.target.checked)} />
              Show holds and releases
            </label>
          </div>
          {ledgerError && <ErrorAlert error={ledgerError} title="The credit history could not be loaded" />}
          {ledgerLoaded && (
            <div className="card">
              {visible.length === 0 ? (
                <p className="empty">No entries yet.</p>
              ) : (
                <ul className="ledger list-plain" data-testid="ledger">
                  {visible.map((e) => {
                    const kind = KIND_TEXT[e.kind] ?? { label: e.kind, detail: "", tone: "" };
                    const amount = Number(e.amount);
                    return (
                      <li key={e.id} className="ledger-row" data-testid="ledger-entry" data-kind={e.kind}>
                        <div className="ledger-main">
                          <div className="ledger-title">
                            <span className={`badge ${kind.tone}`}>{kind.label}</span>
                            <span className="ledger-detail">{e.note || kind.detail}</span>
                          </div>
                          <div className="ledger-meta">
                            <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time> · {e.bucket === "plan" ? "Plan credits" : "Top-up credits"}
                          </div>
                        </div>
                        <div className={`ledger-amount ${amount > 0 ? "pos" : amount < 0 ? "neg" : ""}`}>
                          {formatSignedCredits(e.amount)}
                        </div>
                      </li>
                    );
                  })}
                </ul>
              )}
              {cursor && (
                <div className="ledger-more">
                  <button className="btn btn-sm" type="button" onClick={() => void loadMore()} disabled={loadingMore}
                    data-testid="ledger-more">
                    {loadingMore ? "Loading…" : "Load older entries"}
                  </button>
                </div>
              )}
            </div>
          )}
        </section>
      </div>
    </div>
  );
}

function summaryByDay(days: { day: string; value: number }[], periodLabel: string): string {
  const total = days.reduce((s, d) => s + d.value, 0);
  if (total === 0) return `No credits used ${periodLabel}.`;
  const peak = days.reduce((a, b) => (b.value > a.value ? b : a));
  const active = days.filter((d) => d.value > 0).length;
  return `${creditsLabel(String(total))} over ${active} day${active === 1 ? "" : "s"}; most on ${formatDay(peak.day)} (${formatCredits(String(peak.value))}).`;
}

export default function BillingPage() {
  return (
    <Suspense fallback={null}>
      <Billing />
    </Suspense>
  );
}
