"use client";
/**
 * One user (FR-ADMIN-003): wallet, plan, usage and running turns, and the owner's controls —
 * monthly credit cap, suspend/reactivate with a reason, model access policy, a credit grant —
 * with this user's latest audit entries. Analysts see the controls disabled; the server
 * refuses their writes anyway (403 `owner_required`), and that error is shown as it comes.
 */
import Link from "next/link";
import { Suspense, useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { ReadOnlyReason, StatusBadge, useCanWrite } from "@/components/admin-frame";
import { AuditTable } from "@/components/audit-table";
import { ErrorAlert } from "@/components/error-alert";
import { BackIcon } from "@/components/icons";
import { useSession } from "@/components/session-provider";
import { useModels } from "@/hooks/use-models";
import { useQueryParam } from "@/hooks/use-query-param";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { AdminUser, AuditEvent, ModelPolicyIn } from "@/lib/api/types";
import { MODEL_LABELS, ROLE_LABELS, formatCredits, formatDateTime } from "@/lib/format";

type Action = "cap" | "status" | "policy" | "grant";

function UserDetail({ email }: { email: string }) {
  const { me } = useSession();
  const canWrite = useCanWrite();
  const [user, setUser] = useState<AdminUser | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [audit, setAudit] = useState<AuditEvent[] | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const [errors, setErrors] = useState<Partial<Record<Action, ApiError>>>({});
  const [done, setDone] = useState<Partial<Record<Action, string>>>({});

  const loadAudit = useCallback(async () => {
    const page = await call(api.GET("/api/v1/admin/audit", { params: { query: { target: email, limit: 10 } } }));
    setAudit(page.events);
  }, [email]);

  useEffect(() => {
    call(api.GET("/api/v1/admin/users/{email}", { params: { path: { email } } }))
      .then(setUser)
      .catch((err: unknown) => setLoadError(toApiError(err)));
    loadAudit().catch(() => setAudit([]));
  }, [email, loadAudit]);

  /** Runs one control's request; the answer is the user as they are now. */
  async function act(action: Action, request: () => Promise<AdminUser | null>, message: string): Promise<boolean> {
    setBusy(action);
    setErrors((e) => ({ ...e, [action]: undefined }));
    setDone((d) => ({ ...d, [action]: undefined }));
    try {
      const updated = await request();
      if (updated) setUser(updated);
      else setUser(await call(api.GET("/api/v1/admin/users/{email}", { params: { path: { email } } })));
      setDone((d) => ({ ...d, [action]: message }));
      return true;
    } catch (err) {
      setErrors((e) => ({ ...e, [action]: toApiError(err) }));
      return false;
    } finally {
      setBusy(null);
      void loadAudit().catch(() => undefined);
    }
  }

  if (loadError) {
    return (
      <div className="page-inner page-wide">
        <BackLink />
        <ErrorAlert error={loadError} title={loadError.status === 404 ? "No such user" : "The user could not be loaded"} />
      </div>
    );
  }
  if (!user) {
    return <div className="page-inner page-wide"><p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading user…</p></div>;
  }

  const path = { params: { path: { email } } };
  const self = user.email === me.email;

  return (
    <div className="page-inner page-wide" data-testid="user-detail">
      <BackLink />
      <div className="page-head">
        <div>
          <h1 className="user-title">{user.email}</h1>
          <p>
            <StatusBadge status={user.status} />{" "}
            {user.roles.map((r) => <span key={r} className="badge badge-accent" style={{ marginRight: 4 }}>{ROLE_LABELS[r] ?? r}</span>)}
            {user.display_name ? `${user.display_name} · ` : ""}Joined {formatDateTime(user.created_at)}
          </p>
        </div>
      </div>

      <div className="kpis">
        <div className="card stat">
          <div className="stat-label">Available credits</div>
          <div className="stat-value" data-testid="user-available">{formatCredits(user.balances.available)}</div>
          <div className="kpi-sub">{formatCredits(user.balances.plan)} plan · {formatCredits(user.balances.topup)} top-up</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Used this month</div>
          <div className="stat-value">{formatCredits(user.burned_this_month)}</div>
          <div className="kpi-sub" data-testid="user-cap">{user.monthly_cap ? `Cap ${formatCredits(user.monthly_cap)} credits` : "No monthly cap"}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Plan</div>
          <div className="stat-value">{user.plan_id ? user.plan_id[0]!.toUpperCase() + user.plan_id.slice(1) : "None"}</div>
          <div className="kpi-sub">{user.models.length} model{user.models.length === 1 ? "" : "s"} allowed</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Running turns</div>
          <div className="stat-value">{user.running_turns}</div>
          <div className="kpi-sub">Cancelled if the user is suspended</div>
        </div>
      </div>

      <h2 className="visually-hidden">Controls</h2>
      <div className="detail-grid">
        <CapControl user={user} canWrite={canWrite} busy={busy === "cap"} error={errors.cap} done={done.cap}
          onSet={(credits) => act("cap", () => call(api.PUT("/api/v1/admin/users/{email}/cap", { ...path, body: { credits } })),
            `Cap set to ${formatCredits(credits)} credits.`)}
          onClear={() => act("cap", () => call(api.DELETE("/api/v1/admin/users/{email}/cap", path)), "Cap cleared.")}
          onDismiss={() => setErrors((e) => ({ ...e, cap: undefined }))} />
        <StatusControl user={user} self={self} canWrite={canWrite} busy={busy === "status"} error={errors.status} done={done.status}
          onSubmit={(reason) => user.status === "active"
            ? act("status", () => call(api.POST("/api/v1/admin/users/{email}/suspend", { ...path, body: { reason } })), "User suspended.")
            : act("status", () => call(api.POST("/api/v1/admin/users/{email}/reactivate", { ...path, body: { reason } })), "User reactivated.")}
          onDismiss={() => setErrors((e) => ({ ...e, status: undefined }))} />
        <PolicyControl user={user} canWrite={canWrite} busy={busy === "policy"} error={errors.policy} done={done.policy}
          onSubmit={(body) => act("policy", () => call(api.PUT("/api/v1/admin/users/{email}/models", { ...path, body })), "Model access saved.")}
          onDismiss={() => setErrors((e) => ({ ...e, policy: undefined }))} />
        <GrantControl canWrite={canWrite} busy={busy === "grant"} error={errors.grant} done={done.grant}
          onSubmit={(credits, reason) => act("grant", async () => {
            await call(api.POST("/api/v1/admin/users/{email}/grants", { ...path, body: { credits, reason } }));
            return null;
          }, `Granted ${formatCredits(credits)} credits.`)}
          onDismiss={() => setErrors((e) => ({ ...e, grant: undefined }))} />
      </div>

      <section className="section section-spaced" aria-labelledby="user-audit-title">
        <div className="section-head">
          <h2 id="user-audit-title">Recent admin actions on this user</h2>
          <Link className="csv-link" href={`/admin/audit/?target=${encodeURIComponent(email)}`}>Full audit log</Link>
        </div>
        {audit ? <AuditTable events={audit} compact /> : <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading…</p>}
      </section>
    </div>
  );
}

function BackLink() {
  return <Link className="back-link" href="/admin/users/"><BackIcon /> All users</Link>;
}

interface ControlProps {
  canWrite: boolean;
  busy: boolean;
  error?: ApiError;
  done?: string;
  onDismiss: () => void;
}

function Control({ title, testId, description, canWrite, error, done, onDismiss, onSubmit, children }: {
  title: string;
  testId: string;
  description: ReactNode;
  onSubmit: (e: FormEvent) => void;
  children: ReactNode;
} & Omit<ControlProps, "busy">) {
  const id = useId();
  return (
    <form className="card control-card" onSubmit={(e) => { e.preventDefault(); onSubmit(e); }} data-testid={testId}
      aria-labelledby={`${id}-t`} noValidate>
      <div>
        <h3 id={`${id}-t`}>{title}</h3>
        <p className="hint">{description}</p>
      </div>
      <fieldset disabled={!canWrite} aria-describedby={canWrite ? undefined : `${id}-ro`}>
        <legend className="visually-hidden">{title}</legend>
        {children}
      </fieldset>
      {!canWrite && <div id={`${id}-ro`}><ReadOnlyReason /></div>}
      {error && <ErrorAlert error={error} onDismiss={onDismiss} testId={`${testId}-error`} />}
      {done && !error && <p className="saved-note" role="status">{done}</p>}
    </form>
  );
}

function CapControl({ user, onSet, onClear, ...props }: ControlProps & {
  user: AdminUser;
  onSet: (credits: string) => Promise<boolean>;
  onClear: () => Promise<boolean>;
}) {
  const id = useId();
  const [value, setValue] = useState(user.monthly_cap ? String(Number(user.monthly_cap)) : "");
  return (
    <Control {...props} title="Monthly credit cap" testId="cap-control"
      description={user.monthly_cap
        ? <>Capped at <strong>{formatCredits(user.monthly_cap)}</strong> credits a month; sends beyond it are refused.</>
        : "No cap: the user can spend their whole balance each month."}
      onSubmit={() => void onSet(value.trim())}>
      <div className="field">
        <label className="label" htmlFor={`${id}-cap`}>Credits per calendar month</label>
        <div className="control-row">
          <input id={`${id}-cap`} className="input" inputMode="decimal" value={value} placeholder="e.g. 500"
            onChange={(e) => setValue(e.target.value)} data-testid="cap-input" />
          <button className="btn btn-primary" type="submit" disabled={props.busy || !value.trim()} data-testid="cap-set">Set cap</button>
          <button className="btn" type="button" disabled={props.busy || !user.monthly_cap}
            onClick={() => void onClear().then((ok) => ok && setValue(""))} data-testid="cap-clear">Clear</button>
        </div>
      </div>
    </Control>
  );
}

function StatusControl({ user, self, onSubmit, ...props }: ControlProps & {
  user: AdminUser;
  self: boolean;
  onSubmit: (reason: string) => Promise<boolean>;
}) {
  const id = useId();
  const [reason, setReason] = useState("");
  const suspended = user.status === "suspended";
  return (
    <Control {...props} title={suspended ? "Reactivate" : "Suspend"} testId="status-control"
      description={suspended
        ? "The user is suspended: every request answers “account suspended”. Reactivating restores access."
        : self
          ? "You can’t suspend yourself."
          : "Suspending cancels the user’s running turns and refuses their next request. Their data is kept."}
      onSubmit={() => void onSubmit(reason.trim()).then((ok) => ok && setReason(""))}>
      <div className="field">
        <label className="label" htmlFor={`${id}-reason`}>Reason (audited)</label>
        <textarea id={`${id}-reason`} className="textarea" rows={2} value={reason} maxLength={500}
          onChange={(e) => setReason(e.target.value)} placeholder={suspended ? "e.g. Chargeback resolved" : "e.g. Chargeback under review"}
          data-testid="status-reason" />
      </div>
      <div className="control-row">
        <button className={`btn ${suspended ? "btn-primary" : "btn-danger"}`} type="submit"
          disabled={props.busy || reason.trim().length < 3 || (self && !suspended)}
          data-testid={suspended ? "reactivate-button" : "suspend-button"}>
          {props.busy ? "Saving…" : suspended ? "Reactivate user" : "Suspend user"}
        </button>
        {reason.trim().length > 0 && reason.trim().length < 3 && <span className="hint">At least 3 characters.</span>}
      </div>
    </Control>
  );
}

type PolicyMode = "plan" | "allow" | "deny";

function PolicyControl({ user, onSubmit, ...props }: ControlProps & {
  user: AdminUser;
  onSubmit: (body: ModelPolicyIn) => Promise<boolean>;
}) {
  const id = useId();
  const models = useModels();
  const [mode, setMode] = useState<PolicyMode>(user.model_policy ? "allow" : "plan");
  const [picked, setPicked] = useState<string[]>(user.model_policy ?? []);
  const aliases = models.length ? models.map((m) => m.alias as string) : user.models;
  const toggle = (alias: string) => setPicked((p) => (p.includes(alias) ? p.filter((a) => a !== alias) : [...p, alias]));
  return (
    <Control {...props} title="Model access" testId="policy-control"
      description={<>Can use now: {user.models.map((m) => MODEL_LABELS[m] ?? m).join(", ") || "nothing"}. A policy only narrows the plan.</>}
      onSubmit={() => void onSubmit(mode === "plan" ? { clear: true }
        : mode === "allow" ? { allow: picked, clear: false } : { deny: picked, clear: false })}>
      <div className="field" role="radiogroup" aria-label="Policy">
        {([["plan", "The plan decides"], ["allow", "Allow only the models picked"], ["deny", "Take away the models picked"]] as const).map(([m, label]) => (
          <label key={m} className="check">
            <input type="radio" name={`${id}-mode`} value={m} checked={mode === m} onChange={() => setMode(m)} />
            {label}
          </label>
        ))}
      </div>
      {mode !== "plan" && (
        <div className="model-checks" role="group" aria-label="Models">
          {aliases.map((alias) => (
            <label key={alias} className="check">
              <input type="checkbox" checked={picked.includes(alias)} onChange={() => toggle(alias)} />
              {MODEL_LABELS[alias] ?? alias}
            </label>
          ))}
        </div>
      )}
      <div className="control-row">
        <button className="btn btn-primary" type="submit" disabled={props.busy || (mode !== "plan" && picked.length === 0)}
          data-testid="policy-save">Save access</button>
      </div>
    </Control>
  );
}

function GrantControl({ onSubmit, ...props }: ControlProps & { onSubmit: (credits: string, reason: string) => Promise<boolean> }) {
  const id = useId();
  const [credits, setCredits] = useState("");
  const [reason, setReason] = useState("");
  return (
    <Control {...props} title="Grant credits" testId="grant-control"
      description="Adds top-up credits (they never expire). Recorded in the user’s ledger and the audit log."
      onSubmit={() => void onSubmit(credits.trim(), reason.trim()).then((ok) => { if (ok) { setCredits(""); setReason(""); } })}>
      <div className="field">
        <label className="label" htmlFor={`${id}-credits`}>Credits</label>
        <input id={`${id}-credits`} className="input" inputMode="decimal" value={credits} placeholder="e.g. 100"
          onChange={(e) => setCredits(e.target.value)} />
      </div>
      <div className="field">
        <label className="label" htmlFor={`${id}-reason`}>Reason (audited)</label>
        <input id={`${id}-reason`} className="input" value={reason} maxLength={500} placeholder="e.g. Beta tester"
          onChange={(e) => setReason(e.target.value)} />
      </div>
      <div className="control-row">
        <button className="btn btn-primary" type="submit" disabled={props.busy || !credits.trim() || reason.trim().length < 3}>
          Grant credits
        </button>
      </div>
    </Control>
  );
}

function Page() {
  const email = useQueryParam("email");
  if (!email) {
    return <div className="page-inner page-wide"><div className="alert alert-error" role="alert">No user given.</div></div>;
  }
  return <UserDetail key={email} email={email} />;
}

export default function AdminUserPage() {
  return (
    <Suspense fallback={null}>
      <Page />
    </Suspense>
  );
}
