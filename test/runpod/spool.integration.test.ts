// Results RunPod does not accept: kept in a private local spool and re-posted while the worker
// lives (runpod-python retries three times and then drops them).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import runpodSdk from "runpod-sdk";
import { createLogger } from "../../handler/log/logger.ts";
import { ResultSpool } from "../../handler/runpod/spool.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { childSleep, logLines, runners, startWorker, until, workerRequests, type RunningWorker } from "./helpers.ts";

let dev: RunpodDevServer;
const workers: RunningWorker[] = [];

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  dev = await startRunpodDevServer({ takeWaitMs: 1000, stopWaitMs: 1000 });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await dev.close();
  vi.restoreAllMocks();
});

const spawn = (...args: Parameters<typeof startWorker>) => {
  const w = startWorker(...args);
  workers.push(w);
  return w;
};
const endpoint = () => runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
// Spooled results only (a .tmp- file is a write in progress).
const spoolFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".json"))
        .map((e) => join(e.parentPath, e.name))
    : [];
const said = (w: RunningWorker, text: string) => logLines(w).find((l) => l.msg.includes(text));
const mode = (path: string) => statSync(path).mode & 0o777;
const finalPosts = (id: string) => workerRequests(dev, "job-done").filter((r) => r.path.endsWith(`/${id}`));

