"use client";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { useSession } from "@/components/session-provider";
import { api, call } from "@/lib/api/client";
import type { RoomMode } from "@/lib/api/types";
import { MODE_HINTS, MODE_LABELS } from "@/lib/format";

const MODES: RoomMode[] = ["roundtable", "manual", "orchestrator"];

export default function NewRoomPage() {
  const router = useRouter();
  const { refreshRooms } = useSession();
  const id = useId();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [mode, setMode] = useState<RoomMode>("roundtable");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give the room a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const room = await call(api.POST("/api/v1/rooms", { body: { name: name.trim(), description, mode } }));
      await refreshRooms();
      router.push(`/room/settings/?id=${room.id}&new=1`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <div className="page-inner" style={{ maxWidth: 640 }}>
        <div className="page-head">
          <div>
            <h1>New room</h1>
            <p>Name the room and pick how its agents answer. You add the agents next.</p>
          </div>
        </div>
        <form className="card card-pad" onSubmit={submit} noValidate>
          <div className="field">
            <label className="label" htmlFor={`${id}-name`}>Room name</label>
            <input id={`${id}-name`} className="input" value={name} onChange={(e) => setName(e.target.value)}
              maxLength={100} required autoFocus placeholder="e.g. Launch plan"
              aria-invalid={error && !name.trim() ? true : undefined} />
          </div>
          <div className="field">
            <label className="label" htmlFor={`${id}-desc`}>Description <span className="hint">(optional)</span></label>
            <textarea id={`${id}-desc`} className="textarea" rows={2} value={description}
              onChange={(e) => setDescription(e.target.value)} placeholder="What is this room for?" />
          </div>
          <fieldset className="field" style={{ border: 0, padding: 0, margin: "1rem 0 0" }}>
            <legend className="label" style={{ marginBottom: "0.4rem" }}>Mode</legend>
            {MODES.map((m) => (
              <label key={m} className="check" style={{ alignItems: "flex-start", padding: "0.3rem 0" }}>
                <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)}
                  style={{ marginTop: 3 }} />
                <span>
                  <strong>{MODE_LABELS[m]}</strong>
                  <span className="hint" style={{ display: "block" }}>{MODE_HINTS[m]}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {error && <div className="alert alert-error" role="alert" style={{ marginTop: "1rem" }}>{error}</div>}
          <div className="form-actions" style={{ marginTop: "1.25rem" }}>
            <button className="btn" type="button" onClick={() => router.back()}>Cancel</button>
            <button className="btn btn-primary" type="submit" disabled={busy}>
              {busy ? "Creating…" : "Create room"}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
