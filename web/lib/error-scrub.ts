/**
 * What a browser error report may carry (NFR-OBS-001): never a query string (a sign-in link's
 * token travels in one), a fragment, a cookie, a header, a Pantheon API token or session
 * secret. Pure functions over Sentry's plain event shape, so they are tested without the SDK.
 */

const SECRET_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/\b(pan|pss)_[A-Za-z0-9_-]{8,}/g, "$1_[Filtered]"],
  [/\b(token|secret|signature|sig|key)=[^&\s"'#]+/gi, "$1=[Filtered]"],
  [/\bbearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer [Filtered]"],
  [/(https?:\/\/[^\s?#"']+)\?[^\s#"']*/g, "$1?[Filtered]"],
];

/** ``text`` with tokens, secrets and URL query strings masked. */
export function scrubText(text: string): string {
  return SECRET_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** A URL without its query string and fragment (relative URLs stay relative). */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

type Json = unknown;

/** Every string inside ``value`` scrubbed; URL-ish fields lose their query string. */
export function scrubValue(value: Json, key = ""): Json {
  if (typeof value === "string") {
    return /^(url|from|to|href)$/i.test(key) ? withoutQuery(value) : scrubText(value);
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item));
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [name, item] of Object.entries(value as Record<string, Json>)) {
      out[name] = scrubValue(item, name);
    }
    return out;
  }
  return value;
}

interface ScrubbableEvent {
  request?: { url?: string; cookies?: unknown; headers?: unknown; query_string?: unknown; data?: unknown };
}

/** A Sentry event as it may leave the browser. */
export function scrubEvent<E extends ScrubbableEvent>(event: E): E {
  const request = event.request;
  if (request) {
    delete request.cookies;
    delete request.headers;
    delete request.query_string;
    delete request.data;
  }
  return scrubValue(event) as E;
}
