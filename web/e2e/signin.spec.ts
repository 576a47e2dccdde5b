/**
 * Signing in on a local development server: after "Send sign-in link" the page offers the
 * development outbox's link (GET /api/v1/auth/dev/outbox/latest), which signs in and goes
 * back to the page asked for.
 */
import { expect, test } from "@playwright/test";
import { SCREENS } from "./support";

for (const size of [{ name: "desktop", width: 1280, height: 800 }, { name: "phone", width: 390, height: 844 }]) {
  test(`the development outbox link signs in and returns to the page asked for (${size.name})`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto("/billing/");
    await expect(page).toHaveURL(/\/signin\/\?next=%2Fbilling%2F/);
    await page.getByLabel("E-mail address").fill(`dev-${size.name}@example.com`);
    await page.getByRole("button", { name: "Send sign-in link" }).click();
    await expect(page.getByTestId("link-sent")).toBeVisible();
    const devLink = page.getByRole("link", { name: "Open the sign-in link (development outbox)" });
    await expect(devLink).toBeVisible();
    await expect(devLink).toHaveAttribute("href", /\/api\/v1\/auth\/verify\?token=/);
    await page.screenshot({ path: `${SCREENS}/${size.name}-signin-dev-outbox.png` });
    await devLink.click();
    await expect(page).toHaveURL(/\/billing\/$/);
    await expect(page.getByRole("heading", { name: "Billing & usage" })).toBeVisible();
  });
}
