// The chaos run: jobs through several real worker processes (queue mode, local stack) while a
// driver SIGKILLs workers and sidecars and takes the Upstash REST server away, at points drawn
// from a seeded PRNG; then every job is checked in Redis. See scripts/chaos.ts for the CLI.
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readyScore } from "../../handler/queue/job.ts";
import { QueueScripts } from "../../handler/queue/scripts.ts";
import { audioFixtures } from "../../harness/audio-fixtures/generate.ts";
import { startFakeGemini } from "../../harness/gemini-server.ts";
import { newPrefix, startBenchStack } from "../bench/stack.ts";
import { seededRandom, sleep } from "../bench/stats.ts";
import { auditJobs, engineCallsPerJob, type Audit, type PlannedJob } from "./audit.ts";
import { Fleet, type UnexpectedExit } from "./fleet.ts";

export interface ChaosOptions {
  jobs: number;
  workers: number;
  workerKills: number;
  sidecarKills: number;
  restOutages: number;
  outageMs: number;
  seed: number;
  /** The whole run ends (and is judged) by then, whatever happened. */
  deadlineMs: number;
  /** The engine double's compute time per second of audio (jobs long enough to be hit mid-way). */
  engineMsPerAudioS: number;
  /** Progress shown as the run goes (stderr in the CLI). */
  say?: (line: string) => void;
  /** Keep the logs and the engine call log (always kept when something went wrong). */
  keep?: boolean;
}

export const FULL: Omit<ChaosOptions, "say" | "keep"> = {
  jobs: 500,
  workers: 2,
  workerKills: 10,
  sidecarKills: 10,
  restOutages: 2,
  outageMs: 5000,
  seed: 20_251_122,
  deadlineMs: 540_000,
  engineMsPerAudioS: 100,
};
export const QUICK: Omit<ChaosOptions, "say" | "keep"> = { ...FULL, jobs: 100, workerKills: 3, sidecarKills: 3, deadlineMs: 150_000 };

type EventKind = "worker" | "sidecar" | "outage";
interface ChaosEvent {
  kind: EventKind;
  /** Fires once this many jobs are finished. */
  atFinished: number;
  firedAtS?: number;
  target?: string;
}

export interface ChaosSummary extends Omit<Audit, "problems"> {
  kills: { workers: number; sidecars: number; rest_outages: number };
  unexpected_worker_exits: number;
  orphan_sidecars: number;
  /** Workers that did not exit 0 on the final SIGTERM. */
  unclean_shutdowns: number;
  /** Job temp folders left in AUDIO_TMP_DIR after the run (a SIGKILLed worker cannot remove its own). */
  temp_dirs_left: number;
  error_log_lines: number;
  timed_out: boolean;
  elapsed_s: number;
  seed: number;
  settings: Record<string, unknown>;
  events: ChaosEvent[];
  problems: string[];
  crashes: UnexpectedExit[];
  logs: string | null;
}

const TEXT = "Please call me back about the invoice tomorrow.";
/** The job id rides to the engine in initial_prompt, so the engine's call log can be counted per job. */
const MARK = (id: string) => `chaos job ${id}`;
const MARK_RE = /^chaos job (\S+)$/;

/** The deliberately bad jobs, cycled: each must end in the dead letter with its code. */
const BAD_KINDS = ["not_json", "bad_schema", "unknown_option", "not_audio"] as const;
const BAD_CODE: Record<(typeof BAD_KINDS)[number], string> = {
  not_json: "invalid_job",
  bad_schema: "invalid_job",
  unknown_option: "invalid_input",
  not_audio: "unsupported_format",
};

