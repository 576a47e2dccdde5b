/** Page objects and helpers for the e2e specs (data-testid and accessible names). */
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const SCREENS = "test-results/screens";

/** The newest magic link the dev outbox holds for `email` (the OutboxMailer's JSON files). */
export async function outboxLink(email: string): Promise<string> {
  const dir = join(process.env.PANTHEON_E2E_DATA_DIR!, "outbox");
  for (let i = 0; i < 50; i++) {
    const files = (() => { try { return readdirSync(dir); } catch { return []; } })()
      .filter((f) => f.endsWith(".json") && !f.startsWith("."))
      .sort()
      .reverse();
    for (const f of files) {
      const mail = JSON.parse(readFileSync(join(dir, f), "utf8")) as { to: string; kind: string; link: string };
      if (mail.kind === "magic_link" && mail.to.toLowerCase() === email.toLowerCase()) return mail.link;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no sign-in link for ${email} in ${dir}`);
}

export async function signIn(page: Page, email: string, shot?: string) {
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin\//);
  await page.getByLabel("E-mail address").fill(email);
  if (shot) await page.screenshot({ path: `${SCREENS}/${shot}-signin.png` });
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  await expect(page.getByTestId("link-sent")).toBeVisible();
  const link = await outboxLink(email);
  await page.goto(link); // the e-mailed link's confirmation page
  await page.getByRole("button", { name: "Sign in to Pantheon" }).click();
  await expect(page.getByRole("heading", { name: /Welcome back/ })).toBeVisible();
}

export class RoomSettingsPage {
  constructor(private readonly page: Page) {}

  async addAgent(name: string, model: string, role: string, tools: { web?: boolean; files?: boolean } = {}) {
    const page = this.page;
    const before = await page.getByTestId("agent-row").count();
    if (!(await page.getByTestId("agent-form").isVisible())) await page.getByTestId("add-agent").click();
    const form = page.getByTestId("agent-form");
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Model").selectOption(model);
    await form.getByLabel("Role prompt").fill(role);
    if (tools.web) await form.getByLabel("Web search").check();
    if (tools.files) await form.getByLabel("Read files").check();
    await form.getByRole("button", { name: "Add agent" }).click();
    await expect(page.getByTestId("agent-row")).toHaveCount(before + 1);
  }
}

export class RoomPage {
  constructor(private readonly page: Page) {}

  get steps() {
    return this.page.getByTestId("step-message");
  }

  lastTurn() {
    return this.page.getByTestId("turn").last();
  }

  async send(text: string) {
    const box = this.page.getByTestId("composer-input");
    await box.fill(text);
    await box.press("Enter");
  }

  async chooseMode(label: "Manual" | "Roundtable" | "Orchestrator") {
    await this.page.getByTestId("mode-switch").getByRole("radio", { name: label }).click();
  }
}

/** Roughly what a Markdown answer reads as once rendered (list markers and emphasis gone). */
export function rendered(markdown: string): string {
  return markdown
    .replace(/^\s*(?:[-*+]|\d+\.)\s+/gm, "")
    .replace(/\*\*|__|`/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** Runs the `pantheon` CLI as the local operator, on the data directory the server uses. */
export function pantheonCli(...args: string[]): string {
  const python = process.env.PANTHEON_PYTHON ?? resolve(__dirname, "../../.venv/bin/python");
  return execFileSync(join(dirname(python), "pantheon"), args, {
    encoding: "utf8",
    env: {
      ...process.env, FORCE_COLOR: undefined, NO_COLOR: "1",
      PANTHEON_DATA_DIR: process.env.PANTHEON_E2E_DATA_DIR!, PANTHEON_LOG_LEVEL: "WARNING",
    },
  });
}

/** Grants an admin role with `pantheon admin grant` (the user is created if new). */
export function grantRole(email: string, role: "owner" | "analyst") {
  const granted = JSON.parse(pantheonCli("admin", "grant", email, "--role", role, "--json")) as { roles: string[] };
  expect(granted.roles).toContain(role);
}

/** Signs `request` in over the API (magic link from the outbox, then verify): its cookies
 * are that user's session. */
export async function apiSignIn(request: APIRequestContext, email: string) {
  expect((await request.post("/api/v1/auth/magic-link", { data: { email } })).status()).toBe(202);
  const token = new URL(await outboxLink(email)).searchParams.get("token");
  expect((await request.post("/api/v1/auth/verify", { data: { token } })).status()).toBe(200);
}

/** A room with two agents and one finished roundtable turn: usage in the wallet, the
 * ledger and the analytics. */
export async function makeUsage(request: APIRequestContext, name = "Usage") {
  const room = await (await request.post("/api/v1/rooms", { data: { name, mode: "roundtable" } })).json();
  for (const agent of [{ name: "Ana", model_alias: "qwen" }, { name: "Ben", model_alias: "deepseek" }]) {
    expect((await request.post(`/api/v1/rooms/${room.id}/agents`, { data: agent })).status()).toBe(201);
  }
  const sent = await request.post(`/api/v1/rooms/${room.id}/messages`, {
    data: { content: "Give me one launch risk." }, headers: { Accept: "application/json" },
  });
  expect(sent.status()).toBe(202);
  const { turn } = await sent.json();
  await expect
    .poll(async () => (await (await request.get(`/api/v1/turns/${turn.id}`)).json()).turn.status, { timeout: 60_000 })
    .toBe("completed");
  return room.id as string;
}

/** Nothing spills sideways (a phone-width check). */
export async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

/** A screenshot of the whole page. Screens scroll inside their own pane (`.page`), which
 * `fullPage` does not see, so the viewport grows to the pane's height for the shot. */
export async function screenshotAll(page: Page, path: string) {
  const size = page.viewportSize()!;
  const height = await page.evaluate(() => {
    const pane = document.querySelector(".page");
    return pane ? pane.getBoundingClientRect().top + pane.scrollHeight : document.documentElement.scrollHeight;
  });
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(Math.ceil(height), size.height), 6000) });
  await page.waitForTimeout(150); // charts re-measure their width
  await page.screenshot({ path });
  await page.setViewportSize(size);
}
