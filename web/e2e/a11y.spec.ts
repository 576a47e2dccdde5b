/**
 * An axe-core scan (WCAG 2.x A and AA rules) of every core screen, at desktop and phone
 * sizes: no serious or critical violation. Screenshots of each screen are kept.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { RoomPage, SCREENS, grantRole, signIn } from "./support";

async function scan(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENS}/a11y-${name}.png` });
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe violations on ${name}`).toEqual([]);
}

for (const size of [{ name: "desktop", width: 1280, height: 800 }, { name: "phone", width: 390, height: 844 }]) {
  test(`core screens pass axe at ${size.name} size`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto("/signin/");
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await scan(page, `${size.name}-signin`);

    const email = `axe-${size.name}@example.com`;
    grantRole(email, "owner"); // so the admin screens can be scanned too
    await signIn(page, email);
    await scan(page, `${size.name}-home-empty`);

    await page.goto("/trash/");
    await expect(page.getByTestId("trash-empty")).toBeVisible();
    await scan(page, `${size.name}-trash-empty`);

    await page.goto("/rooms/new/");
    await expect(page.getByLabel("Room name")).toBeVisible();
    await scan(page, `${size.name}-room-create`);

    const room = await (await page.request.post("/api/v1/rooms", { data: { name: "Axe", mode: "roundtable" } })).json();
    for (const name of ["Ana", "Ben"]) {
      await page.request.post(`/api/v1/rooms/${room.id}/agents`, { data: { name, model_alias: "qwen" } });
    }
    await page.goto(`/room/settings/?id=${room.id}`);
    await expect(page.getByTestId("agent-row")).toHaveCount(2);
    await scan(page, `${size.name}-room-settings`);

    await page.goto(`/room/?id=${room.id}`);
    const workspace = new RoomPage(page);
    await workspace.send("Hello, both of you.");
    await expect(workspace.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await workspace.chooseMode("Manual");
    await workspace.send("No tag here");
    await expect(page.getByTestId("send-error")).toBeVisible();
    await scan(page, `${size.name}-room-workspace`);

    await page.getByTestId("files-toggle").click();
    await expect(page.getByTestId("files-panel")).toBeVisible();
    await scan(page, `${size.name}-files`);

    await page.goto("/");
    await expect(page.getByTestId("wallet-summary")).toBeVisible();
    await scan(page, `${size.name}-home`);

    // Billing and usage: wallet, charts, plans, ledger; then the checkout error.
    await page.goto("/billing/");
    await expect(page.getByTestId("ledger-entry").first()).toBeVisible();
    await expect(page.getByTestId("chart-by-day").locator("svg")).toBeVisible();
    await scan(page, `${size.name}-billing`);
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await expect(page.getByTestId("checkout-error")).toBeVisible();
    await page.getByTestId("chart-by-model").getByRole("button", { name: "Table" }).click();
    await scan(page, `${size.name}-billing-error`);

    // The admin dashboard: analytics, users, one user, the audit log, settings.
    await page.goto("/admin/");
    await expect(page.getByTestId("usage-row").first()).toBeVisible();
    await expect(page.getByTestId("chart-active").locator("svg")).toBeVisible();
    await scan(page, `${size.name}-admin`);
    await page.goto("/admin/users/");
    await expect(page.getByTestId("user-row").first()).toBeVisible();
    await scan(page, `${size.name}-admin-users`);
    await page.goto(`/admin/user/?email=${encodeURIComponent(email)}`);
    await expect(page.getByTestId("user-detail")).toBeVisible();
    await expect(page.getByTestId("audit-table")).toBeVisible();
    await scan(page, `${size.name}-admin-user`);
    await page.goto("/admin/audit/");
    await expect(page.getByTestId("audit-row").first()).toBeVisible();
    await scan(page, `${size.name}-admin-audit`);
    await page.goto("/admin/settings/");
    await expect(page.getByTestId("manager-model-select")).toBeVisible();
    await scan(page, `${size.name}-admin-settings`);

    // The trash: Recently deleted with a room and a direct chat; a removed agent with its Undo toast.
    const gone = await (await page.request.post("/api/v1/rooms", { data: { name: "Gone", mode: "roundtable" } })).json();
    await page.request.post(`/api/v1/rooms/${gone.id}/agents`, { data: { name: "Dee", model_alias: "qwen" } });
    const chat = await (await page.request.post("/api/v1/direct-sessions", { data: { room_id: gone.id, agent_id: "Dee" } })).json();
    expect((await page.request.delete(`/api/v1/direct-sessions/${chat.id}`)).status()).toBe(200);
    expect((await page.request.delete(`/api/v1/rooms/${gone.id}`)).status()).toBe(200);
    await page.goto("/trash/");
    await expect(page.getByTestId("trash-room")).toHaveCount(1);
    await expect(page.getByTestId("trash-direct")).toHaveCount(1);
    await scan(page, `${size.name}-trash`);

    await page.goto(`/room/settings/?id=${room.id}`);
    await page.getByRole("button", { name: "Remove Ben" }).click();
    await page.getByRole("button", { name: "Remove", exact: true }).click();
    await expect(page.getByTestId("removed-agents")).toBeVisible();
    const toast = page.getByTestId("toast");
    await expect(toast).toBeVisible();
    await expect.poll(() => toast.evaluate((el) => el.getAnimations().length)).toBe(0); // settled, for contrast
    await scan(page, `${size.name}-room-settings-removed`);
  });
}
