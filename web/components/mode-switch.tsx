"use client";
/**
 * The room's mode. Choosing one only records it as pending: it applies on the next send
 * (FR-ROOM-004, UI-004), so the control always says which mode is current and which is next.
 */
import { useId, useState } from "react";
import { api, call } from "@/lib/api/client";
import type { Room, RoomMode } from "@/lib/api/types";
import { MODE_HINTS, MODE_LABELS } from "@/lib/format";

const MODES: RoomMode[] = ["manual", "roundtable", "orchestrator"];

export function pendingOf(room: Pick<Room, "current_mode" | "pending_mode">): RoomMode | null {
  return room.pending_mode && room.pending_mode !== room.current_mode ? room.pending_mode : null;
}

export function ModeSwitch({ room, onChange }: { room: Room; onChange: (room: Room) => void }) {
  const id = useId();
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const pending = pendingOf(room);
  const next = pending ?? room.current_mode;

  async function choose(mode: RoomMode) {
    setError(null);
    setSaving(true);
    try {
      onChange(await call(api.PUT("/api/v1/rooms/{room_id}/mode", { params: { path: { room_id: room.id } }, body: { mode } })));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="mode-switch">
      <fieldset className="segmented" aria-describedby={`${id}-note`} disabled={saving} data-testid="mode-switch">
        <legend className="visually-hidden">Mode for the next send</legend>
        {MODES.map((mode) => (
          <label key={mode} title={MODE_HINTS[mode]}>
            <input type="radio" name={`${id}-mode`} value={mode} checked={next === mode}
              onChange={() => void choose(mode)} />
            <span className="seg">
              {MODE_LABELS[mode]}
              {pending === mode && <span className="pending-dot" aria-hidden="true" />}
            </span>
          </label>
        ))}
      </fieldset>
      <p className="mode-note" id={`${id}-note`} data-testid="mode-note" aria-live="polite">
        {pending ? (
          <>
            Current: {MODE_LABELS[room.current_mode]} · <strong>{MODE_LABELS[pending]} applies on next send</strong>
          </>
        ) : (
          <>{MODE_LABELS[room.current_mode]} is active · changes apply on next send</>
        )}
      </p>
      {error && <p className="field-error" role="alert">{error}</p>}
    </div>
  );
}
