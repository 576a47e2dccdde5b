"use client";
/**
 * Who is signed in, and what the sidebar lists (rooms, direct chats, wallet). Loaded once
 * per page load; screens call the refresh functions after changing something.
 * Without a session the visitor is sent to the sign-in screen.
 */
import { useRouter } from "next/navigation";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, call } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { DirectSession, Me, Room, Wallet } from "@/lib/api/types";

export interface SessionValue {
  me: Me;
  rooms: Room[];
  directs: DirectSession[];
  wallet: Wallet | null;
  refreshRooms: () => Promise<void>;
  refreshDirects: () => Promise<void>;
  refreshWallet: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside <SessionProvider>");
  return value;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const router = useRouter();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [rooms, setRooms] = useState<Room[]>([]);
  const [directs, setDirects] = useState<DirectSession[]>([]);
  const [wallet, setWallet] = useState<Wallet | null>(null);

  const refreshRooms = useCallback(async () => {
    const list = await call(api.GET("/api/v1/rooms"));
    setRooms(list.rooms);
  }, []);
  const refreshDirects = useCallback(async () => {
    const list = await call(api.GET("/api/v1/direct-sessions"));
    setDirects(list.sessions);
  }, []);
  const refreshWallet = useCallback(async () => {
    try {
      setWallet(await call(api.GET("/api/v1/billing/wallet")));
    } catch {
      setWallet(null); // the wallet is a summary: its absence must not block the app
    }
  }, []);

  useEffect(() => {
    let stop = false;
    call(api.GET("/api/v1/me"))
      .then(async (user) => {
        if (stop) return;
        setMe(user);
        await Promise.allSettled([refreshRooms(), refreshDirects(), refreshWallet()]);
      })
      .catch((err: unknown) => {
        if (stop) return;
        if (err instanceof ApiError && err.status === 401) {
          const next = window.location.pathname + window.location.search;
          router.replace(`/signin/?next=${encodeURIComponent(next)}`);
        } else {
          setError(err instanceof ApiError ? err : ApiError.network(err));
        }
      });
    return () => {
      stop = true;
    };
  }, [refreshDirects, refreshRooms, refreshWallet, router]);

  const signOut = useCallback(async () => {
    await call(api.POST("/api/v1/auth/logout")).catch(() => undefined);
    window.location.assign("/signin/");
  }, []);

  const value = useMemo(
    () =>
      me
        ? { me, rooms, directs, wallet, refreshRooms, refreshDirects, refreshWallet, signOut }
        : null,
    [me, rooms, directs, wallet, refreshRooms, refreshDirects, refreshWallet, signOut],
  );

  if (error) {
    return (
      <main className="auth-wrap">
        <div className="card auth-card" role="alert">
          <h1>Pantheon is unreachable</h1>
          <p className="lead">{error.message}</p>
          <button className="btn btn-primary" type="button" onClick={() => window.location.reload()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!value) {
    return (
      <div className="auth-wrap" aria-busy="true">
        <span className="stream-state">
          <span className="spinner" aria-hidden="true" /> Loading Pantheon…
        </span>
      </div>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
