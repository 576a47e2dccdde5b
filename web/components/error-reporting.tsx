"use client";

import { useEffect } from "react";

/** Set at build time (NEXT_PUBLIC_*); empty or unset: no reports, and nothing is loaded. */
const SENTRY_DSN = process.env.NEXT_PUBLIC_SENTRY_DSN;

/**
 * Browser errors to Sentry, only when NEXT_PUBLIC_SENTRY_DSN was set at build time
 * (NFR-OBS-001). `@sentry/browser` and the scrubbing rules are chunks of their own, fetched
 * after the page is interactive and only by builds with a DSN: without one, this hook is all
 * the pages carry. Reports leave scrubbed (lib/error-scrub.ts): no query strings, cookies,
 * headers or tokens.
 */
export function ErrorReporting(): null {
  useEffect(() => {
    if (!SENTRY_DSN) return;
    let active = true;
    void Promise.all([import("@sentry/browser"), import("@/lib/error-scrub")]).then(
      ([Sentry, { scrubEvent, scrubValue }]) => {
        if (!active || Sentry.getClient()) return;
        Sentry.init({
          dsn: SENTRY_DSN,
          environment: process.env.NEXT_PUBLIC_SENTRY_ENVIRONMENT || undefined,
          release: process.env.NEXT_PUBLIC_SENTRY_RELEASE || undefined,
          tracesSampleRate: 0,
          beforeSend: (event) => scrubEvent(event),
          beforeBreadcrumb: (crumb) => scrubValue(crumb) as typeof crumb,
        });
      },
    );
    return () => {
      active = false;
    };
  }, []);
  return null;
}
