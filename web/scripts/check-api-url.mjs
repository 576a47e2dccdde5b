#!/usr/bin/env node
/**
 * Fails a hosted build (Vercel) whose API address is missing or unusable, before `next build`
 * bakes it into every page. NEXT_PUBLIC_PANTHEON_API_URL must be the API's origin over https
 * (e.g. https://api.example.com): the web app calls `${origin}/api/v1/…` with credentials.
 * Plain http is accepted only for a loopback host (a local check of a production build).
 *
 *   node scripts/check-api-url.mjs        # exit 0 and print the origin, or exit 1 and say why
 */
import { pathToFileURL } from "node:url";

const NAME = "NEXT_PUBLIC_PANTHEON_API_URL";
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function checkApiUrl(value) {
  const text = (value ?? "").trim();
  if (!text) {
    return { error: `${NAME} is not set. A separately hosted web app needs the API's origin, e.g. https://api.example.com (set it per environment in the Vercel project).` };
  }
  let url;
  try {
    url = new URL(text);
  } catch {
    return { error: `${NAME}=${text} is not a URL; use the API's origin, e.g. https://api.example.com.` };
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure) {
    return { error: `${NAME}=${text} must use https:// (plain http only for localhost).` };
  }
  if (url.username || url.password || url.search || url.hash || url.pathname.replace(/\/+$/, "") !== "") {
    return { error: `${NAME}=${text} must be an origin only (scheme://host[:port]), without a path, query or credentials.` };
  }
  return { origin: url.origin };
}

/** The origin, or exit 1 with the reason (for the build scripts). */
export function apiOriginOrExit() {
  const result = checkApiUrl(process.env[NAME]);
  if (result.error) {
    console.error(`error[invalid_api_url]: ${result.error}`);
    process.exit(1);
  }
  return result.origin;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(`${NAME}: ${apiOriginOrExit()}`);
}
