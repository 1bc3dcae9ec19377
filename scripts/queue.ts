// npm run queue -- <command>: the queue admin CLI. Human tables by default, --json for scripts.
// Exit codes: 0 ok, 1 operational failure (queue unreachable, job not found), 2 usage error.
import { readFile, stat } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../handler/config/load.ts";
import { WorkerError } from "../handler/errors.ts";
import { JOB_ID_RULE, JOB_STATES, PRIORITIES, isJobId, type JobState, type Priority } from "../handler/queue/job.ts";
import { QueueAdmin, listWorkers, openQueue } from "../handler/queue/index.ts";
import { isAudioUrl, pushOptionsProblem, pushVoiceMessage } from "../handler/queue/push.ts";
import { printTable } from "./table.ts";
import { usageError } from "./usage.ts";

const USAGE = `usage: npm run queue -- <command> [options]
  push <file|url> [--priority high|normal|low] [--id ID] [--options JSON]
  list [--state ${JOB_STATES.join("|")}]      show <id>      errors      stats      workers
  retry <id>... | retry --all-dead             purge [--state STATE] --yes
  every command takes --json`;

class UsageError extends Error {}

/** The options each command takes (`--json` and `--help` go everywhere); anything else is misuse. */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  push: ["priority", "id", "options"],
  list: ["state"],
  show: [],
  errors: [],
  stats: [],
  workers: [],
  retry: ["all-dead"],
  purge: ["state", "yes"],
};

/** Positional arguments after the command: [min, max]. */
const COMMAND_ARGS: Record<string, readonly [number, number]> = {
  push: [1, 1],
  list: [0, 0],
  show: [1, 1],
  errors: [0, 0],
  stats: [0, 0],
  workers: [0, 0],
  retry: [0, Infinity],
  purge: [0, 0],
};

function checkJobIds(ids: string[]): void {
  const bad = ids.find((id) => !isJobId(id));
  if (bad !== undefined) throw new UsageError(`not a job id: ${JSON.stringify(bad)} (${JOB_ID_RULE})`);
}

/** The options `push` sends with the job: a JSON object that names no audio source. */
function pushOptions(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined) return {};
  let extra: unknown;
  try {
    extra = JSON.parse(raw);
  } catch {
    throw new UsageError("--options must be a JSON object");
  }
  const problem = pushOptionsProblem(extra);
  if (problem) throw new UsageError(`--options: ${problem}`);
  return extra as Record<string, unknown>;
}

