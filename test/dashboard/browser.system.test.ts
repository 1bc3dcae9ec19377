// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against the real
// local stack and two real worker processes on the faster-whisper test double: one on DEVICE=cpu,
// one on DEVICE=auto that falls back to the CPU on this GPU-less host. What a person does: sign in,
// push a file by dropping it, watch it reach done, read its transcript (which carries a <script>);
// push a URL that fails for good, find it in the dead letter, retry it; and without the token,
// see the actions refused.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { startDashboard, type Dashboard } from "../../handler/dashboard/index.ts";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { openQueue, resolveConnection } from "../../handler/queue/index.ts";
import { WorkerRegistry } from "../../handler/queue/registry.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { launchChromium, type Chromium } from "../../scripts/dashboard/chromium.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";
import { SAMPLE_ANALYSIS, startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";
import { TOKEN } from "./helpers.ts";

const SPEECH = "sidecar/smoke/speech.wav";
const SCRIPT_TEXT = 'Call me back <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> about the invoice.';
const GEMINI_KEY = `AIzaDashBrowser${Date.now()}abcdefghijklmnop`;
const SIGNATURE = `Sig${Date.now()}BrowserSecret`;
const LONG = 150_000;

let stack: LocalStack;
let gemini: FakeGemini;
let audioServer: Server;
let laterAvailable = false;
let laterUrl = "";
let workers: WorkerProcess[] = [];
let dashboard: Dashboard;
let admin: QueueAdmin;
let browser: Chromium;
let base = "";
const prefix = `browser-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  stack = await startLocalStack();
  gemini = await startFakeGemini({ apiKey: GEMINI_KEY });
  const wav = readFileSync(SPEECH);
  // A presigned-looking URL that is missing at first (a permanent download_failed), then appears.
  audioServer = createServer((req, res) => {
    if (req.url?.startsWith("/later.wav") && laterAvailable) return void res.writeHead(200, { "content-type": "audio/wav" }).end(wav);
    res.writeHead(404).end("not found");
  });
  await new Promise<void>((r) => audioServer.listen(0, "127.0.0.1", r));
  laterUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/later.wav?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=${SIGNATURE}`;
  const env = {
    ...stack.env,
    QUEUE_PREFIX: prefix,
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_BASE_URL: gemini.baseUrl,
    ALLOW_PRIVATE_URLS: "true",
    FAKE_FW_TEXT: SCRIPT_TEXT,
    FAKE_FW_SEGMENT_S: "1",
    IDLE_POLL_MAX_MS: "300",
    WORKER_HEARTBEAT_MS: "2000",
  };
  workers = [startWorkerProcess(env), startWorkerProcess({ ...env, DEVICE: "auto" })];
  const cfg = loadConfig({ ...env, DASHBOARD_TOKEN: TOKEN, DASHBOARD_PORT: "0", DASHBOARD_REFRESH_S: "2" }, null);
  dashboard = await startDashboard({ cfg, conn: resolveConnection(cfg), queueLabel: "local stack" });
  base = `http://127.0.0.1:${dashboard.port}`;
  admin = new QueueAdmin(openQueue(cfg));
  browser = await launchChromium();
  await Promise.all(workers.map((w) => w.waitFor(/consuming the queue/, 90_000)));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  for (const w of workers) expect(await w.stop()).toBe(0);
  await gemini?.close();
  await new Promise((r) => audioServer?.close(r));
  await stack?.stop();
}, 60_000);

// A page left open by a failed test would go on polling (and spoil the hidden-tab test).
afterEach(async () => {
  for (const p of browser?.context.pages() ?? []) await p.close();
});

/** A fresh page, collecting any script error. */
async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill("#token", TOKEN);
  await Promise.all([page.waitForURL(`${base}/`), page.click("#sign-in")]);
  await page.locator("#sign-out").waitFor();
}

async function confirmDialog(page: Page, choice: "ok" | "cancel"): Promise<void> {
  await page.locator("dialog#confirm[open]").waitFor();
  await page.click(choice === "ok" ? "#confirm-ok" : "#confirm-cancel");
  await page
    .locator("dialog#confirm[open]")
    .waitFor({ state: "detached" })
    .catch(() => undefined);
}

