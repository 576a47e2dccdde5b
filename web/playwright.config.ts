/**
 * End-to-end tests in Debian's Chromium against a real `pantheon serve` on its embedded
 * defaults (SQLite, offline model, dev mail outbox) in a fresh data directory, on a free port.
 * The server serves the built web app (web/out): run `make web-build` (or `make web-test`) first.
 */
import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const repo = resolve(__dirname, "..");
const python = process.env.PANTHEON_PYTHON ?? join(repo, ".venv/bin/python");
const pantheon = join(dirname(python), "pantheon");

function freePort(): string {
  const code = "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])";
  return execFileSync(python, ["-c", code], { encoding: "utf8" }).trim();
}

// Decided once, in the main process; workers inherit them through the environment.
process.env.PANTHEON_E2E_PORT ??= freePort();
process.env.PANTHEON_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "pantheon-e2e-"));
const port = process.env.PANTHEON_E2E_PORT;
const baseURL = `http://127.0.0.1:${port}`;
const chromium = process.env.PANTHEON_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: existsSync(chromium) ? chromium : undefined,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium", viewport: { width: 1280, height: 800 } } }],
  webServer: {
    command: `${pantheon} serve`,
    url: `${baseURL}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      PANTHEON_DATA_DIR: process.env.PANTHEON_E2E_DATA_DIR,
      PANTHEON_HOST: "127.0.0.1",
      PANTHEON_PORT: port,
      PANTHEON_PUBLIC_URL: baseURL,
      PANTHEON_MAIL_BACKEND: "outbox",
      // Top-up packs on sale (there is no Stripe key, so checkout still answers 503
      // payments_not_configured): the billing page shows them.
      PANTHEON_STRIPE_TOPUPS: JSON.stringify([
        { id: "pack_500", credits: "500", price_id: "price_e2e_500" },
        { id: "pack_2000", credits: "2000", price_id: "price_e2e_2000" },
      ]),
      PANTHEON_LOG_LEVEL: "WARNING",
      // Every spec signs its people in from 127.0.0.1: more than a real client's hourly
      // allowance of sign-in links (20).
      PANTHEON_SIGNIN_LINKS_PER_CLIENT: "1000",
    },
  },
});
