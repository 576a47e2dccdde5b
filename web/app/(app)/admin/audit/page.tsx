"use client";
/** The audit log (FR-ADMIN-004): every admin write and refused attempt, newest first, with
 * filters (actor, action prefix, target, outcome, since) and paging by its cursor. */
import { Suspense, useEffect, useId, useState, type FormEvent } from "react";
import { AuditTable } from "@/components/audit-table";
import { ErrorAlert } from "@/components/error-alert";
import { useQueryParam } from "@/hooks/use-query-param";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { AuditEvent } from "@/lib/api/types";

const PAGE = 50;
const ACTIONS = [
  ["", "Any action"],
  ["admin.cap", "Credit caps"],
  ["admin.user", "Suspend / reactivate"],
  ["admin.models", "Model policies"],
  ["admin.manager_model", "Manager model"],
  ["admin.role", "Role grants"],
  ["billing.grant", "Credit grants"],
  ["admin.rollup", "Rollups"],
] as const;

interface Filters {
  actor: string;
  action: string;
  target: string;
  outcome: "" | "ok" | "refused";
  since: string;
}

function Audit() {
  const id = useId();
  const initialTarget = useQueryParam("target") ?? "";
  const [draft, setDraft] = useState<Filters>({ actor: "", action: "", target: initialTarget, outcome: "", since: "" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<{ before_at: string; before_id: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const query = (f: Filters) => ({
    actor: f.actor.trim() || undefined,
    action: f.action.trim() || undefined,
    target: f.target.trim() || undefined,
    outcome: f.outcome || undefined,
    // datetime-local gives YYYY-MM-DDTHH:MM (seconds only with a finer step), read as UTC
    since: f.since ? `${f.since.length === 16 ? `${f.since}:00` : f.since}Z` : undefined,
    limit: PAGE,
  });

  useEffect(() => {
    let stop = false;
    setError(null);
    call(api.GET("/api/v1/admin/audit", { params: { query: query(filters) } }))
      .then((page) => {
        if (stop) return;
        setEvents(page.events);
        setNext(page.next ?? null);
      })
      .catch((err: unknown) => !stop && setError(toApiError(err)));
    return () => {
      stop = true;
    };
  }, [filters]);

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await call(api.GET("/api/v1/admin/audit", { params: { query: { ...query(filters), ...next } } }));
      setEvents((all) => [...(all ?? []), ...page.events]);
      setNext(page.next ?? null);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setLoadingMore(false);
    }
  }

  function apply(e: FormEvent) {
    e.preventDefault();
    setFilters({ ...draft });
  }

  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const filtered = Object.values(filters).some(Boolean);

  return (
    <div className="page-inner page-wide">
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p>Every admin change and every refused attempt, newest first. Times in your time zone.</p>
        </div>
      </div>
      <form className="card card-pad filters filters-card" onSubmit={apply} aria-label="Filter the audit log" data-testid="audit-filters">
        <div className="field">
          <label className="label" htmlFor={`${id}-actor`}>Actor</label>
          <input id={`${id}-actor`} className="input" value={draft.actor} placeholder="E-mail or operator"
            onChange={(e) => set({ actor: e.target.value })} data-testid="audit-actor" />
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-action`}>Action</label>
          <select id={`${id}-action`} className="select input" value={draft.action} onChange={(e) => set({ action: e.target.value })}
            data-testid="audit-action">
            {ACTIONS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-target`}>Target</label>
          <input id={`${id}-target`} className="input" value={draft.target} placeholder="E-mail"
            onChange={(e) => set({ target: e.target.value })} />
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-outcome`}>Outcome</label>
          <select id={`${id}-outcome`} className="select input" value={draft.outcome}
            onChange={(e) => set({ outcome: e.target.value as Filters["outcome"] })}>
            <option value="">Any</option>
            <option value="ok">OK</option>
            <option value="refused">Refused</option>
          </select>
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-since`}>Since (UTC)</label>
          <input id={`${id}-since`} className="input" type="datetime-local" step={60} value={draft.since} onChange={(e) => set({ since: e.target.value })}
            data-testid="audit-since" />
        </div>
        <div className="filters-actions">
          <button className="btn btn-primary" type="submit" data-testid="audit-apply">Apply</button>
          {filtered && (
            <button className="btn btn-ghost" type="button" onClick={() => {
              const empty: Filters = { actor: "", action: "", target: "", outcome: "", since: "" };
              setDraft(empty);
              setFilters(empty);
            }}>Reset</button>
          )}
        </div>
      </form>
      {error && <ErrorAlert error={error} title="The audit log could not be loaded" />}
      {events && (
        <>
          <AuditTable events={events} />
          <div className="pager pager-plain">
            <span aria-live="polite">{events.length} event{events.length === 1 ? "" : "s"} shown</span>
            {next && (
              <button className="btn btn-sm" type="button" onClick={() => void loadMore()} disabled={loadingMore} data-testid="audit-more">
                {loadingMore ? "Loading…" : "Load older"}
              </button>
            )}
          </div>
        </>
      )}
      {!events && !error && <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading the audit log…</p>}
    </div>
  );
}

export default function AdminAuditPage() {
  return (
    <Suspense fallback={null}>
      <Audit />
    </Suspense>
  );
}