describe("the result spool", () => {
  it.each([
    ["answers 500", (d: RunpodDevServer, on: boolean) => void (d.faults.jobDone500 = on ? 1_000_000 : 0)],
    ["drops the connection", (d: RunpodDevServer, on: boolean) => void (d.faults.jobDoneDrop = on ? 1_000_000 : 0)],
  ])("the platform %s for the job-done post, then comes back: the result waits in a private file and is delivered exactly once", async (_what, down) => {
    down(dev, true);
    const w = spawn(dev, runners.echo(), { timing: { postAttempts: 2 } });
    const { id } = await endpoint().run({ input: { keep: "me" } });
    await until(() => said(w, "kept in the spool") !== undefined, 15_000, "the result in the spool");
    const files = spoolFiles(w.spoolDir);
    expect(files).toHaveLength(1);
    const file = files[0];
    expect(mode(w.spoolDir)).toBe(0o700);
    expect(mode(join(w.spoolDir, "pod-1"))).toBe(0o700);
    expect(mode(file!)).toBe(0o600);
    expect(JSON.parse(readFileSync(file!, "utf8"))).toMatchObject({ jobId: id, isStream: false, body: { output: { echo: { keep: "me" } } } });
    expect(dev.job(id)!.status).toBe("IN_PROGRESS");
    const kept = logLines(w).find((l) => l.msg.includes("kept in the spool"))!;
    expect(kept).toMatchObject({ level: 50, jobId: id });
    await until(() => finalPosts(id).length >= 4, 15_000, "re-posts while the platform is down"); // 2 tries, then the spool's

    down(dev, false);
    await until(() => dev.job(id)!.status === "COMPLETED", 15_000, "the re-posted result");
    expect(dev.job(id)!.output).toEqual({ echo: { keep: "me" } });
    expect(dev.job(id)!.deliveries).toBe(1);
    await until(() => spoolFiles(w.spoolDir).length === 0, 5000, "the file removed once accepted");
    const summary = await w.stop();
    expect(summary).toMatchObject({ spooled: 1, redelivered: 1, undeliverable: 0 });
    expect(finalPosts(id).filter((r) => r.status === 200)).toHaveLength(1);
    expect(w.undeliverable).toEqual([]);
  });

  it("what a worker leaves in the spool is said at error level and re-posted by the next start with the same RUNPOD_POD_ID and RUNPOD_SPOOL_DIR", async () => {
    dev.faults.jobDone500 = 1_000_000;
    const a = spawn(dev, runners.echo(), { podId: "pod-s", timing: { postAttempts: 1 } });
    const { id } = await endpoint().run({ input: { n: 1 } });
    await until(() => said(a, "kept in the spool") !== undefined, 15_000, "the result in the spool");
    await a.stop();
    const left = logLines(a).find((l) => l.msg.includes("left in the spool"))!;
    expect(left).toMatchObject({ level: 50, results: 1, jobIds: [id] });
    expect(a.undeliverable.map((u) => u.jobId)).toEqual([id]); // with Upstash, Redis gets a copy too
    expect(spoolFiles(a.spoolDir)).toHaveLength(1);

    dev.faults.jobDone500 = 0;
    const b = spawn(dev, runners.echo(), { podId: "pod-s", env: { RUNPOD_SPOOL_DIR: a.spoolDir } });
    await until(() => dev.job(id)!.status === "COMPLETED", 15_000, "the result re-posted by the restarted worker");
    expect(dev.job(id)!.deliveries).toBe(1);
    expect(logLines(b).some((l) => l.msg.includes("an earlier run could not post"))).toBe(true);
    await until(() => spoolFiles(a.spoolDir).length === 0, 5000, "the spool emptied");
  });

  it("a result that does not fit RUNPOD_SPOOL_MAX_MB, without Upstash: reported LOST at error level, never said to be kept", async () => {
    dev.faults.jobDone500 = 1_000_000;
    const big = "x".repeat(1_200_000);
    const bare = spawn(
      dev,
      runners.fn(async () => ({ big })),
      { keepUndeliverable: false, env: { RUNPOD_SPOOL_MAX_MB: "1" }, timing: { postAttempts: 1 } },
    );
    const { id } = await endpoint().run({ input: {} });
    await until(() => logLines(bare).some((l) => l.msg.includes("LOST")), 15_000, "the loss said");
    const lost = logLines(bare).find((l) => l.msg.includes("LOST"))!;
    expect(lost).toMatchObject({ level: 50, jobId: id });
    expect(String(lost.reason)).toContain("not spooled");
    expect(spoolFiles(bare.spoolDir)).toEqual([]);
    expect(logLines(bare).some((l) => /keeping it|kept/.test(l.msg))).toBe(false); // never claims to keep what it drops
    expect(await bare.stop()).toMatchObject({ undeliverable: 1, spooled: 0 });
  });

  it("a result that does not fit RUNPOD_SPOOL_MAX_MB, with Upstash: handed to the Redis hook", async () => {
    dev.faults.jobDone500 = 1_000_000;
    const big = "x".repeat(1_200_000);
    const w = spawn(
      dev,
      runners.fn(async () => ({ big })),
      { env: { RUNPOD_SPOOL_MAX_MB: "1" }, timing: { postAttempts: 1 } },
    );
    const { id } = await endpoint().run({ input: {} });
    await until(() => w.undeliverable.length === 1, 15_000, "the hook");
    expect(w.undeliverable[0]).toEqual({ jobId: id, body: { output: { big } } });
    expect(logLines(w).find((l) => l.msg.includes("handing it to the Redis store"))).toMatchObject({ level: 50, jobId: id });
  });

  it("a result the platform refuses outright (the job is gone: 404) is not spooled: reported, not retried", async () => {
    const w = spawn(
      dev,
      runners.fn(async (job, ctx) => {
        dev.store.jobs.delete(job.id); // e.g. past its TTL on the platform
        await childSleep(0.1, ctx.signal);
        return { late: true };
      }),
    );
    const { id } = await endpoint().run({ input: {} });
    await until(() => w.undeliverable.length === 1, 15_000, "the refusal reported");
    expect(w.undeliverable[0]!.jobId).toBe(id);
    expect(finalPosts(id).map((r) => r.status)).toEqual([404]);
    expect(spoolFiles(w.spoolDir)).toEqual([]);
  });

  it("an unsafe RUNPOD_SPOOL_DIR (a symlink) is refused with an honest error; a loose folder of our own is made private", async () => {
    const root = mkdtempSync(join(tmpdir(), "vw-spool-unsafe-"));
    const target = join(root, "elsewhere");
    mkdirSync(target);
    symlinkSync(target, join(root, "link"));
    const w = spawn(dev, runners.echo(), { env: { RUNPOD_SPOOL_DIR: join(root, "link") } });
    const r = await endpoint().runSync({ input: { still: "works" } }, 20_000);
    expect(r.status).toBe("COMPLETED");
    expect(logLines(w).find((l) => l.msg.includes("RUNPOD_SPOOL_DIR cannot be used"))).toMatchObject({ level: 50 });
    expect(readdirSync(target)).toEqual([]);
    await w.stop();

    const loose = join(root, "loose");
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    const log = createLogger({ level: "silent", destination: captureLines() });
    const spool = await ResultSpool.open(loose, "pod-x", { maxBytes: 1 << 20, maxEntries: 2 }, log);
    expect(spool).not.toBeNull();
    expect(mode(loose)).toBe(0o700);
    // The entry bound holds whatever the sizes.
    expect(await spool!.add({ jobId: "a", isStream: false, body: { output: 1 }, keptAt: 1 })).toEqual({ kept: true });
    expect(await spool!.add({ jobId: "b", isStream: false, body: { output: 1 }, keptAt: 2 })).toEqual({ kept: true });
    expect(await spool!.add({ jobId: "c", isStream: false, body: { output: 1 }, keptAt: 3 })).toMatchObject({ kept: false });
    expect(await spool!.add({ jobId: "a", isStream: false, body: { output: 2 }, keptAt: 4 })).toEqual({ kept: true }); // a replacement is no new entry
    expect(spool!.list().map((e) => [e.jobId, e.body.output])).toEqual([
      ["b", 1],
      ["a", 2],
    ]);
  });
});
