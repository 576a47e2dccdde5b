"use client";
/**
 * The files agents with the Files tool can read: upload (with progress), parse status
 * (uploaded → parsing → ready | failed, with the reason), storage used, delete — and
 * restore for 7 days after (the toast's Undo, or "Recently deleted" at the bottom).
 */
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { api, call } from "@/lib/api/client";
import { ApiError, toApiError } from "@/lib/api/errors";
import type { FileInfo, FileList as FileListing } from "@/lib/api/types";
import { formatDateTime } from "@/lib/format";
import { byData, focusWhenReady } from "@/lib/focus";
import { restoreDeadline, restoreFailure, timeUntil } from "@/lib/trash";
import { formatBytes, putBytes, requestUpload, type Owner } from "@/lib/upload";
import { ErrorAlert } from "./error-alert";
import { CloseIcon, FileIcon, TrashIcon } from "./icons";
import { useToast } from "./toast";
import { undoToast } from "./undo-toast";

interface Upload {
  key: string;
  name: string;
  progress: number;
  error: string | null;
}

const STATUS: Record<string, { label: string; tone: string }> = {
  uploaded: { label: "Queued", tone: "" },
  parsing: { label: "Reading…", tone: "badge-accent" },
  ready: { label: "Ready", tone: "badge-success" },
  failed: { label: "Failed", tone: "badge-danger" },
};

