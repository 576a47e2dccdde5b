"use client";
/** The chat-first frame: a sidebar of rooms and direct chats beside the page (a drawer on phones). */
import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useRef, useState, type ReactNode } from "react";
import { formatCredits } from "@/lib/format";
import { CardIcon, ChartIcon, ChatIcon, CloseIcon, MenuIcon, PlusIcon, TrashIcon } from "./icons";
import { isAdmin } from "@/lib/roles";
import { useSession } from "./session-provider";
import { Toasts } from "./toast";

export function AppShell({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  const pathname = usePathname();
  // Focus goes into the drawer when it opens, and back to its button when it closes.
  useEffect(() => {
    if (open) document.querySelector<HTMLElement>("#sidebar .nav-close")?.focus();
    else if (wasOpen.current) menuButton.current?.focus();
    wasOpen.current = open;
  }, [open]);
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);

  return (
    <div className="shell" data-nav-open={open}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Toasts />
      <aside className="sidebar" aria-label="Rooms and chats" id="sidebar"
        onClick={(e) => (e.target as HTMLElement).closest("a") && setOpen(false)}>
        <Suspense fallback={null}>
          <Sidebar onClose={() => setOpen(false)} />
        </Suspense>
      </aside>
      <div className="scrim" onClick={() => setOpen(false)} aria-hidden="true" />
      <div className="main">
        <header className="topbar">
          <button ref={menuButton} className="btn btn-ghost btn-icon" type="button" aria-label="Open navigation"
            aria-expanded={open} aria-controls="sidebar" onClick={() => setOpen(true)}>
            <MenuIcon />
          </button>
          <span className="topbar-title">Pantheon</span>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

function Sidebar({ onClose }: { onClose: () => void }) {
  const { me, rooms, directs, wallet, signOut } = useSession();
  const pathname = usePathname();
  const params = useSearchParams();
  const id = params.get("id");
  const current = (path: string, itemId: string) =>
    pathname.startsWith(path) && id === itemId ? ("page" as const) : undefined;

  return (
    <>
      <div className="sidebar-head">
        <Link href="/" className="brand" aria-current={pathname === "/" ? "page" : undefined}>
          <span className="brand-mark" aria-hidden="true">P</span>
          Pantheon
        </Link>
        <button className="btn btn-ghost btn-icon btn-sm nav-close" type="button" aria-label="Close navigation"
          onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <div className="sidebar-actions">
        <Link href="/rooms/new/" className="btn" data-testid="new-room">
          <PlusIcon /> New room
        </Link>
      </div>
      <nav className="sidebar-nav" aria-label="Conversations">
        <section className="nav-section" aria-labelledby="nav-rooms">
          <h2 className="nav-title" id="nav-rooms">Rooms</h2>
          {rooms.length === 0 ? (
            <p className="nav-empty">No rooms yet.</p>
          ) : (
            <ul className="nav-list">
              {rooms.map((room) => (
                <li key={room.id}>
                  <Link className="nav-item" href={`/room/?id=${room.id}`} aria-current={current("/room", room.id)}>
                    <span className="room-glyph" aria-hidden="true">{room.name.slice(0, 1).toUpperCase()}</span>
                    <span className="nav-label">{room.name}</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="nav-section" aria-labelledby="nav-direct">
          <h2 className="nav-title" id="nav-direct">Direct chats</h2>
          {directs.length === 0 ? (
            <p className="nav-empty">No direct chats yet.</p>
          ) : (
            <ul className="nav-list">
              {directs.map((d) => (
                <li key={d.id}>
                  <Link className="nav-item" href={`/direct/?id=${d.id}`} aria-current={current("/direct", d.id)}>
                    <span className="room-glyph" aria-hidden="true"><ChatIcon /></span>
                    <span className="nav-label">{d.title || d.agent.name}</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      </nav>
      <div className="sidebar-foot">
        <nav aria-label="Account">
          <ul className="nav-list">
            <li>
              <Link className="nav-item" href="/billing/" aria-current={pathname.startsWith("/billing") ? "page" : undefined}
                data-testid="nav-billing">
                <span className="room-glyph" aria-hidden="true"><CardIcon /></span>
                <span className="nav-label">Billing &amp; usage</span>
                {wallet && (
                  <span className="nav-meta" data-testid="wallet-available">
                    {formatCredits(wallet.balances.available)}
                  </span>
                )}
              </Link>
            </li>
            <li>
              <Link className="nav-item" href="/trash/" aria-current={pathname.startsWith("/trash") ? "page" : undefined}
                data-testid="nav-trash">
                <span className="room-glyph" aria-hidden="true"><TrashIcon /></span>
                <span className="nav-label">Recently deleted</span>
              </Link>
            </li>
            {isAdmin(me.roles) && (
              <li>
                <Link className="nav-item" href="/admin/" aria-current={pathname.startsWith("/admin") ? "page" : undefined}
                  data-testid="nav-admin">
                  <span className="room-glyph" aria-hidden="true"><ChartIcon /></span>
                  <span className="nav-label">Admin</span>
                  <span className="badge">{me.roles.includes("owner") ? "Owner" : "Analyst"}</span>
                </Link>
              </li>
            )}
          </ul>
        </nav>
        <div className="user-row">
          <span className="user-email" title={me.email}>{me.email}</span>
          <button className="btn btn-ghost btn-sm" type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </>
  );
}
