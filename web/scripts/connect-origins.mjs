#!/usr/bin/env node
/**
 * After `next build` for `pantheon serve`: record the origins the built app calls besides the
 * API — today Sentry's, when NEXT_PUBLIC_SENTRY_DSN was set for the build — in
 * out/_pantheon/connect-origins.json. The server adds them to each page's `connect-src`
 * (pantheon_http/web.py), so a build that reports browser errors is not blocked by its own
 * Content-Security-Policy. Without a DSN the list is empty.
 *
 *   node scripts/connect-origins.mjs [out]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sentryOrigin } from "./csp-meta.mjs";

const dir = process.argv[2] ?? "out";
let origins;
try {
  origins = [sentryOrigin(process.env.NEXT_PUBLIC_SENTRY_DSN)].filter(Boolean);
} catch (error) {
  console.error(`error[invalid_sentry_dsn]: ${error.message}`);
  process.exit(1);
}
mkdirSync(join(dir, "_pantheon"), { recursive: true });
writeFileSync(join(dir, "_pantheon", "connect-origins.json"), `${JSON.stringify(origins)}\n`);
