/**
 * Soft delete with a 7-day restore (FR-DATA-001..002): every delete shows a toast whose Undo
 * restores; deleted rooms and direct chats wait in Recently deleted, removed agents in the
 * room's roster, deleted files in the Files panel. A restore after the 7 days is refused
 * (410 `restore_window_expired`), shown as "It can no longer be restored": the deletion is
 * aged in the server's own SQLite database to get there.
 */
import { expect, test, type Locator, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { SCREENS, expectNoSidewaysScroll, signIn } from "./support";

/** Moves a deletion `days` back in time, in the served database (what a week's wait does). */
function ageDeletion(table: "rooms" | "room_agents" | "direct_sessions", id: string, days = 8) {
  const python = process.env.PANTHEON_PYTHON ?? resolve(__dirname, "../../.venv/bin/python");
  const db = join(process.env.PANTHEON_E2E_DATA_DIR!, "pantheon.db");
  const code = [
    "import sqlite3, sys",
    "db, table, ref, days = sys.argv[1:]",
    "c = sqlite3.connect(db, timeout=30)",
    "n = c.execute(f\"UPDATE {table} SET deleted_at = datetime(deleted_at, '-{int(days)} days') "
      + "WHERE id = ? AND deleted_at IS NOT NULL\", (ref,)).rowcount",
    "c.commit()",
    "print(n)",
  ].join("\n");
  const changed = execFileSync(python, ["-c", code, db, table, id, String(days)], { encoding: "utf8" }).trim();
  expect(changed).toBe("1");
}

async function roomViaApi(page: Page, name: string, agents: { name: string; files?: boolean }[]) {
  const room = await (await page.request.post("/api/v1/rooms", { data: { name, mode: "roundtable" } })).json();
  for (const a of agents) {
    const res = await page.request.post(`/api/v1/rooms/${room.id}/agents`, {
      data: { name: a.name, model_alias: "qwen", tools: { files: a.files ?? false } },
    });
    expect(res.status()).toBe(201);
  }
  return room.id as string;
}

function sidebarLink(page: Page, name: string): Locator {
  return page.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name, exact: true });
}

