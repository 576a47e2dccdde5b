/**
 * Billing and the admin dashboard against a real `pantheon serve` (embedded defaults: no
 * Stripe, so checkout answers `payments_not_configured`): the wallet's buckets, the ledger,
 * usage charts and their tables; the admin pages as an analyst (read-only, and a forced write
 * is refused with 403 `owner_required`) and as an owner (cap, suspend, reactivate, audit).
 * Roles are granted with the CLI (`pantheon admin grant`) on the server's data directory.
 */
import { expect, request as playwrightRequest, test, type APIRequestContext, type Page } from "@playwright/test";
import { SCREENS, apiSignIn, expectNoSidewaysScroll, grantRole, makeUsage, screenshotAll, signIn } from "./support";

const baseURL = `http://127.0.0.1:${process.env.PANTHEON_E2E_PORT}`;

async function memberWithUsage(email: string): Promise<APIRequestContext> {
  const member = await playwrightRequest.newContext({ baseURL });
  await apiSignIn(member, email);
  await makeUsage(member, `${email} room`);
  return member;
}

async function openBilling(page: Page) {
  await page.getByTestId("nav-billing").click();
  await expect(page.getByRole("heading", { name: "Billing & usage" })).toBeVisible();
  await expect(page.getByTestId("ledger-entry").first()).toBeVisible();
}

test("billing: wallet buckets, ledger, usage charts, and checkout without Stripe", async ({ page }) => {
  await signIn(page, "bea@example.com");
  await makeUsage(page.request, "Costs");
  await openBilling(page);

  // The wallet's buckets and period.
  const buckets = page.getByTestId("wallet-buckets");
  for (const id of ["bucket-available", "bucket-plan", "bucket-topup", "bucket-reserved"]) {
    await expect(buckets.getByTestId(id)).toHaveText(/^\d/);
  }
  await expect(page.getByTestId("bucket-plan")).toHaveText("0");
  await expect(page.getByTestId("period-end")).toContainText("No plan period");
  const available = Number(await page.getByTestId("bucket-available").textContent());
  expect(available).toBeGreaterThan(99);
  expect(available).toBeLessThan(100);

  // The ledger: the welcome grant and the turn's burns; holds on demand.
  await expect(page.locator('[data-testid="ledger-entry"][data-kind="grant"]')).toContainText("welcome credits");
  await expect(page.locator('[data-testid="ledger-entry"][data-kind="burn"]').first()).toContainText("−");
  await expect(page.locator('[data-testid="ledger-entry"][data-kind="reserve"]')).toHaveCount(0);
  await page.getByLabel("Show holds and releases").check();
  await expect(page.locator('[data-testid="ledger-entry"][data-kind="reserve"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="ledger-entry"][data-kind="release"]').first()).toBeVisible();
  await page.getByLabel("Show holds and releases").uncheck();

  // Usage as charts, each with a summary and a table.
  const byDay = page.getByTestId("chart-by-day");
  await expect(byDay.locator("svg path").first()).toBeVisible();
  await expect(page.getByTestId("chart-by-day-summary")).toContainText("credits over 1 day");
  const byModel = page.getByTestId("chart-by-model");
  await expect(byModel.locator(".bar-row")).toHaveCount(2);
  await expect(byModel.locator(".bar-list")).toContainText("Qwen");
  await expect(byModel.locator(".bar-list")).toContainText("DeepSeek");
  // The table is there for screen readers all along, and on screen with the switch.
  await expect(byModel.getByRole("table")).toHaveCount(1);
  await byModel.getByRole("button", { name: "Table" }).click();
  await expect(byModel.getByRole("table")).toBeVisible();
  await expect(byModel.getByRole("row", { name: /Qwen/ })).toBeVisible();
  await byModel.getByRole("button", { name: "Chart" }).click();
  await screenshotAll(page, `${SCREENS}/desktop-billing.png`);

  // Plans and top-up packs go to Stripe Checkout; without Stripe, a typed error.
  await expect(page.getByTestId("plan-card")).toHaveCount(3);
  await page.getByRole("button", { name: "Choose Pro" }).click();
  const error = page.getByTestId("checkout-error");
  await expect(error).toHaveAttribute("data-code", "payments_not_configured");
  await expect(error).toContainText("Payments aren’t set up on this server");
  await expect(error).toContainText("503");
  await page.screenshot({ path: `${SCREENS}/desktop-billing-checkout-error.png` });
  await error.getByRole("button", { name: "Dismiss" }).click();
  await expect(error).toHaveCount(0);
  await page.getByTestId("pack-card").first().getByRole("button", { name: "Buy" }).click();
  await expect(page.getByTestId("checkout-error")).toHaveAttribute("data-code", "payments_not_configured");
  await page.getByTestId("portal-button").click();
  await expect(page.getByTestId("checkout-error")).toHaveAttribute("data-code", "payments_not_configured");
  // An ordinary user has no admin entry.
  await expect(page.getByTestId("nav-admin")).toHaveCount(0);
});