function schedule(o: ChaosOptions, random: () => number): ChaosEvent[] {
  const kinds: EventKind[] = [
    ...Array<EventKind>(o.workerKills).fill("worker"),
    ...Array<EventKind>(o.sidecarKills).fill("sidecar"),
    ...Array<EventKind>(o.restOutages).fill("outage"),
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  // Spread over 5 %..80 % of the jobs, so every event lands while work is still flowing.
  const points = kinds.map(() => Math.floor(o.jobs * (0.05 + random() * 0.75))).sort((a, b) => a - b);
  return kinds.map((kind, i) => ({ kind, atFinished: points[i]! }));
}

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const say = o.say ?? (() => undefined);
  const t0 = Date.now();
  const random = seededRandom(o.seed);
  const dir = await mkdtemp(join(tmpdir(), "vw-chaos-"));
  const callLog = join(dir, "engine-calls.jsonl");
  const fx = await audioFixtures();
  const speech = (await readFile(fx.path("speech.ogg"))).toString("base64");
  const notAudio = (await readFile(fx.path("text.txt"))).toString("base64");
  const geminiKey = `AIzaChaos-${Date.now()}-0123456789abcdefghij`;
  const stack = await startBenchStack();
  const gemini = await startFakeGemini({ apiKey: geminiKey });
  const prefix = newPrefix("chaos");
  const settings = {
    LEASE_MS: "3000",
    MAX_ATTEMPTS: "10",
    RETRY_BASE_MS: "200",
    RETRY_MAX_MS: "2000",
    IDLE_POLL_MIN_MS: "50",
    IDLE_POLL_MAX_MS: "250",
    REDIS_COMMAND_TIMEOUT_MS: "3000",
    SHUTDOWN_GRACE_MS: "10000",
    LOG_LEVEL: "info",
  };
  const fleet = new Fleet(
    {
      ...stack.workerEnv(),
      ...settings,
      QUEUE_PREFIX: prefix,
      AUDIO_TMP_DIR: dir,
      FAKE_FW_MS_PER_AUDIO_S: String(o.engineMsPerAudioS),
      FAKE_FW_TEXT: TEXT,
      FAKE_FW_CALL_LOG: callLog,
      GEMINI_API_KEY: geminiKey,
      GEMINI_BASE_URL: gemini.baseUrl,
    },
    dir,
  );
  const events = schedule(o, random);
  const kills = { workers: 0, sidecars: 0, rest_outages: 0 };
  let timedOut = false;
  let audit: Audit | null = null;
  let orphans: number[] = [];
  let unclean: number | null = null;
  let tempLeft = 0;
  try {
    fleet.start(o.workers);
    await fleet.waitReady(120_000);
    say(`${o.workers} workers ready (${Math.round((Date.now() - t0) / 1000)} s); enqueueing ${o.jobs} jobs\n`);

    // Bad jobs at seeded positions among the good ones.
    const badCount = Math.max(BAD_KINDS.length, Math.round(o.jobs / 60));
    const badAt = new Set<number>();
    while (badAt.size < badCount) badAt.add(Math.floor(random() * o.jobs));
    const queue = stack.driverQueue(prefix);
    const scripts = new QueueScripts(queue.redis);
    const planned: PlannedJob[] = [];
    let b = 0;
    for (let i = 0; i < o.jobs; i++) {
      const id = `c${String(i).padStart(4, "0")}`;
      if (!badAt.has(i)) {
        planned.push({ id });
        await queue.enqueue({ input: { audio_base64: speech, initial_prompt: MARK(id) } }, { id });
        continue;
      }
      const kind = BAD_KINDS[b++ % BAD_KINDS.length]!;
      planned.push({ id, expectCode: BAD_CODE[kind] });
      if (kind === "not_json") {
        // The queue API always writes JSON; a payload written by something else need not be.
        const now = Date.now();
        await scripts.json("enqueue", [queue.prefix, id, "{ this is not json", "normal", readyScore("normal", now), now, ""]);
      } else if (kind === "bad_schema") {
        await queue.enqueue({ input: { audio_base64: speech, audio: "https://example.com/a.ogg" } }, { id });
      } else if (kind === "unknown_option") {
        await queue.enqueue({ input: { audio_base64: speech, initial_prompt: MARK(id), beam_sise: 5 } }, { id });
      } else {
        await queue.enqueue({ input: { audio_base64: notAudio, initial_prompt: MARK(id) } }, { id });
      }
    }

    const admin = stack.admin(prefix);
    const finished = async () => {
      const s = await admin.stats();
      return s.done_total + s.failed + s.dead;
    };
    const deadline = t0 + o.deadlineMs;
    let next = 0;
    let lastReport = 0;
    for (;;) {
      const n = await finished();
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        say(`  ${n}/${o.jobs} finished, ${next}/${events.length} events, ${Math.round((Date.now() - t0) / 1000)} s\n`);
      }
      const ev = events[next];
      // Events left when the work is done still fire (against idle workers) so every run has them all.
      if (ev && (n >= ev.atFinished || n >= o.jobs)) {
        const ready = fleet.readySlots();
        if (ev.kind === "outage" || ready.length > 0) {
          const slot = ready[Math.floor(random() * ready.length)] ?? 0;
          ev.firedAtS = Math.round((Date.now() - t0) / 100) / 10;
          if (ev.kind === "worker") {
            ev.target = `worker ${slot} pid ${fleet.slots[slot]!.proc.pid}`;
            await fleet.killWorker(slot);
            kills.workers++;
          } else if (ev.kind === "sidecar") {
            const pid = fleet.killSidecar(slot);
            if (pid === null)
              ev.firedAtS = undefined; // no sidecar right now: try again shortly
            else {
              ev.target = `sidecar of worker ${slot} pid ${pid}`;
              kills.sidecars++;
            }
          } else {
            ev.target = "REST server";
            await stack.stopRest();
            await sleep(o.outageMs);
            await stack.startRest();
            kills.rest_outages++;
          }
          if (ev.firedAtS !== undefined) {
            say(`  [${ev.firedAtS} s] ${ev.kind === "outage" ? `REST server down for ${o.outageMs} ms` : `SIGKILL ${ev.target}`} (${n} finished)\n`);
            next++;
          }
        }
      }
      if (n >= o.jobs && next >= events.length) break;
      if (Date.now() > deadline) {
        timedOut = true;
        say(`deadline reached with ${n}/${o.jobs} finished and ${next}/${events.length} events\n`);
        break;
      }
      await sleep(200);
    }

    const stopped = await fleet.stop();
    orphans = stopped.orphanSidecars;
    unclean = stopped.exits.filter((e) => e.code !== 0).length;
    tempLeft = (await readdir(dir)).filter((f) => f.startsWith("vw-audio-")).length;
    audit = await auditJobs(admin, planned, engineCallsPerJob(callLog, MARK_RE), TEXT);
  } finally {
    await fleet.stop().catch(() => undefined);
    await gemini.close();
    await stack.stop();
  }
  const { problems, ...figures } = audit;
  const ok =
    figures.lost === 0 &&
    figures.unexpected === 0 &&
    figures.done_exactly_once &&
    fleet.unexpectedExits.length === 0 &&
    orphans.length === 0 &&
    unclean === 0 &&
    !timedOut;
  const keepLogs = o.keep || !ok;
  if (!keepLogs) await rm(dir, { recursive: true, force: true });
  return {
    ...figures,
    kills,
    unexpected_worker_exits: fleet.unexpectedExits.length,
    orphan_sidecars: orphans.length,
    unclean_shutdowns: unclean ?? -1,
    temp_dirs_left: tempLeft,
    error_log_lines: fleet.errorLines.length,
    timed_out: timedOut,
    elapsed_s: Math.round((Date.now() - t0) / 100) / 10,
    seed: o.seed,
    settings: { workers: o.workers, jobs: o.jobs, outage_ms: o.outageMs, engine_ms_per_audio_s: o.engineMsPerAudioS, ...settings },
    events,
    problems: problems.slice(0, 50),
    crashes: fleet.unexpectedExits,
    logs: keepLogs ? dir : null,
  };
}
