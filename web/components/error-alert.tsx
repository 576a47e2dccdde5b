"use client";
/** A typed API error, said plainly: a title for the codes people meet, the server's message,
 * and the code itself (for support and for tests: `data-code`). */
import type { ReactNode } from "react";
import type { ApiError } from "@/lib/api/errors";

const TITLES: Record<string, string> = {
  payments_not_configured: "Payments aren’t set up on this server",
  no_billing_account: "No billing account yet",
  owner_required: "Only an owner can change this",
  admin_required: "Admins only",
  cannot_suspend_self: "You can’t suspend yourself",
  reason_required: "Give a reason",
  invalid_credits: "Check the amount",
  invalid_policy: "Check the model policy",
  unknown_model_alias: "Unknown model",
  invalid_range: "Check the dates",
  user_not_found: "No such user",
  not_found: "Not found",
  network_error: "Can’t reach Pantheon",
  not_authenticated: "You’re signed out",
  rate_limited: "Too many requests",
  restore_window_expired: "It can no longer be restored",
  retention_expired: "It can no longer be restored",
};

export function errorTitle(error: ApiError, fallback = "Something went wrong"): string {
  return TITLES[error.code] ?? fallback;
}

export function ErrorAlert({
  error, title, message, children, onDismiss, testId,
}: {
  error: ApiError;
  title?: string;
  /** Replaces the server's message (when the UI can say it better). */
  message?: ReactNode;
  children?: ReactNode;
  onDismiss?: () => void;
  testId?: string;
}) {
  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={error.code} data-status={error.status}>
      <svg className="alert-icon" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor"
        strokeWidth="2" strokeLinecap="round" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="9" /><path d="M12 7.5v5.5M12 16.5v.01" />
      </svg>
      <div className="alert-body">
        <strong>{title ?? errorTitle(error)}</strong>
        <p className="alert-text">{message ?? error.message}</p>
        {children}
        <p className="alert-code">
          {error.status ? `${error.status} · ` : ""}<code>{error.code}</code>
        </p>
      </div>
      {onDismiss && (
        <button className="btn btn-ghost btn-sm btn-icon" type="button" aria-label="Dismiss" onClick={onDismiss}>✕</button>
      )}
    </div>
  );
}

/** `err` as an ApiError (a thrown non-API error becomes a network error). */
export { toApiError } from "@/lib/api/errors";
