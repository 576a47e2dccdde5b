/** Page objects and helpers for the e2e specs (data-testid and accessible names). */
import { expect, type Page } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

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
