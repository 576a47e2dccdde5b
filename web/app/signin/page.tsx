"use client";
import { useRouter } from "next/navigation";
import { Suspense, useEffect, useId, useState, type FormEvent } from "react";
import { api, call } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { useQueryParam } from "@/hooks/use-query-param";
import { tokenFrom } from "@/lib/auth-link";

function SignIn() {
  const router = useRouter();
  const next = useQueryParam("next");
  const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [link, setLink] = useState("");
  const [linkError, setLinkError] = useState<string | null>(null);
  // On a local development server whose mail goes to the outbox, the link itself.
  const [devLink, setDevLink] = useState<string | null>(null);
  const emailId = useId();
  const linkId = useId();

  useEffect(() => {
    call(api.GET("/api/v1/me"))
      .then(() => router.replace(target))
      .catch(() => undefined);
  }, [router, target]);

  async function request(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await call(api.POST("/api/v1/auth/magic-link", { body: { email } }));
      setSent(answer.message);
      setDevLink(await outboxLink(email));
    } catch (err) {
      setError(err instanceof ApiError ? err : ApiError.network(err));
    } finally {
      setBusy(false);
    }
  }

  async function verify(e: FormEvent) {
    e.preventDefault();
    await signInWith(link);
  }

  async function signInWith(text: string) {
    const token = tokenFrom(text);
    if (!token) {
      setLinkError("Paste the whole sign-in link from the e-mail.");
      return;
    }
    setBusy(true);
    setLinkError(null);
    try {
      await call(api.POST("/api/v1/auth/verify", { body: { token } }));
      window.location.assign(target);
    } catch (err) {
      setLinkError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-wrap">
      <div className="card auth-card">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">P</span>
          Pantheon
        </span>
        {sent ? (
          <div data-testid="link-sent">
            <h1>Check your inbox</h1>
            <p className="lead" role="status">
              We sent a sign-in link to <strong>{email}</strong>. {sent.replace(/^Check your inbox: a sign-in link is on its way\.\s*/, "")}
            </p>
            {devLink && (
              <div className="dev-outbox" data-testid="dev-outbox">
                <span className="badge badge-warning">Development</span>
                <p>This server doesn’t send e-mail: the link is in its outbox.</p>
                <a className="btn btn-primary" href={devLink} data-testid="dev-outbox-link"
                  onClick={(e) => {
                    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    void signInWith(devLink);
                  }}>
                  Open the sign-in link (development outbox)
                </a>
                {linkError && <p className="field-error" role="alert">{linkError}</p>}
              </div>
            )}
            <button className="btn" type="button" onClick={() => { setSent(null); setDevLink(null); }}>
              Use a different e-mail
            </button>
          </div>
        ) : (
          <form onSubmit={request} noValidate>
            <h1>Sign in</h1>
            <p className="lead">Rooms of AI agents that answer together. We’ll e-mail you a sign-in link.</p>
            <div className="field">
              <label className="label" htmlFor={emailId}>E-mail address</label>
              <input id={emailId} className="input" type="email" autoComplete="email" required value={email}
                onChange={(e) => setEmail(e.target.value)} aria-invalid={error ? true : undefined}
                aria-describedby={error ? `${emailId}-error` : undefined} placeholder="you@example.com" />
              {error && (
                <p className="field-error" id={`${emailId}-error`} role="alert">{error.message}</p>
              )}
            </div>
            <button className="btn btn-primary" type="submit" disabled={busy || !email.includes("@")}>
              {busy ? "Sending…" : "Send sign-in link"}
            </button>
          </form>
        )}

        <div className="divider">have the link?</div>
        <form onSubmit={verify} noValidate>
          <div className="field">
            <label className="label" htmlFor={linkId}>Paste your sign-in link</label>
            <input id={linkId} className="input mono" value={link} onChange={(e) => setLink(e.target.value)}
              placeholder="https://…/api/v1/auth/verify?token=…" autoComplete="off" spellCheck={false}
              aria-invalid={linkError ? true : undefined}
              aria-describedby={`${linkId}-hint${linkError ? ` ${linkId}-error` : ""}`} />
            {linkError && <p className="field-error" id={`${linkId}-error`} role="alert">{linkError}</p>}
            <p className="hint" id={`${linkId}-hint`}>
              Running Pantheon locally? Mail goes to the development outbox: run{" "}
              <code>pantheon auth link {email || "you@example.com"}</code> or look for the link in the server log.
            </p>
          </div>
          <button className="btn" type="submit" disabled={busy || !link.trim()} style={{ marginTop: "0.75rem" }}>
            Sign in with this link
          </button>
        </form>
      </div>
    </main>
  );
}

/** The newest sign-in link in a local development server's outbox, or null (the server
 * answers 404 anywhere else: production, real mail, or another machine). */
async function outboxLink(email: string): Promise<string | null> {
  try {
    const answer = await call(api.GET("/api/v1/auth/dev/outbox/latest", { params: { query: { email } } }));
    return answer.link;
  } catch {
    return null;
  }
}

export default function SignInPage() {
  return (
    <Suspense fallback={null}>
      <SignIn />
    </Suspense>
  );
}
