/** The token of a pasted sign-in link, or the pasted text itself if it is a bare token. */
export function tokenFrom(text: string): string {
  const trimmed = text.trim();
  try {
    return new URL(trimmed).searchParams.get("token") ?? "";
  } catch {
    return trimmed;
  }
}
