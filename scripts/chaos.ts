// The chaos run (not a benchmark): 500 jobs (quick: 100) through 2 real worker processes on the
// local stack while workers and sidecars are SIGKILLed (10x each; quick 3x) and the Upstash REST
// server is stopped twice for 5 s; then every job is checked in Redis.
//   npm run chaos [-- --quick] [-- --json] [--seed N] [--outage-ms MS] [--keep]
// Exit 0 when nothing was lost and every job ended as planned, 1 otherwise.
import { parseArgs } from "node:util";
import { machineInfo } from "./bench/machine.ts";
import { FULL, QUICK, runChaos } from "./chaos/run.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    seed: { type: "string" },
    "outage-ms": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const base = values.quick ? QUICK : FULL;
const seed = values.seed === undefined ? base.seed : Number(values.seed);
const outageMs = values["outage-ms"] === undefined ? base.outageMs : Number(values["outage-ms"]);
if (!Number.isInteger(seed) || !Number.isInteger(outageMs) || outageMs < 0) {
  process.stderr.write("--seed and --outage-ms must be integers (--outage-ms >= 0)\n");
  process.exit(2);
}
const say = (s: string) => process.stderr.write(s);
const machine = await machineInfo();
const summary = await runChaos({ ...base, seed, outageMs, keep: values.keep, say });
const ok =
  summary.lost === 0 &&
  summary.unexpected === 0 &&
  summary.done_exactly_once &&
  summary.unexpected_worker_exits === 0 &&
  summary.orphan_sidecars === 0 &&
  summary.unclean_shutdowns === 0 &&
  !summary.timed_out;

if (values.json) {
  process.stdout.write(`${JSON.stringify({ ok, ...summary, machine })}\n`);
} else {
  const k = summary.kills;
  process.stdout.write(
    `\nchaos run (${values.quick ? "quick" : "full"}, seed ${seed}, ${summary.elapsed_s} s) on ${machine.cpu_model}, ${machine.cores} cores\n` +
      `  jobs ${summary.jobs}: done ${summary.done} (exactly once: ${summary.done_exactly_once ? "yes" : "NO"}), dead letter as planned ${summary.dead_expected}, lost ${summary.lost}, unexpected ${summary.unexpected}\n` +
      `  kills: ${k.workers} workers, ${k.sidecars} sidecars, ${k.rest_outages} REST outages of ${String(summary.settings.outage_ms)} ms\n` +
      `  engine calls repeated (at-least-once): ${summary.duplicate_engine_calls} extra calls over ${summary.jobs_transcribed_more_than_once} jobs\n` +
      `  workers that died on their own: ${summary.unexpected_worker_exits}; sidecars left running: ${summary.orphan_sidecars}; not exiting 0 on SIGTERM: ${summary.unclean_shutdowns}; job temp folders left (SIGKILLed workers): ${summary.temp_dirs_left}; error log lines: ${summary.error_log_lines}\n` +
      (summary.problems.length ? `  problems:\n${summary.problems.map((p) => `    ${p}`).join("\n")}\n` : "") +
      (summary.crashes.length
        ? `  crashes:\n${summary.crashes.map((c) => `    worker ${c.slot}.${c.generation} ${JSON.stringify(c.exit)}\n      ${c.tail.join("\n      ")}`).join("\n")}\n`
        : "") +
      (summary.logs ? `  logs kept in ${summary.logs}\n` : "") +
      `  ${ok ? "OK" : "FAILED"}\n`,
  );
}
process.exit(ok ? 0 : 1);