/** The local file `push` uploads: a readable, non-empty regular file within MAX_AUDIO_MB. */
async function pushFile(source: string, maxMb: number): Promise<Buffer> {
  const info = await stat(source).catch(() => null);
  if (!info) throw new UsageError(`no such file: ${source}`);
  if (!info.isFile()) throw new UsageError(`not a regular file: ${source}`);
  if (info.size === 0) throw new UsageError(`${source} is empty`);
  if (info.size > maxMb * 1024 * 1024) throw new UsageError(`${source} is larger than MAX_AUDIO_MB (${maxMb} MB)`);
  return readFile(source).catch((err: unknown) => {
    throw new UsageError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  });
}

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
      tokens: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: o, positionals, tokens } = parsed;
  const [command, ...rest] = positionals;
  if (o.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return o.help ? 0 : 2;
  }
  // Every misuse is found here, before any setting is read or the queue is contacted.
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command '${command}'`);
  for (const t of tokens) {
    if (t.kind === "option" && t.name !== "json" && !allowed.includes(t.name)) throw new UsageError(`${command} does not take --${t.name}`);
  }
  const [min, max] = COMMAND_ARGS[command]!;
  if (rest.length < min || rest.length > max) {
    throw new UsageError(
      max === 0 ? `${command} takes no arguments` : `${command} takes ${min === max ? min : `${min}-${max}`} argument(s), got ${rest.length}`,
    );
  }
  const state = o.state === undefined ? undefined : (o.state as JobState);
  if (state !== undefined && !JOB_STATES.includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(", ")}`);
  const priority = (o.priority ?? "normal") as Priority;
  if (!PRIORITIES.includes(priority)) throw new UsageError(`--priority must be one of ${PRIORITIES.join(", ")}`);
  if (o.id !== undefined) checkJobIds([o.id]);
  if (command === "show") checkJobIds(rest);
  if (command === "retry") {
    if (o["all-dead"] === rest.length > 0) throw new UsageError("retry takes job ids, or --all-dead");
    checkJobIds(rest);
  }
  if (command === "purge" && !o.yes) throw new UsageError("purge deletes jobs for good: add --yes");
  const extra = command === "push" ? pushOptions(o.options) : {};
  const out = (human: () => void, data: unknown) => (o.json ? process.stdout.write(`${JSON.stringify(data, null, 2)}\n`) : human());

  const cfg = loadConfigOrExit();
  const source = rest[0] ?? "";
  const audio = command === "push" && !isAudioUrl(source) ? await pushFile(source, cfg.MAX_AUDIO_MB) : null;
  const queue = openQueue(cfg);
  const admin = new QueueAdmin(queue);

  switch (command) {
    case "push": {
      const id = o.id ?? randomUUID();
      const r = await pushVoiceMessage(queue, audio ? { bytes: audio } : { url: source }, { options: extra, id, priority });
      out(() => process.stdout.write(`${r.created ? "queued" : `already known (${r.state})`}: ${r.id}\n`), r);
      return 0;
    }
    case "list": {
      const rows = await admin.list(state);
      out(
        () =>
          printTable(
            rows.map((r) => ({
              id: r.id,
              state: r.state,
              priority: r.priority,
              attempts: r.attempts,
              stage: r.stage ?? "",
              age_s: Math.round((Date.now() - r.created_at) / 1000),
            })),
          ),
        rows,
      );
      return 0;
    }
    case "show": {
      const id = source;
      const [status, result] = await Promise.all([admin.status(id), admin.result(id)]);
      // A RunPod job with `job_id` leaves a result without a queue record.
      if (!status && result === null) {
        process.stderr.write(`no job ${id}\n`);
        return 1;
      }
      out(
        () => {
          if (status)
            printTable(Object.entries(status).map(([field, value]) => ({ field, value: typeof value === "object" ? JSON.stringify(value) : String(value) })));
          else process.stdout.write("no queue record (a RunPod job linked by job_id)\n");
          if (result !== null) process.stdout.write(`\nresult:\n${JSON.stringify(result, null, 2)}\n`);
        },
        { status, result },
      );
      return 0;
    }
    case "errors": {
      const rows = await admin.deadLetter();
      out(
        () =>
          printTable(
            rows.map((r) => ({
              id: r.id,
              state: r.state,
              attempts: r.attempts,
              code: r.last_error?.code ?? "",
              message: (r.last_error?.message ?? "").slice(0, 80),
            })),
          ),
        rows,
      );
      return 0;
    }
    case "retry": {
      const moved = o["all-dead"] ? await admin.retryAllDead() : await admin.retry(rest);
      out(() => process.stdout.write(`requeued ${moved} job(s)\n`), { requeued: moved });
      return moved > 0 || o["all-dead"] ? 0 : 1;
    }
    case "purge": {
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
      out(
        () =>
          printTable(
            ws.map((w) => ({
              id: w.id,
              mode: w.mode,
              device: `${w.device}/${w.compute_type}`,
              gpu: w.gpu ? `${w.gpu.name} ${w.gpu.memory_used_mb}/${w.gpu.memory_total_mb} MiB ${w.gpu.utilization_pct}%` : "-",
              job: w.current_job ?? "-",
              done: w.jobs_done,
              failed: w.jobs_failed,
              seen_s_ago: Math.round((Date.now() - w.updated_at) / 1000),
            })),
          ),
        ws,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) usageError(USAGE, err.message);
    process.stderr.write(`${err instanceof WorkerError ? `${err.code}: ${err.message}` : String(err)}\n`);
    process.exit(1);
  },
);
