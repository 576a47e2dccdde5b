#!/usr/bin/env node
/**
 * After `next build` for a static host (Vercel): give every exported page a
 * Content-Security-Policy `<meta>` that allows exactly that page's inline scripts, by SHA-256,
 * and network calls to this origin, the API's (NEXT_PUBLIC_PANTHEON_API_URL) and, when the
 * build reports browser errors, Sentry's (the host of NEXT_PUBLIC_SENTRY_DSN).
 *
 * A static host sends one header for every page (web/vercel.json), and a header cannot name
 * hashes that change with every build. The header therefore keeps 'unsafe-inline' for scripts
 * and `https:` for connections; this meta policy is enforced *as well* (a browser applies every
 * policy a page has), so what runs is only what both allow: the listed scripts, and calls to
 * the API. Same directives as the API's own pages (pantheon_http/csp.py), minus those a meta
 * policy cannot carry (frame-ancestors: the header has it).
 *
 *   node scripts/csp-meta.mjs [out]      # rewrites out/**\/*.html in place; idempotent
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { apiOriginOrExit } from "./check-api-url.mjs";

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const HAS_SRC = /(^|\s)src\s*=/i;
const OURS = /<meta http-equiv="Content-Security-Policy" content="[^"]*"\/>/;
const HEAD = /<head(\s[^>]*)?>/i;

/** 'sha256-…' of each inline script (no src), as browsers hash them: the text between the
 * tags, line endings normalised to \n. */
export function inlineScriptHashes(html) {
  const hashes = [];
  for (const [, attributes, body] of html.replace(/\r\n?/g, "\n").matchAll(INLINE_SCRIPT)) {
    if (HAS_SRC.test(attributes)) continue;
    const digest = createHash("sha256").update(body, "utf8").digest("base64");
    hashes.push(`'sha256-${digest}'`);
  }
  return [...new Set(hashes)];
}

/** The origin Sentry's browser SDK posts to (the DSN's scheme and host), or null. */
export function sentryOrigin(dsn) {
  const text = (dsn ?? "").trim();
  if (!text) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`NEXT_PUBLIC_SENTRY_DSN is not a URL: ${text}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`NEXT_PUBLIC_SENTRY_DSN must be an http(s) URL: ${text}`);
  }
  return url.origin;
}

export function pagePolicy(hashes, ...connectOrigins) {
  const connect = ["'self'", ...connectOrigins].filter((v, i, all) => v && all.indexOf(v) === i);
  return [
    "default-src 'self'", `script-src ${["'self'", ...[...hashes].sort()].join(" ")}`,
    "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "font-src 'self' data:",
    `connect-src ${connect.join(" ")}`, "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-src 'none'", "worker-src 'self'", "manifest-src 'self'",
  ].join("; ");
}

/** The page with its policy as the first element of <head> (replacing one added before). */
export function withPolicy(html, ...connectOrigins) {
  const page = html.replace(OURS, "");
  const head = HEAD.exec(page);
  if (!head) throw new Error("no <head> element");
  const meta = `<meta http-equiv="Content-Security-Policy" content="${pagePolicy(inlineScriptHashes(page), ...connectOrigins)}"/>`;
  const at = head.index + head[0].length;
  return page.slice(0, at) + meta + page.slice(at);
}

function* htmlFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* htmlFiles(path);
    else if (name.endsWith(".html")) yield path;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const origin = apiOriginOrExit();
  let sentry;
  try {
    sentry = sentryOrigin(process.env.NEXT_PUBLIC_SENTRY_DSN);
  } catch (error) {
    console.error(`error[invalid_sentry_dsn]: ${error.message}`);
    process.exit(1);
  }
  const dir = process.argv[2] ?? "out";
  let pages = 0;
  for (const path of htmlFiles(dir)) {
    writeFileSync(path, withPolicy(readFileSync(path, "utf8"), origin, sentry));
    pages += 1;
  }
  if (pages === 0) {
    console.error(`error[no_pages]: no .html files under ${dir}: run next build first`);
    process.exit(1);
  }
  console.log(`Content-Security-Policy <meta> written into ${pages} pages (connect-src 'self' ${[origin, sentry].filter(Boolean).join(" ")})`);
}