test.describe("phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("billing at 390×844", async ({ page }) => {
    await signIn(page, "pia@example.com");
    await makeUsage(page.request, "Phone costs");
    await page.getByRole("button", { name: "Open navigation" }).click();
    await openBilling(page);
    await expect(page.getByTestId("chart-by-day").locator("svg")).toBeVisible();
    await expectNoSidewaysScroll(page);
    await screenshotAll(page, `${SCREENS}/phone-billing.png`);
    await page.getByRole("button", { name: "Choose Starter" }).click();
    await expect(page.getByTestId("checkout-error")).toHaveAttribute("data-code", "payments_not_configured");
    await page.getByTestId("checkout-error").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENS}/phone-billing-checkout-error.png` });
  });

  test("admin analytics at 390×844", async ({ page }) => {
    grantRole("olga@example.com", "owner");
    const member = await memberWithUsage("phone-member@example.com");
    await signIn(page, "olga@example.com");
    await page.goto("/admin/");
    await expect(page.getByTestId("kpi-dau")).toHaveText(/^\d+$/);
    await expect(page.getByTestId("usage-row").first()).toBeVisible();
    await expectNoSidewaysScroll(page);
    await screenshotAll(page, `${SCREENS}/phone-admin.png`);
    await page.goto(`/admin/user/?email=${encodeURIComponent("phone-member@example.com")}`);
    await expect(page.getByTestId("user-detail")).toBeVisible();
    await expectNoSidewaysScroll(page);
    await screenshotAll(page, `${SCREENS}/phone-admin-user.png`);
    await member.dispose();
  });
});

test("admin as an analyst: everything readable, nothing writable, a forced write is refused", async ({ page }) => {
  grantRole("ana.lyst@example.com", "analyst");
  const member = await memberWithUsage("mia@example.com");
  await signIn(page, "ana.lyst@example.com");
  await expect(page.getByTestId("nav-admin")).toContainText("Analyst");
  await page.getByTestId("nav-admin").click();
  await expect(page.getByRole("heading", { name: "Analytics" })).toBeVisible();
  await expect(page.getByTestId("admin-role")).toContainText("read-only");
  await expect(page.getByTestId("readonly-note")).toBeVisible();

  // Costs, active users, top users and models, usage by user × model.
  await expect(page.getByTestId("kpi-internal")).toHaveText(/^\$/);
  await expect(page.getByTestId("kpi-dau")).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId("chart-costs").locator("svg")).toBeVisible();
  await expect(page.getByTestId("chart-active").locator("svg path").first()).toBeVisible();
  await expect(page.getByTestId("top-users")).toContainText("mia@example.com");
  await expect(page.getByTestId("top-models")).toContainText("Qwen");
  await page.getByTestId("top-models").getByRole("button", { name: "Tokens" }).click();
  await expect(page.getByTestId("top-models-summary")).toContainText("By tokens");
  const usage = page.getByTestId("usage-table");
  await expect(usage.getByTestId("usage-row").filter({ hasText: "mia@example.com" })).toHaveCount(2);
  await expect(page.getByTestId("usage-range")).toContainText(/^1–\d+ of \d+$/);

  // Every table downloads as CSV.
  const links = page.getByTestId("csv-link");
  expect(await links.count()).toBeGreaterThanOrEqual(5);
  for (const href of await links.evaluateAll((els) => els.map((e) => (e as HTMLAnchorElement).href))) {
    expect(href).toContain("format=csv");
    const csv = await page.request.get(href);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
  }
  const usageCsv = await (await page.request.get(await links.last().getAttribute("href") ?? "")).text();
  expect(usageCsv.split(/\r?\n/)[0]).toBe("user_id,email,model_alias,calls,failed_calls,prompt_tokens,cached_tokens,completion_tokens,tokens,credits,provider_cost_usd");
  expect(usageCsv).toContain("mia@example.com");
  await screenshotAll(page, `${SCREENS}/desktop-admin-analytics.png`);

  // Users: search, then one user with every control disabled and why.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" }).click();
  await page.getByTestId("user-search").fill("mia@");
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await expect(page.getByTestId("user-row")).toContainText("Active");
  await page.getByRole("link", { name: "mia@example.com" }).click();
  const detail = page.getByTestId("user-detail");
  await expect(detail).toBeVisible();
  await expect(page.getByTestId("cap-input")).toBeDisabled();
  await expect(page.getByTestId("cap-set")).toBeDisabled();
  await expect(page.getByTestId("status-reason")).toBeDisabled();
  await expect(page.getByTestId("suspend-button")).toBeDisabled();
  await expect(page.getByTestId("policy-save")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason").first()).toContainText("Owners only");
  await screenshotAll(page, `${SCREENS}/desktop-admin-user-analyst.png`);

  // Forcing the control open: the server refuses, and the typed error says so.
  await page.getByTestId("cap-control").locator("fieldset").evaluate((f) => ((f as HTMLFieldSetElement).disabled = false));
  await page.getByTestId("cap-input").fill("50");
  await page.getByTestId("cap-set").click();
  const refused = page.getByTestId("cap-control-error");
  await expect(refused).toHaveAttribute("data-code", "owner_required");
  await expect(refused).toHaveAttribute("data-status", "403");
  await expect(refused).toContainText("Only an owner can change this");
  await expect(page.getByTestId("user-cap")).toHaveText("No monthly cap");
  await page.screenshot({ path: `${SCREENS}/desktop-admin-forced-write.png` });

  // The refusal is itself in the audit log.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
  await page.getByLabel("Outcome").selectOption("refused");
  await page.getByTestId("audit-actor").fill("ana.lyst@example.com");
  await page.getByTestId("audit-apply").click();
  const row = page.getByTestId("audit-row").first();
  await expect(row).toHaveAttribute("data-action", "admin.cap.set");
  await expect(row).toHaveAttribute("data-outcome", "refused");

  // Settings are read-only too.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByTestId("manager-model-select")).toBeDisabled();
  await member.dispose();
});

test("admin as an owner: cap, suspend and reactivate a user, and see it audited", async ({ page }) => {
  grantRole("owen@example.com", "owner");
  const member = await memberWithUsage("max@example.com");
  await signIn(page, "owen@example.com");
  await expect(page.getByTestId("nav-admin")).toContainText("Owner");
  await page.getByTestId("nav-admin").click();
  await expect(page.getByTestId("readonly-note")).toHaveCount(0);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" }).click();
  await page.getByTestId("user-search").fill("max@example.com");
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await page.screenshot({ path: `${SCREENS}/desktop-admin-users.png` });
  await page.getByRole("link", { name: "max@example.com" }).click();
  await expect(page.getByTestId("user-detail")).toBeVisible();

  // A monthly cap.
  await page.getByTestId("cap-input").fill("250");
  await page.getByTestId("cap-set").click();
  await expect(page.getByTestId("user-cap")).toHaveText("Cap 250 credits");
  await expect(page.getByTestId("cap-control")).toContainText("Cap set to 250 credits.");

  // Suspend: the member's next request is refused; reactivate: it works again.
  await page.getByTestId("status-reason").fill("Chargeback under review");
  await page.getByTestId("suspend-button").click();
  await expect(page.getByTestId("user-detail").getByTestId("user-status").first()).toHaveText("Suspended");
  expect((await member.get("/api/v1/me")).status()).toBe(403);
  expect((await (await member.get("/api/v1/me")).json()).error.code).toBe("account_suspended");
  await screenshotAll(page, `${SCREENS}/desktop-admin-user-suspended.png`);
  await page.getByTestId("status-reason").fill("Chargeback resolved");
  await page.getByTestId("reactivate-button").click();
  await expect(page.getByTestId("user-detail").getByTestId("user-status").first()).toHaveText("Active");
  expect((await member.get("/api/v1/me")).status()).toBe(200);

  // Each change is in the user's audit trail, newest first, with its reason.
  const trail = page.getByTestId("user-detail").getByTestId("audit-row");
  await expect(trail.nth(0)).toHaveAttribute("data-action", "admin.user.reactivate");
  await expect(trail.nth(0)).toContainText("Chargeback resolved");
  await expect(trail.nth(1)).toHaveAttribute("data-action", "admin.user.suspend");
  await expect(trail.nth(1)).toContainText("Chargeback under review");
  await expect(trail.nth(2)).toHaveAttribute("data-action", "admin.cap.set");
  await expect(trail.nth(2)).toContainText("250");
  await screenshotAll(page, `${SCREENS}/desktop-admin-user-owner.png`);

  // The audit log, filtered by action and since today.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
  await page.getByTestId("audit-action").selectOption("admin.user");
  await page.getByTestId("audit-since").fill(`${new Date().toISOString().slice(0, 10)}T00:00`);
  await page.getByTestId("audit-apply").click();
  const rows = page.getByTestId("audit-row");
  await expect(rows.filter({ hasText: "max@example.com" })).toHaveCount(2);
  await expect(rows.first()).toHaveAttribute("data-action", /^admin\.user\./);
  await screenshotAll(page, `${SCREENS}/desktop-admin-audit.png`);

  // The manager model, for every room (set and put back).
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Settings" }).click();
  const current = (await page.getByTestId("manager-model-select").inputValue());
  const other = current === "qwen" ? "llama" : "qwen";
  await page.getByTestId("manager-model-select").selectOption(other);
  await page.getByTestId("manager-model-save").click();
  await expect(page.getByRole("status")).toContainText("The manager model is now");
  await page.screenshot({ path: `${SCREENS}/desktop-admin-settings.png` });
  await page.getByTestId("manager-model-select").selectOption(current);
  await page.getByTestId("manager-model-save").click();
  await expect(page.getByTestId("manager-model-current")).not.toHaveText(/^$/);
  await member.dispose();
});
