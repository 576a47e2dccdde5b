"use client";
/** Settings for every room: the orchestrator's manager model (owners; audited). */
import { useEffect, useId, useState, type FormEvent } from "react";
import { ReadOnlyReason, useCanWrite } from "@/components/admin-frame";
import { ErrorAlert } from "@/components/error-alert";
import { api, call } from "@/lib/api/client";
import { toApiError, type ApiError } from "@/lib/api/errors";
import type { Models } from "@/lib/api/types";
import { MODEL_LABELS } from "@/lib/format";

export default function AdminSettingsPage() {
  const id = useId();
  const canWrite = useCanWrite();
  const [catalog, setCatalog] = useState<Models | null>(null);
  const [chosen, setChosen] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    call(api.GET("/api/v1/models"))
      .then((m) => {
        setCatalog(m);
        setChosen(m.manager_model);
      })
      .catch((err: unknown) => setError(toApiError(err)));
  }, []);

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const answer = await call(api.PUT("/api/v1/admin/manager-model", { body: { model_alias: chosen } }));
      setCatalog((c) => (c ? { ...c, manager_model: answer.manager_model as Models["manager_model"] } : c));
      setSaved(`The manager model is now ${MODEL_LABELS[answer.manager_model] ?? answer.manager_model}, from every room’s next orchestrator turn.`);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const current = catalog?.manager_model;
  return (
    <div className="page-inner page-wide">
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <p>Settings that apply to every room.</p>
        </div>
      </div>
      <form className="card control-card settings-card" onSubmit={save} aria-labelledby={`${id}-t`} data-testid="manager-model-control" noValidate>
        <div>
          <h2 id={`${id}-t`} className="control-title">Orchestrator manager model</h2>
          <p className="hint">
            In orchestrator mode a manager plans which agents answer, then writes the synthesis. Running turns keep theirs;
            the change applies from each room’s next orchestrator turn.
          </p>
        </div>
        {catalog ? (
          <>
            <fieldset disabled={!canWrite}>
              <legend className="visually-hidden">Manager model</legend>
              <div className="field">
                <label className="label" htmlFor={`${id}-model`}>Manager model</label>
                <div className="control-row">
                  <select id={`${id}-model`} className="select input" value={chosen} onChange={(e) => setChosen(e.target.value)}
                    data-testid="manager-model-select">
                    {catalog.models.map((m) => (
                      <option key={m.alias} value={m.alias}>
                        {MODEL_LABELS[m.alias] ?? m.alias} — {m.provider_model_id}
                      </option>
                    ))}
                  </select>
                  <button className="btn btn-primary" type="submit" disabled={busy || chosen === current} data-testid="manager-model-save">
                    {busy ? "Saving…" : "Save"}
                  </button>
                </div>
              </div>
              <p className="hint">Current: <strong data-testid="manager-model-current">{MODEL_LABELS[current ?? ""] ?? current}</strong></p>
            </fieldset>
            {!canWrite && <ReadOnlyReason />}
          </>
        ) : (
          !error && <p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading…</p>
        )}
        {error && <ErrorAlert error={error} onDismiss={() => setError(null)} testId="manager-model-error" />}
        {saved && !error && <p className="saved-note" role="status">{saved}</p>}
      </form>
    </div>
  );
}
