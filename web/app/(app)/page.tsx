"use client";
import Link from "next/link";
import { useSession } from "@/components/session-provider";
import { PlusIcon } from "@/components/icons";
import { MODE_LABELS, formatCredits, timeAgo } from "@/lib/format";

export default function HomePage() {
  const { me, rooms, directs, wallet } = useSession();
  const name = me.display_name || me.email.split("@")[0];

  return (
    <div className="page">
      <div className="page-inner">
        <div className="page-head">
          <div>
            <h1>Welcome back, {name}</h1>
            <p>Pick up a conversation, or build a new room of agents.</p>
          </div>
          <Link href="/rooms/new/" className="btn btn-primary">
            <PlusIcon /> New room
          </Link>
        </div>

        <section className="section" aria-labelledby="wallet-title">
          <div className="section-head">
            <h2 id="wallet-title">Credits</h2>
            <span className="section-actions">
              {wallet?.plan && <span className="badge badge-accent">{wallet.plan.name} plan</span>}
              <Link href="/billing/" className="btn btn-sm btn-ghost">Billing &amp; usage →</Link>
            </span>
          </div>
          {wallet ? (
            <div className="stats" data-testid="wallet-summary">
              <div className="card stat">
                <div className="stat-label">Available</div>
                <div className="stat-value">{formatCredits(wallet.balances.available)}</div>
              </div>
              <div className="card stat">
                <div className="stat-label">Plan credits</div>
                <div className="stat-value">{formatCredits(wallet.balances.plan)}</div>
              </div>
              <div className="card stat">
                <div className="stat-label">Top-up credits</div>
                <div className="stat-value">{formatCredits(wallet.balances.topup)}</div>
              </div>
              <div className="card stat">
                <div className="stat-label">Used this month</div>
                <div className="stat-value">{formatCredits(wallet.burned_this_month)}</div>
              </div>
            </div>
          ) : (
            <p className="hint">Your wallet could not be loaded.</p>
          )}
        </section>

        <section className="section" aria-labelledby="rooms-title">
          <div className="section-head">
            <h2 id="rooms-title">Rooms</h2>
          </div>
          {rooms.length === 0 ? (
            <div className="card empty">
              <h3>No rooms yet</h3>
              <p>A room is a team of agents — each with a name, a model and a role — that answers together.</p>
              <p style={{ marginTop: "1rem" }}>
                <Link href="/rooms/new/" className="btn btn-primary">Create your first room</Link>
              </p>
            </div>
          ) : (
            <ul className="grid-cards list-plain" style={{ border: 0 }}>
              {rooms.map((room) => (
                <li key={room.id} style={{ border: 0 }}>
                  <Link href={`/room/?id=${room.id}`} className="card room-card">
                    <h3>{room.name}</h3>
                    {room.description && <p className="room-card-desc">{room.description}</p>}
                    <div className="room-card-meta">
                      <span className="badge">{MODE_LABELS[room.current_mode] ?? room.current_mode}</span>
                      {room.pending_mode && room.pending_mode !== room.current_mode && (
                        <span className="badge badge-warning">Next: {MODE_LABELS[room.pending_mode]}</span>
                      )}
                      <span className="badge">Updated {timeAgo(room.updated_at)}</span>
                    </div>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="section" aria-labelledby="directs-title">
          <div className="section-head">
            <h2 id="directs-title">Direct chats</h2>
          </div>
          {directs.length === 0 ? (
            <p className="hint">Start a 1:1 chat with any agent from its room’s settings.</p>
          ) : (
            <ul className="card list-plain">
              {directs.map((d) => (
                <li key={d.id}>
                  <Link className="row-link" href={`/direct/?id=${d.id}`}>
                    <span style={{ flex: 1, minWidth: 0 }}>
                      <strong>{d.title || d.agent.name}</strong>
                      <span className="hint"> · {d.agent.name} on {d.agent.model_alias}</span>
                    </span>
                    <span className="hint">{timeAgo(d.updated_at)}</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
