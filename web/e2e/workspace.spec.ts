/**
 * The workspace beyond the first send: a reload in the middle of a turn resumes its stream
 * and ends with the server's timeline; orchestrator steps (plan, workers, synthesis); a file
 * upload read to `ready`; a direct 1:1 chat.
 */
import { expect, test, type Page } from "@playwright/test";
import { RoomPage, SCREENS, rendered, signIn } from "./support";

async function roomViaApi(page: Page, name: string, agents: { name: string; tools?: { files?: boolean } }[]) {
  const room = await (await page.request.post("/api/v1/rooms", { data: { name, mode: "roundtable" } })).json();
  for (const a of agents) {
    const res = await page.request.post(`/api/v1/rooms/${room.id}/agents`, {
      data: { name: a.name, model_alias: "qwen", tools: a.tools ?? {} },
    });
    expect(res.status()).toBe(201);
  }
  return room.id as string;
}

test("a reload mid-turn resumes the stream and matches the server's snapshot", async ({ page }) => {
  await signIn(page, "lin@example.com");
  const roomId = await roomViaApi(page, "Resume", [{ name: "Ana" }, { name: "Ben" }, { name: "Cy" }]);
  await page.goto(`/room/?id=${roomId}`);
  const room = new RoomPage(page);
  await room.send("Tell me about resumable streams.");
  await expect(room.steps.first().getByTestId("step-content")).toContainText("offline");
  await page.reload();
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(room.steps).toHaveCount(3);
  const timeline = await (await page.request.get(`/api/v1/rooms/${roomId}/timeline`)).json();
  const steps = timeline.entries[0].messages.filter((m: { type: string }) => m.type === "step");
  for (let i = 0; i < 3; i++) {
    await expect(room.steps.nth(i).getByTestId("step-content")).toHaveText(rendered(steps[i].content));
  }
});

test("orchestrator turns show the plan, the workers and the synthesis", async ({ page }) => {
  await signIn(page, "oz@example.com");
  const roomId = await roomViaApi(page, "Orchestra", [{ name: "Ana" }, { name: "Ben" }]);
  await page.goto(`/room/?id=${roomId}`);
  const room = new RoomPage(page);
  await room.chooseMode("Orchestrator");
  await expect(page.getByTestId("mode-note")).toContainText("Orchestrator applies on next send");
  await room.send("Plan our launch.");
  await expect(room.lastTurn()).toHaveAttribute("data-status", /completed|partial/, { timeout: 60_000 });
  const kinds = await room.steps.evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
  expect(kinds[0]).toBe("plan");
  expect(kinds.at(-1)).toBe("synthesis");
  expect(kinds.filter((k) => k === "worker").length).toBeGreaterThan(0);
  await page.screenshot({ path: `${SCREENS}/desktop-orchestrator.png`, fullPage: false });
});

test("files upload with progress and are read; a direct chat answers", async ({ page }) => {
  await signIn(page, "fay@example.com");
  const roomId = await roomViaApi(page, "Files", [{ name: "Reader", tools: { files: true } }]);
  await page.goto(`/room/?id=${roomId}`);
  await page.getByTestId("files-toggle").click();
  const panel = page.getByTestId("files-panel");
  await expect(panel).toBeVisible();
  await page.getByTestId("file-input").setInputFiles({
    name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Launch date: 3 March.\n".repeat(50)),
  });
  await expect(panel.getByTestId("file-row")).toHaveAttribute("data-status", "ready", { timeout: 30_000 });
  await page.screenshot({ path: `${SCREENS}/desktop-files.png` });
  await panel.getByRole("button", { name: "Close files" }).click();

  await page.goto(`/room/settings/?id=${roomId}`);
  await page.getByRole("button", { name: "Chat 1:1 with Reader" }).click();
  await expect(page).toHaveURL(/\/direct\/\?id=/);
  const room = new RoomPage(page);
  await room.send("What is in my notes?");
  await expect(room.lastTurn()).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(room.steps).toHaveCount(1);
  await expect(room.steps.first()).toContainText("Direct");
  await page.screenshot({ path: `${SCREENS}/desktop-direct.png` });
});
