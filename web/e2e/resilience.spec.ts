/**
 * Keyboard-only use of the chat flow, and a dropped network mid-turn: the reader reconnects
 * with Last-Event-ID and the timeline ends identical to the server's.
 */
import { expect, test, type Page } from "@playwright/test";
import { RoomPage, rendered, signIn } from "./support";

async function roomViaApi(page: Page, name: string, agents: string[]) {
  const room = await (await page.request.post("/api/v1/rooms", { data: { name, mode: "roundtable" } })).json();
  for (const a of agents) await page.request.post(`/api/v1/rooms/${room.id}/agents`, { data: { name: a, model_alias: "qwen" } });
  return room.id as string;
}

test("keyboard only: reorder agents, switch mode, tag with @ and send", async ({ page }) => {
  await signIn(page, "kay@example.com");
  const roomId = await roomViaApi(page, "Keys", ["Ana", "Ben"]);
  await page.goto(`/room/settings/?id=${roomId}`);
  await page.getByRole("button", { name: "Move Ben up" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("agent-row").first()).toContainText("Ben");
  await expect(page.getByRole("status").filter({ hasText: "Ben moved to position 1 of 2." })).toBeAttached();

  await page.goto(`/room/?id=${roomId}`);
  // The current mode's radio is where Tab lands in the group; arrows move the choice.
  await page.getByRole("radio", { name: "Roundtable" }).focus();
  await expect(page.getByRole("radio", { name: "Roundtable" })).toBeFocused();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByRole("radio", { name: "Manual" })).toBeChecked();
  await expect(page.getByTestId("mode-note")).toContainText("Manual applies on next send");

  const box = page.getByTestId("composer-input");
  await box.focus();
  await page.keyboard.type("@");
  await expect(page.getByTestId("mention-list")).toBeVisible();
  await page.keyboard.press("ArrowDown"); // Ben is first now; Ana second
  await page.keyboard.press("Tab");
  await expect(box).toHaveValue("@Ana ");
  await page.keyboard.type("over to you");
  await page.keyboard.press("Enter");
  const room = new RoomPage(page);
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(room.steps.getByTestId("step-agent")).toHaveText(["Ana"]);
});

test("a dropped connection mid-turn reconnects and ends with the server's timeline", async ({ page }) => {
  await signIn(page, "net@example.com");
  const roomId = await roomViaApi(page, "Flaky", ["Ana", "Ben", "Cy"]);
  const streams: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/events")) streams.push(r.url());
  });
  // The first stream connection breaks off partway through a frame, as a dropped network
  // does; later connections reach the server untouched.
  let dropped = false;
  await page.route(/\/api\/v1\/turns\/[^/]+\/events/, async (route) => {
    if (dropped) return route.continue();
    dropped = true;
    const response = await route.fetch();
    const body = await response.text();
    await route.fulfill({ response, body: body.slice(0, Math.floor(body.length * 0.4) + 7) });
  });
  await page.goto(`/room/?id=${roomId}`);
  const room = new RoomPage(page);
  await room.send("Keep going through the outage.");
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  expect(streams.length).toBeGreaterThan(1);
  expect(streams.at(-1)).toMatch(/after=[1-9]\d*/);
  const timeline = await (await page.request.get(`/api/v1/rooms/${roomId}/timeline`)).json();
  const steps = timeline.entries[0].messages.filter((m: { type: string }) => m.type === "step");
  await expect(room.steps).toHaveCount(steps.length);
  for (let i = 0; i < steps.length; i++) {
    await expect(room.steps.nth(i).getByTestId("step-content")).toHaveText(rendered(steps[i].content));
  }
});

test("stopping a running turn keeps the finished text and marks the turn stopped", async ({ page }) => {
  await signIn(page, "stop@example.com");
  const roomId = await roomViaApi(page, "Stoppable", ["Ana", "Ben", "Cy"]);
  await page.goto(`/room/?id=${roomId}`);
  const room = new RoomPage(page);
  await room.send("Take your time.");
  await expect(room.steps.first().getByTestId("step-content")).toContainText("offline");
  await page.getByTestId("stop-button").click();
  await expect(room.lastTurn()).toHaveAttribute("data-status", "cancelled", { timeout: 30_000 });
  await expect(room.lastTurn().getByTestId("turn-foot")).toContainText("Stopped");
  await expect(page.getByTestId("send-button")).toBeVisible();
});
