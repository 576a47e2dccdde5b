"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Suspense, useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/error-alert";
import { RosterEditor } from "@/components/roster-editor";
import { useSession } from "@/components/session-provider";
import { useToast } from "@/components/toast";
import { undoToast } from "@/components/undo-toast";
import { useModels } from "@/hooks/use-models";
import { useQueryParam } from "@/hooks/use-query-param";
import { api, call } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { Agent, RoomDetail } from "@/lib/api/types";

function RoomSettings({ roomId }: { roomId: string }) {
  const router = useRouter();
  const isNew = useQueryParam("new") === "1";
  const { wallet, refreshRooms, refreshDirects } = useSession();
  const models = useModels();
  const id = useId();
  const [room, setRoom] = useState<RoomDetail | null>(null);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<ApiError | null>(null);
  const { show } = useToast();

  const load = useCallback(async () => {
    try {
      const detail = await call(api.GET("/api/v1/rooms/{room_id}", { params: { path: { room_id: roomId } } }));
      setRoom(detail);
      setAgents(detail.agents);
      setName(detail.name);
      setDescription(detail.description);
    } catch (err) {
      setError(err instanceof ApiError ? err : ApiError.network(err));
    }
  }, [roomId]);
  useEffect(() => void load(), [load]);

  async function saveDetails(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    try {
      const updated = await call(
        api.PATCH("/api/v1/rooms/{room_id}", { params: { path: { room_id: roomId } }, body: { name, description } }),
      );
      setRoom({ ...room!, ...updated });
      setSaved("Room details saved.");
      await refreshRooms();
    } catch (err) {
      setError(err instanceof ApiError ? err : ApiError.network(err));
    }
  }

  async function chatWith(agent: Agent) {
    try {
      const session = await call(api.POST("/api/v1/direct-sessions", { body: { room_id: roomId, agent_id: agent.id } }));
      await refreshDirects();
      router.push(`/direct/?id=${session.id}`);
    } catch (err) {
      setError(err instanceof ApiError ? err : ApiError.network(err));
    }
  }

  async function deleteRoom() {
    if (deleting || !room) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await call(api.DELETE("/api/v1/rooms/{room_id}", { params: { path: { room_id: roomId } } }));
    } catch (err) {
      setDeleteError(err instanceof ApiError ? err : ApiError.network(err));
      setDeleting(false);
      return;
    }
    await refreshRooms().catch(() => undefined);
    router.push("/");
    // This page goes away with the room: focus goes to the toast's Undo.
    show(undoToast({
      subject: `Room “${room.name}”`, focus: true,
      restore: async () => {
        await call(api.POST("/api/v1/rooms/{room_id}/restore", { params: { path: { room_id: roomId } } }));
        await refreshRooms().catch(() => undefined);
      },
      restored: { action: { label: "Open room", run: async () => router.push(`/room/?id=${roomId}`) } },
    }));
  }

  if (error && !room) {
    return (
      <div className="page"><div className="page-inner">
        <div className="alert alert-error" role="alert">{error.message}</div>
      </div></div>
    );
  }
  if (!room) {
    return <div className="page"><div className="page-inner"><p className="stream-state"><span className="spinner" aria-hidden="true" /> Loading room…</p></div></div>;
  }

  return (
    <div className="page">
      <div className="page-inner">
        <div className="page-head">
          <div>
            <h1>{room.name} · settings</h1>
            <p>Agents answer in the order below. Changes apply at the next send.</p>
          </div>
          <Link className="btn btn-primary" href={`/room/?id=${roomId}`} data-testid="open-room">
            Open room
          </Link>
        </div>
        {isNew && (
          <div className="alert alert-success" role="status" style={{ marginBottom: "1.5rem" }}>
            <div className="alert-body"><strong>Room created.</strong> Add its agents, then open the room to start chatting.</div>
          </div>
        )}

        <section className="section" aria-labelledby="agents-title">
          <div className="section-head"><h2 id="agents-title">Agents <span className="hint">({agents.length})</span></h2></div>
          <RosterEditor roomId={roomId} agents={agents} models={models} allowed={wallet?.models ?? null}
            onChange={setAgents} onChat={(a) => void chatWith(a)} />
        </section>

        <section className="section" aria-labelledby="details-title">
          <div className="section-head"><h2 id="details-title">Details</h2></div>
          <form className="card card-pad" onSubmit={saveDetails} noValidate>
            <div className="field">
              <label className="label" htmlFor={`${id}-name`}>Room name</label>
              <input id={`${id}-name`} className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
            </div>
            <div className="field">
              <label className="label" htmlFor={`${id}-desc`}>Description</label>
              <textarea id={`${id}-desc`} className="textarea" rows={2} value={description}
                onChange={(e) => setDescription(e.target.value)} />
            </div>
            {error && <div className="alert alert-error" role="alert" style={{ marginTop: "1rem" }}>{error.message}</div>}
            <div className="form-actions" style={{ marginTop: "1rem", alignItems: "center" }}>
              {saved && <span className="hint" role="status">{saved}</span>}
              <button className="btn" type="submit">Save details</button>
            </div>
          </form>
        </section>

        <section className="section" aria-labelledby="danger-title">
          <div className="section-head"><h2 id="danger-title">Delete room</h2></div>
          <div className="card card-pad" style={{ display: "flex", gap: "1rem", alignItems: "center", flexWrap: "wrap" }}>
            <p style={{ flex: 1, minWidth: 220 }} className="hint">
              A deleted room can be restored for 7 days from <Link href="/trash/">Recently deleted</Link>, then it is purged.
            </p>
            {confirmDelete ? (
              <>
                <button className="btn btn-danger" type="button" onClick={() => void deleteRoom()} autoFocus
                  aria-disabled={deleting || undefined}>Delete {room.name}</button>
                <button className="btn" type="button" onClick={() => setConfirmDelete(false)}>Keep it</button>
              </>
            ) : (
              <button className="btn btn-danger" type="button" onClick={() => setConfirmDelete(true)}>Delete room…</button>
            )}
          </div>
          {deleteError && (
            <div style={{ marginTop: "0.75rem" }}>
              <ErrorAlert error={deleteError} title="The room was not deleted" testId="delete-error"
                onDismiss={() => setDeleteError(null)} />
            </div>
          )}
        </section>
      </div>
    </div>
  );
}

function Page() {
  const roomId = useQueryParam("id");
  if (!roomId) return <div className="page"><div className="page-inner"><div className="alert alert-error" role="alert">No room given.</div></div></div>;
  return <RoomSettings key={roomId} roomId={roomId} />;
}

export default function RoomSettingsPage() {
  return (
    <Suspense fallback={null}>
      <Page />
    </Suspense>
  );
}
