"use client";
/** Audit events as a table: when, who (and their role), what, on whom, the outcome, the
 * reason and what changed (before → after). */
import type { AuditEvent } from "@/lib/api/types";
import { formatDateTime } from "@/lib/format";

function changes(event: AuditEvent): string {
  const keys = [...new Set([...Object.keys(event.before), ...Object.keys(event.after)])];
  const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(event.before[k]) !== JSON.stringify(event.after[k]))
    .map((k) => `${k}: ${show(event.before[k])} → ${show(event.after[k])}`)
    .join("; ");
}

export function AuditTable({ events, compact = false }: { events: AuditEvent[]; compact?: boolean }) {
  return (
    <div className="card table-card">
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
        <table className="table" data-testid="audit-table">
          <caption className="visually-hidden">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              {!compact && <th scope="col">Target</th>}
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {events.length === 0 ? (
              <tr><td colSpan={compact ? 6 : 7} className="table-empty">No audit events.</td></tr>
            ) : (
              events.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action} data-outcome={e.outcome}>
                  <td><time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time></td>
                  <td>
                    <div className="user-cell">
                      <span>{e.actor}</span>
                      <span className="hint">{e.role}{e.client ? ` · ${e.client}` : ""}</span>
                    </div>
                  </td>
                  <td><code>{e.action}</code></td>
                  {!compact && <td>{e.target}</td>}
                  <td>
                    {e.outcome === "ok"
                      ? <span className="badge badge-success">OK</span>
                      : <span className="badge badge-danger">Refused</span>}
                  </td>
                  <td className="cell-wrap">{e.reason || <span className="hint">—</span>}</td>
                  <td><div className="diff">{changes(e) || "—"}</div></td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