export function FilesPanel({ owner, onClose }: { owner: Owner; onClose: () => void }) {
  const id = useId();
  const [files, setFiles] = useState<FileInfo[]>([]);
  const [used, setUsed] = useState(0);
  const [limit, setLimit] = useState(0);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [deleted, setDeleted] = useState<FileInfo[]>([]);
  const [restoring, setRestoring] = useState<string | null>(null);
  const [restoreError, setRestoreError] = useState<{ id: string; error: ApiError } | null>(null);
  const { show } = useToast();
  const input = useRef<HTMLInputElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);

  const load = useCallback(async () => {
    const list = (deleted: boolean): Promise<FileListing> => "roomId" in owner
      ? call(api.GET("/api/v1/rooms/{room_id}/files", { params: { path: { room_id: owner.roomId }, query: { deleted } } }))
      : call(api.GET("/api/v1/direct-sessions/{session_id}/files", {
          params: { path: { session_id: owner.directSessionId }, query: { deleted } },
        }));
    try {
      const [live, trash] = await Promise.all([list(false), list(true).catch(() => null)]);
      setFiles(live.files);
      setUsed(live.used_bytes);
      setLimit(live.limit_bytes);
      if (trash) setDeleted(trash.files);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [owner]);

  useEffect(() => {
    void load();
    closeRef.current?.focus();
  }, [load]);

  // Poll while a file is still being read.
  const pending = files.some((f) => f.status === "uploaded" || f.status === "parsing");
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void load(), 1500);
    return () => clearInterval(timer);
  }, [pending, load]);

  async function upload(file: File) {
    const key = `${file.name}-${Date.now()}-${Math.random()}`;
    const set = (patch: Partial<Upload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...patch } : u)));
    setUploads((all) => [...all, { key, name: file.name, progress: 0, error: null }]);
    try {
      const ticket = await requestUpload(owner, file);
      await putBytes(ticket, file, (p) => set({ progress: p }));
      setUploads((all) => all.filter((u) => u.key !== key));
      setStatus(`${file.name} uploaded; reading it now.`);
      await load();
    } catch (err) {
      set({ error: err instanceof ApiError || err instanceof Error ? err.message : String(err) });
    }
  }

  async function remove(file: FileInfo) {
    try {
      await call(api.DELETE("/api/v1/files/{file_id}", { params: { path: { file_id: file.id } } }));
      await load();
      // The file's row (and the button pressed) is gone: focus goes to the toast's Undo.
      show(undoToast({
        subject: `File “${file.name}”`, focus: true,
        restore: async () => {
          await call(api.POST("/api/v1/files/{file_id}/restore", { params: { path: { file_id: file.id } } }));
          await load();
        },
      }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  async function restore(file: FileInfo) {
    if (restoring) return;
    setRestoring(file.id);
    setRestoreError(null);
    try {
      await call(api.POST("/api/v1/files/{file_id}/restore", { params: { path: { file_id: file.id } } }));
      await load();
      setStatus(`${file.name} restored.`);
      focusWhenReady(() => byData("delete", file.id)); // the Restore button is gone
    } catch (err) {
      setRestoreError({ id: file.id, error: toApiError(err) });
    } finally {
      setRestoring(null);
    }
  }

  return (
    <aside className="files-panel" aria-labelledby={`${id}-title`} data-testid="files-panel"
      onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <div className="section-head" style={{ padding: "0.8rem 1rem", margin: 0, borderBottom: "1px solid var(--border)" }}>
        <h2 id={`${id}-title`}>Files</h2>
        <button ref={closeRef} className="btn btn-ghost btn-icon btn-sm" type="button" aria-label="Close files" onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <div style={{ padding: "1rem", overflowY: "auto", flex: 1, display: "flex", flexDirection: "column", gap: "0.75rem" }}>
        <p className="hint">Agents with the <strong>Read files</strong> tool can read these. PDF, DOCX, TXT, MD or CSV, up to 10 MB each.</p>
        <div>
          <input ref={input} id={`${id}-input`} type="file" multiple className="visually-hidden" tabIndex={-1}
            aria-label="Files to upload" data-testid="file-input"
            accept=".pdf,.docx,.txt,.md,.csv,application/pdf,text/plain,text/markdown,text/csv"
            onChange={(e) => {
              for (const f of Array.from(e.target.files ?? [])) void upload(f);
              e.target.value = "";
            }} />
          <button type="button" className="btn btn-primary" style={{ width: "100%" }} onClick={() => input.current?.click()}
            data-testid="upload-files">
            Upload files
          </button>
        </div>
        {limit > 0 && (
          <div>
            <div className="hint" style={{ marginBottom: 4 }}>{formatBytes(used)} of {formatBytes(limit)} used</div>
            <div className="progress" role="progressbar" aria-label="Storage used" aria-valuemin={0} aria-valuemax={100}
              aria-valuenow={Math.round((used / limit) * 100)}>
              <span style={{ width: `${Math.min(100, (used / limit) * 100)}%` }} />
            </div>
          </div>
        )}
        <p className="visually-hidden" role="status" aria-live="polite">{status}</p>
        {error && <div className="alert alert-error" role="alert">{error}</div>}
        {uploads.map((u) => (
          <div key={u.key} className="card card-pad" data-testid="upload-progress">
            <div style={{ display: "flex", justifyContent: "space-between", gap: 8, marginBottom: 6 }}>
              <span style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{u.name}</span>
              <span className="hint">{u.error ? "Failed" : `${Math.round(u.progress * 100)}%`}</span>
            </div>
            {u.error ? (
              <p className="field-error" role="alert">{u.error}</p>
            ) : (
              <div className="progress" role="progressbar" aria-label={`Uploading ${u.name}`} aria-valuemin={0}
                aria-valuemax={100} aria-valuenow={Math.round(u.progress * 100)}>
                <span style={{ width: `${u.progress * 100}%` }} />
              </div>
            )}
          </div>
        ))}
        {files.length === 0 && uploads.length === 0 ? (
          <p className="hint" style={{ textAlign: "center", padding: "1rem 0" }}>No files yet.</p>
        ) : (
          <ul className="list-plain card">
            {files.map((f) => {
              const s = STATUS[f.status] ?? { label: f.status, tone: "" };
              return (
                <li key={f.id} data-testid="file-row" data-status={f.status}
                  style={{ display: "flex", gap: "0.6rem", alignItems: "flex-start", padding: "0.7rem 0.8rem" }}>
                  <span style={{ color: "var(--text-muted)", marginTop: 2 }}><FileIcon /></span>
                  <div style={{ flex: 1, minWidth: 0 }}>
                    <div style={{ fontWeight: 580, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{f.name}</div>
                    <div className="hint">
                      {f.kind.toUpperCase()} · {formatBytes(f.size_bytes)}
                      {f.status === "ready" && f.pages ? ` · ${f.pages} page${f.pages === 1 ? "" : "s"}` : ""}
                    </div>
                    <span className={`badge ${s.tone}`} style={{ marginTop: 4 }}>{s.label}</span>
                    {f.error && <p className="field-error">{f.error.message}</p>}
                  </div>
                  <button className="btn btn-ghost btn-icon btn-sm" type="button" aria-label={`Delete ${f.name}`}
                    data-delete={f.id} onClick={() => void remove(f)}><TrashIcon /></button>
                </li>
              );
            })}
          </ul>
        )}
        {deleted.length > 0 && (
          <section aria-labelledby={`${id}-deleted`} data-testid="deleted-files" className="panel-trash">
            <h3 id={`${id}-deleted`}>Recently deleted</h3>
            <p className="hint">Restorable for 7 days after deletion, then purged.</p>
            <ul className="list-plain card">
              {deleted.map((f) => {
                const until = restoreDeadline(f);
                const left = until ? timeUntil(until) : "";
                const failed = restoreError?.id === f.id ? restoreError.error : null;
                const failure = failed ? restoreFailure(failed) : null;
                return (
                  <li key={f.id} data-testid="deleted-file" style={{ padding: "0.7rem 0.8rem" }}>
                    <div style={{ display: "flex", gap: "0.6rem", alignItems: "center" }}>
                      <div style={{ flex: 1, minWidth: 0 }}>
                        <div style={{ fontWeight: 580, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{f.name}</div>
                        {until && (
                          <div className="hint">
                            Restorable until <time dateTime={until}>{formatDateTime(until)}</time>{left && <> ({left})</>}
                          </div>
                        )}
                      </div>
                      <button className="btn btn-sm" type="button" aria-label={`Restore ${f.name}`}
                        aria-disabled={restoring === f.id || undefined} onClick={() => void restore(f)}>
                        {restoring === f.id && <span className="spinner" aria-hidden="true" />}
                        Restore
                      </button>
                    </div>
                    {failed && failure && (
                      <div style={{ marginTop: "0.5rem" }}>
                        <ErrorAlert error={failed} title={failure.title} message={failure.message} testId="restore-error"
                          onDismiss={() => setRestoreError(null)} />
                      </div>
                    )}
                  </li>
                );
              })}
            </ul>
          </section>
        )}
      </div>
    </aside>
  );
}
