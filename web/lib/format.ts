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
