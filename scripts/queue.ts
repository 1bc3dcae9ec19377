// npm run queue -- <command>: the queue admin CLI. Human tables by default, --json for scripts.
// Exit codes: 0 ok, 1 operational failure (queue unreachable, job not found), 2 usage error.
import { readFile, stat } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../handler/config/load.ts";
import { WorkerError } from "../handler/errors.ts";
import { JOB_STATES, PRIORITIES, type JobState, type Priority } from "../handler/queue/job.ts";
import { QueueAdmin, listWorkers, openQueue } from "../handler/queue/index.ts";
import { isAudioUrl, pushOptionsProblem, pushVoiceMessage } from "../handler/queue/push.ts";
import { printTable } from "./table.ts";

const USAGE = `usage: npm run queue -- <command> [options]
  push <file|url> [--priority high|normal|low] [--id ID] [--options JSON]
  list [--state ${JOB_STATES.join("|")}]      show <id>      errors      stats      workers
  retry <id> | retry --all-dead                purge [--state STATE] --yes
  every command takes --json`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean", default: false },
        priority: { type: "string" },
        id: { type: "string" },
        options: { type: "string" },
        state: { type: "string" },
        yes: { type: "boolean", default: false },
        "all-dead": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: o, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (o.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return o.help ? 0 : 2;
  }
  const state = o.state === undefined ? undefined : (o.state as JobState);
  if (state !== undefined && !JOB_STATES.includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(", ")}`);
  const out = (human: () => void, data: unknown) => (o.json ? process.stdout.write(`${JSON.stringify(data, null, 2)}\n`) : human());

  const cfg = loadConfigOrExit();
  const queue = openQueue(cfg);
  const admin = new QueueAdmin(queue);

  switch (command) {
    case "push": {
      const source = rest[0];
      if (!source || rest.length > 1) throw new UsageError("push takes one file path or URL");
      const priority = (o.priority ?? "normal") as Priority;
      if (!PRIORITIES.includes(priority)) throw new UsageError(`--priority must be one of ${PRIORITIES.join(", ")}`);
      let extra: Record<string, unknown> = {};
      if (o.options !== undefined) {
        try {
          extra = JSON.parse(o.options) as Record<string, unknown>;
        } catch {
          throw new UsageError("--options must be a JSON object");
        }
        const problem = pushOptionsProblem(extra);
        if (problem) throw new UsageError(`--options: ${problem}`);
      }
      const id = o.id ?? randomUUID();
      let bytes: Buffer | undefined;
      if (!isAudioUrl(source)) {
        const size = await stat(source).then((s) => s.size, () => -1);
        if (size < 0) throw new UsageError(`no such file: ${source}`);
        if (size > cfg.MAX_AUDIO_MB * 1024 * 1024) throw new UsageError(`${source} is larger than MAX_AUDIO_MB (${cfg.MAX_AUDIO_MB} MB)`);
        bytes = await readFile(source);
      }
      const r = await pushVoiceMessage(queue, bytes ? { bytes } : { url: source }, { options: extra, id, priority });
      out(() => process.stdout.write(`${r.created ? "queued" : `already known (${r.state})`}: ${r.id}\n`), r);
      return 0;
    }
    case "list": {
      const rows = await admin.list(state);
      out(() => printTable(rows.map((r) => ({ id: r.id, state: r.state, priority: r.priority, attempts: r.attempts, stage: r.stage ?? "", age_s: Math.round((Date.now() - r.created_at) / 1000) }))), rows);
      return 0;
    }
    case "show": {
      const id = rest[0];
      if (!id) throw new UsageError("show takes a job id");
      const [status, result] = await Promise.all([admin.status(id), admin.result(id)]);
      // A RunPod job with `job_id` leaves a result without a queue record.
      if (!status && result === null) {
        process.stderr.write(`no job ${id}\n`);
        return 1;
      }
      out(() => {
        if (status) printTable(Object.entries(status).map(([field, value]) => ({ field, value: typeof value === "object" ? JSON.stringify(value) : String(value) })));
        else process.stdout.write("no queue record (a RunPod job linked by job_id)\n");
        if (result !== null) process.stdout.write(`\nresult:\n${JSON.stringify(result, null, 2)}\n`);
      }, { status, result });
      return 0;
    }
    case "errors": {
      const rows = await admin.deadLetter();
      out(() => printTable(rows.map((r) => ({ id: r.id, state: r.state, attempts: r.attempts, code: r.last_error?.code ?? "", message: (r.last_error?.message ?? "").slice(0, 80) }))), rows);
      return 0;
    }
    case "retry": {
      if (o["all-dead"] === (rest.length > 0)) throw new UsageError("retry takes one job id, or --all-dead");
      const moved = o["all-dead"] ? await admin.retryAllDead() : await admin.retry(rest);
      out(() => process.stdout.write(`requeued ${moved} job(s)\n`), { requeued: moved });
      return moved > 0 || o["all-dead"] ? 0 : 1;
    }
    case "purge": {
      if (!o.yes) throw new UsageError("purge deletes jobs for good: add --yes");
      const n = state === "dead" || state === "failed" ? await admin.purgeDeadLetter() : await admin.purge(state);
      out(() => process.stdout.write(`deleted ${n} job(s)\n`), { deleted: n });
      return 0;
    }
    case "stats": {
      const s = await admin.stats();
      out(() => printTable(Object.entries(s).map(([k, v]) => ({ metric: k, value: v === null ? "-" : String(v) }))), s);
      return 0;
    }
    case "workers": {
      const ws = await listWorkers(queue);
      out(() => printTable(ws.map((w) => ({ id: w.id, mode: w.mode, device: `${w.device}/${w.compute_type}`, gpu: w.gpu ? `${w.gpu.name} ${w.gpu.memory_used_mb}/${w.gpu.memory_total_mb} MiB ${w.gpu.utilization_pct}%` : "-", job: w.current_job ?? "-", done: w.jobs_done, failed: w.jobs_failed, seen_s_ago: Math.round((Date.now() - w.updated_at) / 1000) }))), ws);
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof WorkerError ? `${err.code}: ${err.message}` : String(err)}\n`);
    process.exit(1);
  },
);
