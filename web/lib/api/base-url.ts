/**
 * Where the API lives. Empty (the default) means the same origin as the web app, which is
 * how `pantheon serve` ships it; a separately hosted build sets
 * NEXT_PUBLIC_PANTHEON_API_URL (e.g. https://api.example.com) at build time.
 */
export const API_BASE_URL: string = (process.env.NEXT_PUBLIC_PANTHEON_API_URL ?? "").replace(
  /\/+$/,
  "",
);

/** An absolute or same-origin URL for an API path such as `/api/v1/rooms`. */
export function apiUrl(path: string): string {
  return `${API_BASE_URL}${path}`;
}
