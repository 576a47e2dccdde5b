/**
 * `@handle` autocomplete in the composer: which partial tag the caret is in, which agents
 * match it, and the text once one is picked.
 */
export interface MentionQuery {
  start: number; // index of the "@"
  query: string; // what follows it, up to the caret
}

/** The partial tag ending at the caret (`@`, `@Sc`), or null when the caret is not in one. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|[\s(,;])@([\p{L}\p{N}_.-]*)$/u.exec(before);
  if (!match) return null;
  const query = match[2] ?? "";
  return { start: caret - query.length - 1, query };
}

export function matchHandles<T extends { handle: string; name: string }>(agents: readonly T[], query: string): T[] {
  const q = query.toLowerCase();
  return agents.filter((a) => a.handle.toLowerCase().startsWith(q) || a.name.toLowerCase().startsWith(q));
}

/** `text` with the partial tag replaced by `@handle ` and where the caret goes after it. */
export function insertMention(text: string, at: MentionQuery, handle: string): { text: string; caret: number } {
  const end = at.start + 1 + at.query.length;
  const inserted = `@${handle} `;
  const rest = text.slice(end).replace(/^ /, "");
  return { text: text.slice(0, at.start) + inserted + rest, caret: at.start + inserted.length };
}

/** The handles tagged in a message (case-insensitive), in order, once each. */
export function taggedHandles(text: string, handles: readonly string[]): string[] {
  const known = new Map(handles.map((h) => [h.toLowerCase(), h]));
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s(,;])@([\p{L}\p{N}_.-]+)/gu)) {
    const h = known.get((m[1] ?? "").toLowerCase().replace(/[.,;:!?]+$/, ""));
    if (h && !found.includes(h)) found.push(h);
  }
  return found;
}
