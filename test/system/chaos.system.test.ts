// The quick chaos run, as `npm run chaos -- --quick --json` runs it: 100 jobs through 2 real
// worker processes while workers and sidecars are SIGKILLed (3x each) and the Upstash REST
// server goes away twice for 5 s. Seeded schedule, bounded time; nothing may be lost.
import { execa } from "execa";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../../scripts/bench/worker-process.ts";

it("quick chaos: every job done exactly once or dead-lettered as planned, none lost", async () => {
  const r = await execa("node", ["--import", "tsx", "scripts/chaos.ts", "--quick", "--json"], {
    cwd: REPO_ROOT,
    reject: false,
    stdin: "ignore",
    timeout: 200_000,
  });
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown> & { kills: Record<string, number> };
  const context = JSON.stringify({ ...summary, events: undefined }, null, 1).slice(0, 4000) + r.stderr.slice(-2000);
  expect(summary.timed_out, context).toBe(false);
  expect(summary.lost, context).toBe(0);
  expect(summary.unexpected, context).toBe(0);
  expect(summary.jobs).toBe(100);
  expect((summary.done as number) + (summary.dead_expected as number), context).toBe(100);
  expect(summary.dead_expected).toBeGreaterThanOrEqual(4);
  expect(summary.done_exactly_once, context).toBe(true);
  expect(summary.done_without_engine_call, context).toBe(0);
  expect(summary.kills).toEqual({ workers: 3, sidecars: 3, rest_outages: 2 });
  expect(summary.unexpected_worker_exits, context).toBe(0);
  expect(summary.orphan_sidecars, context).toBe(0);
  expect(summary.unclean_shutdowns, context).toBe(0); // the final SIGTERM: both exit 0
  expect(typeof summary.duplicate_engine_calls).toBe("number"); // at-least-once: reported, not bounded
  expect(summary.ok).toBe(true);
  expect(r.exitCode).toBe(0);
}, 240_000);
