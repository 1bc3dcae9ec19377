// Found by the chaos run: a job that finishes while Upstash is unreachable for longer than the
// outcome writes retry (about two leases) made QueueConsumer.run() reject, and the worker
// process exit ("worker failed to start or crashed"). Now the outcome is left to the lease: the
// consumer keeps polling, and the job is re-delivered once the queue is back.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "../../handler/log/logger.ts";
import { QueueConsumer, WorkerRegistry } from "../../handler/queue/index.ts";
import { newPrefix, startBenchStack, type BenchStack } from "../../scripts/bench/stack.ts";
import { sleep } from "../../scripts/bench/stats.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { waitUntil } from "../helpers/wait.ts";

let stack: BenchStack;
beforeAll(async () => {
  stack = await startBenchStack();
});
afterAll(async () => {
  await stack.stop();
});

it("a job finishing during an Upstash outage longer than two leases: the consumer keeps running and the job is re-delivered", async () => {
  const prefix = newPrefix("outage");
  const leaseMs = 1000;
  const queue = stack.queue(prefix, { leaseMs, maxAttempts: 5 });
  const logs = captureLines();
  const log = createLogger({ level: "warn", destination: logs });
  const registry = new WorkerRegistry(queue, { id: "outage-worker", mode: "test", version: "0" }, 30_000);
  let attempts = 0;
  const consumer = new QueueConsumer(
    queue,
    registry,
    async () => {
      attempts++;
      await sleep(300);
      return { attempt: attempts };
    },
    { idleMinMs: 50, idleMaxMs: 200, log },
  );
  await stack.driverQueue(prefix).enqueue({ input: { audio: "https://example.com/a.ogg" } }, { id: "during-outage" });

  const stop = new AbortController();
  let settled: "resolved" | "rejected" | null = null;
  const running = consumer.run(stop.signal).then(
    (counts) => ((settled = "resolved"), counts),
    (err: unknown) => {
      settled = "rejected";
      throw err;
    },
  );
  await waitUntil(() => attempts > 0, "the first attempt runs");
  await stack.stopRest();
  // Storing the result gives up while the server is away (retried for about two leases).
  await waitUntil(() => /could not store the result \(queue unreachable\)/.test(logs.text()), "the worker gives up storing the result", 30_000);
  expect(settled).toBeNull();
  await stack.startRest();

  const admin = stack.admin(prefix);
  await waitUntil(async () => (await admin.status("during-outage"))?.state === "done", "the job is re-delivered and done", 30_000, 100);
  stop.abort();
  const counts = await running;
  expect(settled).toBe("resolved");
  const status = await admin.status("during-outage");
  expect(status).toMatchObject({ state: "done", attempts: 2 });
  expect(await admin.result("during-outage")).toEqual({ attempt: 2 });
  expect(counts).toMatchObject({ done: 1, abandoned: 1 });
  // A computed result that cannot be stored is not a failed attempt: it is left to the lease.
  expect(logs.text()).toMatch(/could not store the result \(queue unreachable\)/);
  expect(logs.text()).not.toMatch(/could not record the failed attempt/);
}, 60_000);
