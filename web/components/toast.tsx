"use client";
/**
 * Toasts: a short note after an action ("Room deleted · Undo") in a polite live region.
 *
 * - A toast goes away after 10 s; its clock stops while the pointer is over the toasts or
 *   keyboard focus is in them. Error toasts stay until dismissed.
 * - It can carry one action (Undo). What the action returns replaces the toast ("Room
 *   restored"); if it throws, an error toast replaces it.
 * - `focus: true` moves keyboard focus to the toast's action, for actions that removed the
 *   control that had focus (a deleted row, a page left behind). Focus in a toast that goes
 *   away returns to the page's main content.
 * - The region sits right after the skip link, so it is also early in the tab order; Escape
 *   in a toast dismisses it.
 */
import {
  createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode,
} from "react";
import { toApiError, type ApiError } from "@/lib/api/errors";
import { CloseIcon } from "./icons";

export const TOAST_MS = 10_000;

export interface ToastAction {
  label: string;
  /** What it resolves to replaces the toast; a throw becomes an error toast (`onError`). */
  run: () => Promise<ToastInput | void>;
  onError?: (error: ApiError) => ToastInput;
}

export interface ToastInput {
  message: string;
  detail?: string;
  tone?: "info" | "success" | "error";
  /** The API error code an error toast reports (`data-code`). */
  code?: string;
  action?: ToastAction;
  /** Move keyboard focus into the toast (its action, else its Dismiss button). */
  focus?: boolean;
}

interface Toast extends ToastInput {
  id: number;
}

interface ToastValue {
  toasts: Toast[];
  show: (toast: ToastInput) => number;
  dismiss: (id: number) => void;
  runAction: (toast: Toast) => Promise<void>;
}

const ToastContext = createContext<ToastValue | null>(null);
const MAX_TOASTS = 3;

export function useToast(): Pick<ToastValue, "show" | "dismiss"> {
  const value = useContext(ToastContext);
  if (!value) throw new Error("useToast outside <ToastProvider>");
  return value;
}

function toastElement(id: number): HTMLElement | null {
  return document.getElementById(`toast-${id}`);
}

function focusMain() {
  requestAnimationFrame(() => document.getElementById("main")?.focus());
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const show = useCallback((toast: ToastInput) => {
    const id = nextId.current++;
    setToasts((all) => [...all, { ...toast, id }].slice(-MAX_TOASTS));
    return id;
  }, []);

  const dismiss = useCallback((id: number) => {
    const hadFocus = toastElement(id)?.contains(document.activeElement) ?? false;
    setToasts((all) => all.filter((t) => t.id !== id));
    if (hadFocus) focusMain();
  }, []);

  /** Replaces toast `id` by `next` (keeping keyboard focus in the toasts if it was there). */
  const replace = useCallback((id: number, next: ToastInput | null) => {
    const hadFocus = toastElement(id)?.contains(document.activeElement) ?? false;
    const newId = nextId.current++;
    setToasts((all) => {
      const rest = all.filter((t) => t.id !== id);
      return next ? [...rest, { ...next, id: newId, focus: hadFocus || next.focus }].slice(-MAX_TOASTS) : rest;
    });
    if (hadFocus && !next) focusMain();
  }, []);

  const runAction = useCallback(async (toast: Toast) => {
    const action = toast.action;
    if (!action) return;
    try {
      replace(toast.id, (await action.run()) ?? null);
    } catch (err) {
      const error = toApiError(err);
      replace(toast.id, action.onError?.(error)
        ?? { message: "That did not work", detail: error.message, tone: "error", code: error.code });
    }
  }, [replace]);

  const value = useMemo(() => ({ toasts, show, dismiss, runAction }), [toasts, show, dismiss, runAction]);
  return <ToastContext.Provider value={value}>{children}</ToastContext.Provider>;
}

/** The live region with the current toasts (rendered once, by the app shell). */
export function Toasts() {
  const value = useContext(ToastContext);
  const [hovered, setHovered] = useState(false);
  const [keyboard, setKeyboard] = useState(false);
  const count = value?.toasts.length ?? 0;
  // A toast removed under the pointer or with focus fires no leave/blur: start afresh.
  useEffect(() => {
    if (count === 0) {
      setHovered(false);
      setKeyboard(false);
    }
  }, [count]);
  if (!value) return null;
  const paused = hovered || keyboard;

  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions text" data-testid="toasts"
      onMouseEnter={() => setHovered(true)} onMouseLeave={() => setHovered(false)}
      onFocus={(e) => setKeyboard(e.target.matches(":focus-visible"))}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setKeyboard(false);
      }}>
      {value.toasts.map((toast) => (
        <ToastView key={toast.id} toast={toast} paused={paused} onDismiss={value.dismiss} onAction={value.runAction} />
      ))}
    </div>
  );
}

function ToastView({ toast, paused, onDismiss, onAction }: {
  toast: Toast;
  paused: boolean;
  onDismiss: (id: number) => void;
  onAction: (toast: Toast) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const left = useRef(TOAST_MS);
  const actionRef = useRef<HTMLButtonElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const { id, tone, focus } = toast;

  useEffect(() => {
    if (focus) (actionRef.current ?? closeRef.current)?.focus();
  }, [focus]);

  useEffect(() => {
    if (paused || busy || tone === "error") return;
    const start = Date.now();
    const timer = window.setTimeout(() => onDismiss(id), left.current);
    return () => {
      window.clearTimeout(timer);
      left.current -= Date.now() - start;
    };
  }, [paused, busy, tone, id, onDismiss]);

  async function act() {
    if (busy) return;
    setBusy(true);
    await onAction(toast);
  }

  return (
    <div id={`toast-${id}`} className="toast" data-tone={tone ?? "info"} data-testid="toast" data-code={toast.code}
      role={tone === "error" ? "alert" : undefined}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onDismiss(id);
        }
      }}>
      <div className="toast-body">
        <strong className="toast-message">{toast.message}</strong>
        {toast.detail && <span className="toast-detail">{toast.detail}</span>}
      </div>
      {toast.action && (
        <button ref={actionRef} className="btn btn-sm toast-action" type="button" aria-disabled={busy || undefined}
          onClick={() => void act()}>
          {busy && <span className="spinner" aria-hidden="true" />}
          {toast.action.label}
        </button>
      )}
      <button ref={closeRef} className="btn btn-ghost btn-icon btn-sm toast-close" type="button" aria-label="Dismiss"
        onClick={() => onDismiss(id)}>
        <CloseIcon />
      </button>
    </div>
  );
}