test("a deleted room comes back with Undo, then from Recently deleted", async ({ page }) => {
  await signIn(page, "tess@example.com");
  await page.getByTestId("nav-trash").click();
  await expect(page.getByRole("heading", { name: "Recently deleted", exact: true })).toBeVisible();
  await expect(page.getByTestId("trash-empty")).toContainText("Nothing recently deleted");

  const roomId = await roomViaApi(page, "Launch", [{ name: "Ana" }, { name: "Ben" }]);
  await page.goto(`/room/settings/?id=${roomId}`);
  await page.getByRole("button", { name: "Delete room…" }).click();
  await page.getByRole("button", { name: "Delete Launch" }).click();

  // Home, with the toast: its Undo has the focus the vanished page had.
  await expect(page).toHaveURL(/\/$/);
  const toast = page.getByTestId("toast");
  await expect(toast).toContainText("Room “Launch” deleted");
  await expect(page.getByTestId("toasts")).toHaveAttribute("aria-live", "polite");
  await expect(toast.getByRole("button", { name: "Undo" })).toBeFocused();
  await expect(sidebarLink(page, "Launch")).toHaveCount(0);
  await page.screenshot({ path: `${SCREENS}/desktop-trash-undo-toast.png` });
  await toast.getByRole("button", { name: "Undo" }).click();
  await expect(toast).toContainText("Room “Launch” restored");
  await expect(sidebarLink(page, "Launch")).toBeVisible();
  expect((await page.request.get(`/api/v1/rooms/${roomId}`)).status()).toBe(200);

  // Delete it again and leave the toast alone: it waits in Recently deleted.
  await page.goto(`/room/settings/?id=${roomId}`);
  await page.getByRole("button", { name: "Delete room…" }).click();
  await page.getByRole("button", { name: "Delete Launch" }).click();
  await expect(page.getByTestId("toast")).toContainText("Room “Launch” deleted");
  await page.getByTestId("nav-trash").click();
  const row = page.getByTestId("trash-room");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Launch");
  await expect(row.getByTestId("restorable-until")).toContainText(/Restorable until .+ \(in 7 days\)/);
  await page.screenshot({ path: `${SCREENS}/desktop-trash.png` });

  // Restore from the keyboard: focus then moves to the heading (no Restore button is left).
  await row.getByRole("button", { name: "Restore Launch" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("trash-empty")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Recently deleted", exact: true })).toBeFocused();
  await expect(page.getByTestId("toast").last()).toContainText("Room “Launch” restored");
  await expect(sidebarLink(page, "Launch")).toBeVisible();
  expect((await page.request.get(`/api/v1/rooms/${roomId}`)).status()).toBe(200);
});

test("past the 7 days a restore answers 410: It can no longer be restored", async ({ page }) => {
  await signIn(page, "old@example.com");
  const roomId = await roomViaApi(page, "Old plans", []);
  expect((await page.request.delete(`/api/v1/rooms/${roomId}`)).status()).toBe(200);
  ageDeletion("rooms", roomId);

  await page.goto("/trash/");
  const row = page.getByTestId("trash-room");
  await expect(row.getByTestId("restorable-until")).toContainText("Restore window closed");
  await row.getByRole("button", { name: "Restore Old plans" }).click();
  const error = row.getByTestId("restore-error");
  await expect(error).toContainText("It can no longer be restored");
  await expect(error).toHaveAttribute("data-code", "restore_window_expired");
  await expect(error).toHaveAttribute("data-status", "410");
  await expect(row).toBeVisible(); // still listed until the purge
  await page.screenshot({ path: `${SCREENS}/desktop-trash-expired.png` });
});

test("a removed agent comes back from the roster, keyboard only", async ({ page }) => {
  await signIn(page, "rita@example.com");
  const roomId = await roomViaApi(page, "Roster", [{ name: "Ana" }, { name: "Ben" }, { name: "Cy" }]);
  await page.goto(`/room/settings/?id=${roomId}`);
  await expect(page.getByTestId("agent-row")).toHaveCount(3);

  await page.getByRole("button", { name: "Remove Ana" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Remove", exact: true })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("agent-row")).toHaveCount(2);
  const toast = page.getByTestId("toast");
  await expect(toast).toContainText("Agent “Ana” removed");
  await expect(toast.getByRole("button", { name: "Undo" })).toBeFocused();
  await page.keyboard.press("Escape"); // dismiss: focus goes back to the page
  await expect(toast).toHaveCount(0);

  const removed = page.getByTestId("removed-agents");
  await expect(removed.getByRole("heading", { name: "Recently removed" })).toBeVisible();
  await expect(removed.getByTestId("removed-agent")).toContainText(/Ana.*Restorable until .+ \(in 7 days\)/);
  await page.screenshot({ path: `${SCREENS}/desktop-trash-roster.png` });
  await removed.getByRole("button", { name: "Restore Ana" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("agent-row")).toHaveCount(3);
  await expect(page.getByTestId("agent-row").last()).toContainText("Ana"); // back last in the order
  await expect(page.getByRole("button", { name: "Edit Ana" })).toBeFocused();
  await expect(page.getByTestId("removed-agents")).toHaveCount(0);
  const live = await (await page.request.get(`/api/v1/rooms/${roomId}/agents`)).json();
  expect(live.agents.map((a: { name: string }) => a.name)).toEqual(["Ben", "Cy", "Ana"]);

  // Undo in the toast also restores; a removal aged past 7 days is refused.
  await page.getByRole("button", { name: "Remove Cy" }).click();
  await page.getByRole("button", { name: "Remove", exact: true }).click();
  await page.getByTestId("toast").getByRole("button", { name: "Undo" }).click();
  await expect(page.getByTestId("toast")).toContainText("Agent “Cy” restored");
  await expect(page.getByTestId("agent-row")).toHaveCount(3);

  const ben = live.agents.find((a: { name: string }) => a.name === "Ben").id as string;
  expect((await page.request.delete(`/api/v1/rooms/${roomId}/agents/${ben}`)).status()).toBe(204);
  ageDeletion("room_agents", ben);
  await page.reload();
  await page.getByTestId("removed-agents").getByRole("button", { name: "Restore Ben" }).click();
  await expect(page.getByTestId("removed-agents").getByTestId("restore-error"))
    .toContainText("It can no longer be restored");
});

test("a deleted file comes back from the Files panel; the toast leaves after about 10 s", async ({ page }) => {
  await signIn(page, "fin@example.com");
  const roomId = await roomViaApi(page, "Docs", [{ name: "Reader", files: true }]);
  await page.goto(`/room/?id=${roomId}`);
  await page.getByTestId("files-toggle").click();
  const panel = page.getByTestId("files-panel");
  await page.getByTestId("file-input").setInputFiles({
    name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Launch date: 3 March.\n".repeat(20)),
  });
  await expect(panel.getByTestId("file-row")).toHaveAttribute("data-status", "ready", { timeout: 30_000 });

  await panel.getByRole("button", { name: "Delete notes.txt" }).click();
  const toast = page.getByTestId("toast");
  await expect(toast).toContainText("File “notes.txt” deleted");
  await expect(panel.getByTestId("file-row")).toHaveCount(0);
  await expect(panel.getByTestId("deleted-file")).toContainText(/notes\.txt.*Restorable until/);
  await page.screenshot({ path: `${SCREENS}/desktop-trash-files.png` });
  // Nobody touches the toast (pointer and focus elsewhere): it goes away by itself.
  await page.mouse.move(5, 5);
  await panel.getByRole("heading", { name: "Files" }).click();
  await expect(toast).toHaveCount(0, { timeout: 15_000 });

  await panel.getByRole("button", { name: "Restore notes.txt" }).click();
  await expect(panel.getByTestId("file-row")).toHaveAttribute("data-status", "ready");
  await expect(panel.getByTestId("deleted-files")).toHaveCount(0);
  await expect(panel.getByRole("button", { name: "Delete notes.txt" })).toBeFocused();
  const files = await (await page.request.get(`/api/v1/rooms/${roomId}/files`)).json();
  expect(files.files.map((f: { name: string }) => f.name)).toEqual(["notes.txt"]);
});

test("a direct chat is deleted with a confirm, undone, and restored from Recently deleted on a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "dee@example.com");
  const roomId = await roomViaApi(page, "Pairs", [{ name: "Ana" }]);
  const session = await (await page.request.post("/api/v1/direct-sessions", {
    data: { room_id: roomId, agent_id: "Ana", title: "Ana 1:1" },
  })).json();

  await page.goto(`/direct/?id=${session.id}`);
  await page.getByTestId("delete-chat").click();
  await expect(page.getByText("Delete this chat?")).toBeVisible();
  await page.getByRole("button", { name: "Keep it" }).click(); // the confirm can be backed out of
  await expect(page.getByTestId("delete-chat")).toBeFocused();
  await page.getByTestId("delete-chat").click();
  await page.screenshot({ path: `${SCREENS}/phone-trash-confirm.png` });
  await page.getByTestId("confirm-delete-chat").click();
  await expect(page).toHaveURL(/\/$/);
  const toast = page.getByTestId("toast");
  await expect(toast).toContainText("Chat “Ana 1:1” deleted");
  await expect(toast.getByRole("button", { name: "Undo" })).toBeFocused();
  await expectNoSidewaysScroll(page);
  await page.screenshot({ path: `${SCREENS}/phone-trash-undo-toast.png` });
  await page.keyboard.press("Enter");
  await expect(toast).toContainText("Chat “Ana 1:1” restored");
  expect((await page.request.get(`/api/v1/direct-sessions/${session.id}`)).status()).toBe(200);

  expect((await page.request.delete(`/api/v1/direct-sessions/${session.id}`)).status()).toBe(200);
  await page.goto("/trash/");
  const row = page.getByTestId("trash-direct");
  await expect(row).toContainText("Ana 1:1");
  await expect(row).toContainText("Direct chat with Ana");
  await expect(row.getByTestId("restorable-until")).toContainText("(in 7 days)");
  await expectNoSidewaysScroll(page);
  await page.screenshot({ path: `${SCREENS}/phone-trash.png` });
  await row.getByRole("button", { name: "Restore Ana 1:1" }).click();
  await expect(page.getByTestId("trash-empty")).toBeVisible();
  await page.getByTestId("toast").last().getByRole("button", { name: "Open" }).click();
  await expect(page).toHaveURL(new RegExp(`/direct/\\?id=${session.id}`));
  await expect(page.getByTestId("room-name")).toHaveText("Ana 1:1");
});
