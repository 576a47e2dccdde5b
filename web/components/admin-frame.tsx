"use client";
/**
 * The admin area's frame: only owners and analysts see it (the server refuses everyone
 * else anyway), with tabs for its screens and, for analysts, a note that it is read-only.
 */
import Link from "next/link";
import { usePathname } from "next/navigation";
import { createContext, useContext, type ReactNode } from "react";
import { isAdmin, isOwner } from "@/lib/roles";
import { LockIcon } from "./icons";
import { useSession } from "./session-provider";

const TABS = [
  { href: "/admin/", label: "Analytics", match: (p: string) => p === "/admin" || p === "/admin/" },
  { href: "/admin/users/", label: "Users", match: (p: string) => p.startsWith("/admin/user") },
  { href: "/admin/audit/", label: "Audit log", match: (p: string) => p.startsWith("/admin/audit") },
  { href: "/admin/settings/", label: "Settings", match: (p: string) => p.startsWith("/admin/settings") },
];

const CanWrite = createContext(false);

/** Whether the signed-in admin may change things (owners), or only look (analysts). */
export function useCanWrite(): boolean {
  return useContext(CanWrite);
}

export function AdminFrame({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const pathname = usePathname();
  if (!isAdmin(me.roles)) {
    return (
      <div className="page">
        <div className="page-inner">
          <div className="card empty" data-testid="admin-denied">
            <h1 className="empty-title">Admins only</h1>
            <p>The admin dashboard is for owners and analysts. Ask an owner to grant you a role.</p>
          </div>
        </div>
      </div>
    );
  }
  const owner = isOwner(me.roles);
  return (
    <CanWrite.Provider value={owner}>
      <div className="page">
        <div className="admin-top">
          <div className="page-inner page-wide admin-top-inner">
            <div className="admin-title">
              <span className="admin-kicker">Admin</span>
              <span className={`badge ${owner ? "badge-accent" : ""}`} data-testid="admin-role">{owner ? "Owner" : "Analyst · read-only"}</span>
            </div>
            <nav aria-label="Admin" className="tabs">
              {TABS.map((t) => (
                <Link key={t.href} href={t.href} className="tab" aria-current={t.match(pathname) ? "page" : undefined}>
                  {t.label}
                </Link>
              ))}
            </nav>
          </div>
        </div>
        {!owner && (
          <div className="page-inner page-wide readonly-wrap">
            <div className="alert alert-info readonly-note" data-testid="readonly-note">
              <LockIcon />
              <div className="alert-body">
                <strong>Read-only.</strong> As an analyst you see everything here; changes to users and settings need an owner.
              </div>
            </div>
          </div>
        )}
        {children}
      </div>
    </CanWrite.Provider>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return status === "suspended"
    ? <span className="badge badge-danger" data-testid="user-status">Suspended</span>
    : <span className="badge badge-success" data-testid="user-status">Active</span>;
}

/** Why a control is disabled, for analysts. */
export function ReadOnlyReason() {
  return (
    <p className="readonly-reason" data-testid="readonly-reason">
      <LockIcon /> Owners only — you have read-only access.
    </p>
  );
}
