/**
 * The core journey in a real Chromium against a real `pantheon serve` (embedded defaults):
 * sign in by magic link → create a room → add three agents → roundtable send → three step
 * messages stream in; then the mode switch (pending shown), a manual send without a tag
 * (typed error), and `@` autocomplete. Then the chat flow again at phone size (390×844).
 */
import { expect, test, type Page } from "@playwright/test";
import { RoomPage, RoomSettingsPage, SCREENS, signIn } from "./support";

const AGENTS = [
  { name: "Scout", model: "qwen", role: "Find the facts and the options." },
  { name: "Critic", model: "deepseek", role: "Find the weakest assumption." },
  { name: "Judge", model: "llama", role: "Weigh it up and decide." },
];

async function createRoomWithAgents(page: Page, name: string, shot: string) {
  await page.getByRole("main").getByRole("link", { name: "New room" }).click();
  await page.getByLabel("Room name").fill(name);
  await page.getByLabel(/Roundtable/).check();
  await page.screenshot({ path: `${SCREENS}/${shot}-room-create.png` });
  await page.getByRole("button", { name: "Create room" }).click();
  await expect(page.getByText("Room created.")).toBeVisible();
  const settings = new RoomSettingsPage(page);
  for (const a of AGENTS) await settings.addAgent(a.name, a.model, a.role);
  await page.screenshot({ path: `${SCREENS}/${shot}-roster.png`, fullPage: true });
  await page.getByTestId("open-room").click();
  await expect(page.getByTestId("room-name")).toHaveText(name);
}

async function roundtable(page: Page, shot: string) {
  const room = new RoomPage(page);
  await room.send("How should we launch in Canada?");
  // Each agent's step is its own message, streaming in while the turn runs.
  await expect(room.steps.first()).toBeVisible();
  await expect(page.getByTestId("turn-foot").last()).toContainText("answering");
  await page.screenshot({ path: `${SCREENS}/${shot}-streaming.png` });
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(room.steps).toHaveCount(3);
  await expect(room.steps.getByTestId("step-agent")).toHaveText(AGENTS.map((a) => a.name));
  for (let i = 0; i < 3; i++) {
    const step = room.steps.nth(i);
    await expect(step).toHaveAttribute("data-status", "ok");
    await expect(step.getByTestId("step-content")).toContainText(`I am ${AGENTS[i]!.name}`);
    await expect(step.getByTestId("step-model")).toContainText("offline/");
    await expect(step).toContainText("Roundtable");
    await expect(step.getByTestId("step-credits")).toContainText("credits");
  }
  await expect(page.getByTestId("turn-credits").last()).toContainText("credits");
  await page.screenshot({ path: `${SCREENS}/${shot}-roundtable.png` });
}

async function manualMode(page: Page, shot: string) {
  const room = new RoomPage(page);
  await room.chooseMode("Manual");
  await expect(page.getByTestId("mode-note")).toContainText("Current: Roundtable");
  await expect(page.getByTestId("mode-note")).toContainText("Manual applies on next send");
  await page.screenshot({ path: `${SCREENS}/${shot}-mode-pending.png` });

  await room.send("What do you all think?");
  const error = page.getByTestId("send-error");
  await expect(error).toHaveAttribute("data-code", "no_valid_tags");
  await expect(error).toContainText("@Scout");
  await page.screenshot({ path: `${SCREENS}/${shot}-no-valid-tags.png` });

  // `@` autocomplete: pick Critic from the keyboard.
  const box = page.getByTestId("composer-input");
  await box.fill("");
  await box.pressSequentially("@cr");
  await expect(page.getByTestId("mention-list")).toContainText("@Critic");
  await box.press("Enter");
  await expect(box).toHaveValue("@Critic ");
  await box.pressSequentially("what could go wrong?");
  await box.press("Enter");
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(room.lastTurn().getByTestId("step-message")).toHaveCount(1);
  await expect(room.lastTurn().getByTestId("step-agent")).toHaveText("Critic");
  await expect(room.lastTurn().getByTestId("step-message")).toContainText("Manual");
  await expect(page.getByTestId("mode-note")).toContainText("Manual is active");
}

test("desktop: sign in, build a room of three agents, roundtable, manual mode", async ({ page }) => {
  await signIn(page, "ada@example.com", "desktop");
  await page.screenshot({ path: `${SCREENS}/desktop-home-empty.png` });
  await createRoomWithAgents(page, "Launch plan", "desktop");
  await roundtable(page, "desktop");
  await manualMode(page, "desktop");
  await page.goto("/");
  await expect(page.getByTestId("wallet-summary")).toBeVisible();
  await page.screenshot({ path: `${SCREENS}/desktop-home.png` });
});

test.describe("phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("phone: the chat flow at 390×844", async ({ page }) => {
    await signIn(page, "grace@example.com", "phone");
    await page.screenshot({ path: `${SCREENS}/phone-home.png` });
    await createRoomWithAgents(page, "Phone room", "phone");
    await roundtable(page, "phone");
    // Nothing spills sideways at phone width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await manualMode(page, "phone");
    await page.screenshot({ path: `${SCREENS}/phone-manual.png` });
    // The sidebar is a drawer on phones.
    await page.getByRole("button", { name: "Open navigation" }).click();
    await expect(page.getByRole("navigation", { name: "Conversations" }).getByText("Phone room")).toBeVisible();
    await page.screenshot({ path: `${SCREENS}/phone-drawer.png` });
  });
});
