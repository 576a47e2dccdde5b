"use client";
/** Users, searchable by e-mail or name, with plan, balance, this month's usage, cap and status. */
import Link from "next/link";
import { useEffect, useId, useState } from "react";
import { StatusBadge } from "@/components/admin-frame";
import { ErrorAlert } from "@/components/error-alert";
import { SearchIcon } from "@/components/icons";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { AdminUser } from "@/lib/api/types";
import { ROLE_LABELS, formatCredits, timeAgo } from "@/lib/format";

const PAGE = 50;
type Status = "" | "active" | "suspended";

export default function AdminUsersPage() {
  const id = useId();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState<Status>("");
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  // Search as you type, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  useEffect(() => {
    let stop = false;
    setError(null);
    call(api.GET("/api/v1/admin/users", {
      params: { query: { search: query || undefined, status: status || undefined, limit: PAGE } },
    }))
      .then((page) => {
        if (stop) return;
        setUsers(page.users);
        setNext(page.next_after ?? null);
      })
      .catch((err: unknown) => !stop && setError(toApiError(err)));
    return () => {
      stop = true;
    };
  }, [query, status]);

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await call(api.GET("/api/v1/admin/users", {
        params: { query: { search: query || undefined, status: status || undefined, limit: PAGE, after: next } },
      }));
      setUsers((all) => [...(all ?? []), ...page.users]);
      setNext(page.next_after ?? null);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setLoadingMore(false);
    }
  }

  return (
    <div className="page-inner page-wide">
      <div className="page-head">
        <div>
          <h1>Users</h1>
          <p>Plans, balances, this month’s usage and controls. Open a user to change their cap, access or status.</p>
        </div>
      </div>
      <form className="filters" role="search" onSubmit={(e) => { e.preventDefault(); setQuery(search.trim()); }}>
        <div className="field" style={{ flex: "3 1 240px" }}>
          <label className="label" htmlFor={`${id}-search`}>Search</label>
          <div className="search-input">
            <SearchIcon />
            <input id={`${id}-search`} className="input" type="search" value={search} placeholder="E-mail or name"
              onChange={(e) => setSearch(e.target.value)} data-testid="user-search" />
          </div>
        </div>
        <div className="field">
          <label className="label" htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} className="select input" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            <option value="">Everyone</option>
            <option value="active">Active</option>
            <option value="suspended">Suspended</option>
          </select>
        </div>
      </form>
      {error && <ErrorAlert error={error} title="Users could not be loaded" />}
      {users && (
        <div className="card table-card">
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Users">
            <table className="table" data-testid="users-table">
              <caption className="visually-hidden">Users by e-mail</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Plan</th>
                  <th scope="col" className="num">Balance</th>
                  <th scope="col" className="num">Used this month</th>
                  <th scope="col" className="num">Monthly cap</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {users.length === 0 ? (
                  <tr><td colSpan={6} className="table-empty">{query ? `No users match “${query}”.` : "No users yet."}</td></tr>
                ) : (
                  users.map((u) => (
                    <tr key={u.id} data-testid="user-row" data-email={u.email}>
                      <td>
                        <div className="user-cell">
                          <Link href={`/admin/user/?email=${encodeURIComponent(u.email)}`}>{u.email}</Link>
                          <span className="hint">
                            {u.display_name ? `${u.display_name} · ` : ""}joined {timeAgo(u.created_at)}
                            {u.roles.map((r) => ` · ${ROLE_LABELS[r] ?? r}`).join("")}
                          </span>
                        </div>
                      </td>
                      <td>{u.plan_id ? <span className="badge badge-accent">{u.plan_id}</span> : <span className="hint">No plan</span>}</td>
                      <td className="num">{formatCredits(u.balances.available)}</td>
                      <td className="num">{formatCredits(u.burned_this_month)}</td>
                      <td className="num">{u.monthly_cap ? formatCredits(u.monthly_cap) : <span className="hint">None</span>}</td>
                      <td><StatusBadge status={u.status} /></td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {next && (
            <div className="pager">
              <span>{users.length} shown</span>
              <button className="btn btn-sm" type="button" onClick={() => void loadMore()} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </div>
      )}
      {!users && !error && <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading users…</p>}
    </div>
  );
}
