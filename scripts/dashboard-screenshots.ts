// npm run dashboard:screenshots: remakes docs/dashboard-overview.png and docs/dashboard-job.png.
// Everything is real except the speech engine and Gemini: the local stack, two worker processes
// on the faster-whisper test double (one on DEVICE=cpu, one on DEVICE=auto that falls back to
// the CPU on a host without a GPU), ffmpeg, the dashboard and Debian's chromium. The jobs are
// pushed through the queue as the CLI does; some fail on purpose to fill the dead letter.
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { loadConfig } from "../handler/config/load.ts";
import { startDashboard } from "../handler/dashboard/index.ts";
import { QueueAdmin } from "../handler/queue/admin.ts";
import { openQueue, resolveConnection } from "../handler/queue/index.ts";
import { pushVoiceMessage } from "../handler/queue/push.ts";
import { startLocalStack } from "../handler/local-stack/stack.ts";
import { startFakeGemini } from "../harness/gemini-server.ts";
import { REPO_ROOT, startWorkerProcess, type WorkerProcess } from "./bench/worker-process.ts";
import { launchChromium } from "./dashboard/chromium.ts";

const TOKEN = "screenshots-token-0123456789abcdef";
const TEXT = "Hi, this is Anna from the dental practice. Your appointment on Tuesday moves to Friday at ten. Please call us back to confirm.";
const DOCS = join(REPO_ROOT, "docs");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) if (await check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  const stack = await startLocalStack();
  const geminiKey = `AIzaScreenshots${Date.now()}abcdefghijklmnop`;
  const gemini = await startFakeGemini({ apiKey: geminiKey });
  const wav = readFileSync(join(REPO_ROOT, "sidecar/smoke/speech.wav"));
  const files = createServer((req, res) =>
    req.url?.startsWith("/voice.wav") ? res.writeHead(200, { "content-type": "audio/wav" }).end(wav) : res.writeHead(404).end(),
  );
  await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
  const filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  const env = {
    ...stack.env,
    QUEUE_PREFIX: "vw",
    GEMINI_API_KEY: geminiKey,
    GEMINI_BASE_URL: gemini.baseUrl,
    ALLOW_PRIVATE_URLS: "true",
    FAKE_FW_TEXT: TEXT,
    FAKE_FW_SEGMENT_S: "1",
    FAKE_FW_MS_PER_AUDIO_S: "300",
    IDLE_POLL_MAX_MS: "500",
    WORKER_HEARTBEAT_MS: "5000",
    LOG_LEVEL: "info",
  };
  const workers: WorkerProcess[] = [startWorkerProcess(env), startWorkerProcess({ ...env, DEVICE: "auto" })];
  const cfg = loadConfig({ ...env, DASHBOARD_TOKEN: TOKEN, DASHBOARD_PORT: "0" }, null);
  const dashboard = await startDashboard({ cfg, conn: resolveConnection(cfg), queueLabel: "local stack" });
  const browser = await launchChromium({ viewport: { width: 1360, height: 900 } });
  try {
    await Promise.all(workers.map((w) => w.waitFor(/consuming the queue/, 120_000)));
    const queue = openQueue(cfg);
    const admin = new QueueAdmin(queue);
    const push = (id: string, source: { url: string } | { bytes: Buffer }, options: Record<string, unknown> = {}) =>
      pushVoiceMessage(queue, source, { id, priority: "normal", options });
    // Done jobs, and the dead letter: permanent download failures (a presigned URL that is
    // gone: its signature never reaches the page), a text file sent as audio, an unknown option.
    for (let i = 1; i <= 10; i++) await push(`msg-${String(i).padStart(4, "0")}`, { bytes: wav }, i === 1 ? { word_timestamps: false } : {});
    for (let i = 1; i <= 3; i++) await push(`expired-link-${i}`, { url: `${filesUrl}/gone-${i}.ogg?X-Amz-Signature=deadbeef${i}` });
    await push("notes.txt", { bytes: Buffer.from("shopping list: milk, eggs\n") });
    await push("bad-option", { bytes: wav }, { beam_size: "five" });
    await until("the first batch", async () => {
      const s = await admin.stats();
      return s.done_total >= 10 && s.failed >= 5;
    });
    // A backlog as the picture is taken: both workers busy, jobs waiting.
    for (let i = 11; i <= 22; i++) await push(`msg-${String(i).padStart(4, "0")}`, { url: `${filesUrl}/voice.wav` }, i % 4 === 0 ? { language: "de" } : {});
    await until("both workers busy", async () => (await admin.stats()).active >= 2, 30_000);

    await fetch(`${dashboard.url}api/overview`); // loads the view scripts: the page then shows the steady cost
    const page = await browser.context.newPage();
    await page.goto(dashboard.url);
    await page.locator("#workers tbody tr[data-worker]").nth(1).waitFor();
    await page.locator("#cost").waitFor();
    await page.waitForTimeout(2500);
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, "dashboard-overview.png"), fullPage: true });

    await until("the backlog", async () => (await admin.stats()).queued === 0 && (await admin.stats()).active === 0);
    await page.goto(`${dashboard.url}#/job/msg-0001`);
    await page.locator("#segments").waitFor();
    await page.screenshot({ path: join(DOCS, "dashboard-job.png"), fullPage: true });
    process.stdout.write(`wrote ${join(DOCS, "dashboard-overview.png")} and ${join(DOCS, "dashboard-job.png")}\n`);
  } finally {
    await browser.close();
    await dashboard.close();
    await Promise.all(workers.map((w) => w.stop()));
    await gemini.close();
    files.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
