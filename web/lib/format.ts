/** How numbers, names and times read in the UI. */

/** Credits are exact decimals from the API ("0.027342"); show them briefly but honestly. */
export function formatCredits(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  if (n === 0) return "0";
  if (Math.abs(n) < 1) return n.toFixed(4);
  if (Math.abs(n) < 100) return n.toFixed(2);
  return Math.round(n).toLocaleString("en-US");
}

export function creditsLabel(value: string | null | undefined): string {
  const text = formatCredits(value);
  return text === "1" ? "1 credit" : `${text} credits`;
}

export const MODE_LABELS: Record<string, string> = {
  manual: "Manual",
  roundtable: "Roundtable",
  orchestrator: "Orchestrator",
  direct: "Direct",
};

export const MODE_HINTS: Record<string, string> = {
  manual: "Only the agents you @tag answer, in tag order.",
  roundtable: "Every agent answers in order, each seeing the ones before it.",
  orchestrator: "A manager plans which agents run, then writes a synthesis.",
};

export const KIND_LABELS: Record<string, string> = {
  plan: "Plan",
  worker: "Answer",
  synthesis: "Synthesis",
  direct: "Direct",
};

export const MODEL_LABELS: Record<string, string> = {
  llama: "Llama",
  qwen: "Qwen",
  deepseek: "DeepSeek",
  gpt_oss: "GPT-OSS",
  premium: "Premium",
};

// White text on each of these is at least 4.5:1 (AA).
const AVATAR_COLOURS = ["#4338ca", "#b42318", "#067647", "#1d4ed8", "#6d28d9", "#be185d", "#0f766e", "#9a3412"];

export function avatarColour(name: string): string {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return AVATAR_COLOURS[h % AVATAR_COLOURS.length] ?? "#4338ca";
}

export function initials(name: string): string {
  const parts = name.trim().split(/[\s_-]+/).filter(Boolean);
  const text = parts.length > 1 ? `${parts[0]![0]}${parts[1]![0]}` : name.slice(0, 1);
  return text.toUpperCase();
}

export function timeAgo(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.round((now - t) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  return new Date(t).toLocaleDateString("en-US", { month: "short", day: "numeric" });
}

/** An agent's tag handle without its "@" (the API spells it "@Scout"). */
export function bareHandle(handle: string): string {
  return handle.replace(/^@+/, "");
}

/** Whole numbers with thousands separators: 12,345. */
export function formatInt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return Math.round(value).toLocaleString("en-US");
}

/** Token counts, compact: 950, 12.3k, 4.1M. */
export function formatTokens(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const n = Math.abs(value);
  if (n < 1000) return String(Math.round(value));
  if (n < 1_000_000) return `${(value / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(value / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`;
}

/** US dollars from the API's exact decimal strings: $12.34, $0.00023 (small amounts keep 2
 * significant digits rather than rounding to $0.00), $0. */
export function formatUsd(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return String(value);
  const sign = n < 0 ? "−" : "";
  const a = Math.abs(n);
  if (a === 0) return "$0";
  if (a < 0.01) return `${sign}$${Number(a.toPrecision(2))}`;
  return `${sign}$${a.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A signed amount of credits for the ledger: +100, −0.0091. */
export function formatSignedCredits(value: string): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  const text = formatCredits(String(Math.abs(n)));
  return n > 0 ? `+${text}` : n < 0 ? `−${text}` : text;
}

/** A ratio as a percentage: "0.4213" → "42.1%". */
export function formatPercent(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return String(value);
  return `${(n * 100).toFixed(Math.abs(n) < 0.1 ? 1 : 0)}%`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A UTC day ("2026-11-26") as "Nov 26" (with the year when `withYear`). */
export function formatDay(day: string, withYear = false): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!m) return day;
  const text = `${MONTHS[Number(m[2]) - 1] ?? m[2]} ${Number(m[3])}`;
  return withYear ? `${text}, ${m[1]}` : text;
}

/** An instant as "Nov 26, 2026, 21:15" in the reader's time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t.toLocaleString("en-US", {
    month: "short", day: "numeric", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  });
}

export const ROLE_LABELS: Record<string, string> = { owner: "Owner", analyst: "Analyst" };