describe("the dashboard in chromium, on the real stack with real workers", () => {
  it(
    "overview: the workers, the CPU fallback loud with its reason, GPU figures, a stale worker greyed, counts, and a visible 'updated N s ago'",
    async () => {
      // Two more registry records, written by the registry's own code: a worker reporting a GPU,
      // and one whose last heartbeat is 9 s old (stale past 2 x the dashboard's 2 s; its record lives on for a minute).
      const queue = openQueue(loadConfig({ ...stack.env, QUEUE_PREFIX: prefix }, null));
      const gpu = { name: "NVIDIA H100 80GB HBM3", memory_used_mb: 12_288, memory_total_mb: 81_559, utilization_pct: 87 };
      const gpuWorker = new WorkerRegistry(
        queue,
        { id: "gpu-worker", mode: "queue", version: "t", device: "cuda", compute_type: "float16" },
        60_000,
        async () => gpu,
      );
      await gpuWorker.heartbeat(true);
      await new WorkerRegistry(
        queue,
        { id: "quiet-worker", mode: "queue", version: "t", device: "cpu", compute_type: "int8" },
        20_000,
        undefined,
        () => Date.now() - 9000,
      ).heartbeat(true);
      const { page, errors } = await newPage();
      await page.goto(base);
      await page.locator('#workers tr[data-worker="quiet-worker"].stale').waitFor({ timeout: 30_000 });
      expect(await page.locator('#workers tr[data-worker="quiet-worker"]').textContent()).toContain("stale");
      expect(await page.locator('#workers tr[data-worker="gpu-worker"]').textContent()).toMatch(
        /cuda float16.*NVIDIA H100 80GB HBM3.*12\.0 \/ 79\.6 GiB · 87 % busy/,
      );
      await expect.poll(() => page.locator("#workers tbody tr.live").count(), { timeout: 30_000 }).toBe(3);
      const alert = page.locator("#fallback-alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/1 worker on CPU fallback.*no_gpu: No NVIDIA GPU/);
      expect(await page.locator("#workers tr.fallback").textContent()).toContain("fallback_reason: no_gpu");
      expect(await page.locator("#updated").textContent()).toMatch(/updated \d+ s ago · every 2 s/);
      expect(await page.locator(".tile[data-metric=queued] .n").textContent()).toMatch(/^\d+$/);
      // The first refresh loads the scripts on this Redis (4 commands); every later one costs 2.
      await expect.poll(() => page.locator("#cost").textContent(), { timeout: 20_000 }).toContain("This page costs 2 Upstash commands per refresh");
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );

  it(
    "without the token, actions are refused (401 in the page, 403 without the page's header) and nothing is queued",
    async () => {
      const { page } = await newPage();
      await page.goto(`${base}/#/push`);
      await page.locator("#sign-in-link").waitFor();
      await page.fill("#push-url", "https://example.com/voice.ogg");
      await page.click("#push-submit");
      await expect.poll(() => page.locator("#notice").textContent()).toMatch(/Refused \(401 unauthorized\)/);
      const statuses = await page.evaluate(async () => {
        const post = (path: string, headers: Record<string, string>) =>
          fetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ all: true }) }).then(
            (r) => r.status,
          );
        return [await post("/api/retry", { "x-requested-with": "voice-worker-dashboard" }), await post("/api/purge", {})];
      });
      expect(statuses).toEqual([401, 401]);
      // Signed in, a request without the page's header (what a cross-site form would send) is 403.
      await signIn(page);
      const csrf = await page.evaluate(() =>
        fetch("/api/purge", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ all: true }) }).then((r) => r.status),
      );
      expect(csrf).toBe(403);
      expect((await admin.stats()).queued).toBe(0);
      await page.close();
    },
    LONG,
  );

  it(
    "push a dropped file, watch it reach done, read the transcript: the <script> in it is shown as text and never runs",
    async () => {
      const { page, errors } = await newPage();
      await signIn(page);
      await page.goto(`${base}/#/push`);
      await page.fill("#push-id", "dropped-1");
      const bytes = readFileSync(SPEECH).toString("base64");
      const dataTransfer = await page.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "voice.wav", { type: "audio/wav" }));
        return dt;
      }, bytes);
      await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
      expect(await page.locator("#chosen-file").textContent()).toMatch(/^voice\.wav \(107\.5 KiB\)$/);
      await page.click("#push-submit");
      await page.waitForURL(`${base}/#/job/dropped-1`);
      // Watch it go through: the page refreshes until the job is done.
      await page.locator("#job-status").getByText("done", { exact: true }).first().waitFor({ timeout: 90_000 });
      const transcript = page.locator("#transcript-text");
      expect(await transcript.textContent()).toContain('<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2">');
      expect(await page.locator("#segments tbody tr").count()).toBeGreaterThan(1);
      expect(await page.locator("#segments tbody tr").first().locator("td.time").textContent()).toMatch(/^0:00\.0 – 0:0\d\.\d$/);
      expect(await page.locator("#job-analysis").textContent()).toContain(SAMPLE_ANALYSIS.title);
      expect(await page.locator("#job-transcript script, #job-transcript img, #job-raw script").count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator("#job-audio-card").textContent()).toContain("stored audio is deleted when a job completes");
      expect(await page.locator("#job-raw pre").textContent()).toContain('"transcription": "Call me back <script>');
      // It is in the list of done jobs, linked to this page.
      await page.goto(`${base}/#/jobs?state=done`);
      await page.locator('#jobs tr[data-job="dropped-1"] a').waitFor();
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );

  it(
    "a job that fails for good shows in the dead letter by code; retry asks first, then it runs again and completes",
    async () => {
      const { page, errors } = await newPage();
      await signIn(page);
      await page.goto(`${base}/#/push`);
      await page.fill("#push-url", laterUrl);
      await page.fill("#push-id", "later-1");
      await page.click("#push-submit");
      await page.waitForURL(`${base}/#/job/later-1`);
      const lastError = page.locator("#job-error");
      await lastError.getByText("download_failed").waitFor({ timeout: 90_000 });
      expect(await lastError.textContent()).toMatch(/retryableno/);
      await page.locator("#job-purge").waitFor(); // a dead-letter job offers retry and purge
      expect(await page.content()).not.toContain(SIGNATURE);
      expect(await page.locator("#job-raw pre").textContent()).toContain("/later.wav?…");

      await page.goto(`${base}/#/dead`);
      const group = page.locator('#dead-groups tr[data-code="download_failed"]');
      await group.waitFor();
      expect(await group.textContent()).toMatch(/download_failed1/);
      await group.locator("a").click();
      const row = page.locator('#dead-jobs tr[data-job="later-1"]');
      await row.waitFor();
      // Cancel changes nothing.
      await row.locator("button.retry-one").click();
      await confirmDialog(page, "cancel");
      expect(await admin.status("later-1")).toMatchObject({ state: "failed" });
      // The file is there now; confirm the retry.
      laterAvailable = true;
      await row.locator("button.retry-one").click();
      await confirmDialog(page, "ok");
      await expect.poll(() => page.locator("#notice").textContent()).toContain("Requeued 1 job.");
      await page.goto(`${base}/#/job/later-1`);
      await page.locator("#job-status").getByText("done", { exact: true }).first().waitFor({ timeout: 90_000 });
      expect(await page.locator("#transcript-text").textContent()).toContain("Call me back");
      expect(await page.locator("#job-history").textContent()).toMatch(/claimed.*attempt 1 by .*done.*completed/);
      expect(await page.locator("#job-error").textContent()).toContain("download_failed"); // the last error stays on the record
      expect(await page.content()).not.toContain(SIGNATURE);
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );

  it(
    "a failed job's stored audio plays in the page; purging its error code asks first and deletes it",
    async () => {
      const { page, errors } = await newPage();
      await signIn(page);
      await page.goto(`${base}/#/push`);
      await page.setInputFiles("#file-input", SPEECH);
      await page.fill("#push-id", "bad-option-1");
      await page.fill("#push-options", '{"beam_size": "five"}'); // invalid_input: fails for good, the bytes stay stored
      await page.click("#push-submit");
      await page.waitForURL(`${base}/#/job/bad-option-1`);
      await page.locator("#job-error").getByText("invalid_input").waitFor({ timeout: 90_000 });
      const audio = page.locator("#job-audio");
      await audio.waitFor();
      const duration = await audio.evaluate(
        (el: HTMLAudioElement) =>
          new Promise<number>((resolve, reject) => {
            if (el.readyState >= 1) return resolve(el.duration);
            el.addEventListener("loadedmetadata", () => resolve(el.duration), { once: true });
            el.addEventListener("error", () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
          }),
      );
      expect(duration).toBeCloseTo(3.44, 1);
      expect(await page.locator("#job-audio-card").textContent()).toMatch(/107\.5 KiB stored with the job, kept for another 23 h/);

      await page.goto(`${base}/#/dead`);
      const group = page.locator('#dead-groups tr[data-code="invalid_input"]');
      await group.waitFor();
      await group.locator("button.purge-code").click();
      await confirmDialog(page, "cancel");
      expect(await admin.status("bad-option-1")).toMatchObject({ state: "failed" });
      await group.locator("button.purge-code").click();
      await confirmDialog(page, "ok");
      await expect.poll(() => page.locator("#notice").textContent()).toContain("Deleted 1 job.");
      expect(await admin.status("bad-option-1")).toBeNull();
      await page.locator('#dead-groups tr[data-code="invalid_input"]').waitFor({ state: "detached" });
      expect(errors).toEqual([]);
    },
    LONG,
  );

  it(
    "does not poll while the tab is hidden, and refreshes at once when it is shown again",
    async () => {
      const { page } = await newPage();
      await page.goto(base);
      await page.locator("#workers").waitFor();
      const setHidden = (hidden: boolean) =>
        page.evaluate((h) => {
          Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
      await setHidden(true);
      await new Promise((r) => setTimeout(r, 500)); // a request already in flight lands
      const before = dashboard.meter.total;
      await new Promise((r) => setTimeout(r, 5000)); // 2.5 refresh intervals
      expect(dashboard.meter.total).toBe(before);
      await setHidden(false);
      await expect.poll(() => dashboard.meter.total, { timeout: 5000 }).toBeGreaterThan(before);
      await page.close();
    },
    LONG,
  );
});
