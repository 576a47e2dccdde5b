/**
 * The Content-Security-Policy (docs/security.md) leaves the app working: every core screen,
 * a streamed turn, file upload, the sign-in pages and the API docs, with no CSP violation.
 * The served pages list their inline scripts by hash (no 'unsafe-inline' for scripts), so a
 * page whose bootstrap script is not listed would break here: violations fail the spec.
 */
import { expect, test, type Page } from "@playwright/test";
import { RoomPage, grantRole, signIn } from "./support";

/** Collects CSP violations: the DOM event (with the blocked URI and directive) and
 * Chromium's console line for each. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction("__reportCspViolation", (text: string) => seen.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${location.pathname}`);
    });
  });
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && /Content Security Policy|Refused to (load|execute|connect|apply|frame)/.test(text)) {
      seen.push(`console: ${text}`);
    }
  });
  return seen;
}

function directives(csp: string): Map<string, string[]> {
  const parsed = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) parsed.set(name, sources);
  }
  return parsed;
}

test("the web app, sign-in pages and API docs run under their CSP without violations", async ({ page }) => {
  const violations = await watchViolations(page);

  const home = await page.request.get("/");
  const policy = directives(home.headers()["content-security-policy"] ?? "");
  expect(policy.get("script-src")).not.toContain("'unsafe-inline'");
  expect(policy.get("script-src")?.some((s) => s.startsWith("'sha256-"))).toBe(true);
  expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
  expect(home.headers()["x-content-type-options"]).toBe("nosniff");

  const email = "csp@example.com";
  grantRole(email, "owner");
  await signIn(page, email); // the sign-in screen, the e-mailed link's page and its form post

  await page.goto("/rooms/new/");
  await page.getByLabel("Room name").fill("CSP");
  await page.getByLabel(/Roundtable/).check();
  await page.getByRole("button", { name: "Create room" }).click();
  await expect(page.getByText("Room created.")).toBeVisible();
  const roomId = new URL(page.url()).searchParams.get("id")!;
  for (const name of ["Ana", "Ben"]) {
    expect((await page.request.post(`/api/v1/rooms/${roomId}/agents`, { data: { name, model_alias: "qwen" } })).status()).toBe(201);
  }
  await page.goto(`/room/?id=${roomId}`);
  const workspace = new RoomPage(page);
  await workspace.send("Stream something under the policy.");
  await expect(workspace.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(workspace.steps).toHaveCount(2);

  await page.getByTestId("files-toggle").click();
  await page.getByTestId("file-input").setInputFiles({
    name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Launch on Tuesday.\n".repeat(20)),
  });
  await expect(page.getByTestId("file-row")).toHaveAttribute("data-status", "ready", { timeout: 30_000 });

  for (const [path, ready] of [["/billing/", "ledger-entry"], ["/admin/", "usage-row"]] as const) {
    await page.goto(path);
    await expect(page.getByTestId(ready).first()).toBeVisible();
  }
  await page.goto("/no-such-page/");
  await expect(page.getByRole("heading").first()).toBeVisible();

  // The API docs: Swagger UI renders, and "Try it out" calls the API from the page.
  await page.goto("/api/docs");
  const me = page.locator("#operations-me-me");
  await expect(me).toBeVisible();
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Try it out" }).click();
  await me.getByRole("button", { name: "Execute" }).click();
  await expect(me.locator(".live-responses-table tbody .response-col_status").first()).toContainText("200");

  expect(violations).toEqual([]);
});
