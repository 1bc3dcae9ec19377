import { randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import { WorkerError, type ErrorInfo } from "../errors.ts";
import { keyPrefix } from "./keys.ts";
import { queueUnavailable } from "./redis.ts";
import { QueueScripts } from "./scripts.ts";
import { JOB_ID_RULE, PRIORITY_BAND, isJobId, readyScore, type ClaimedJob, type FailOutcome, type JobState, type Priority } from "./job.ts";
import { retryDelayMs } from "./backoff.ts";

export interface QueuePolicy {
  maxAttempts: number;
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  resultTtlS: number;
  audioTtlS: number;
}

export interface EnqueueResult {
  id: string;
  created: boolean;
  state: JobState;
  attempts: number;
}

export type ClaimResult = { job: ClaimedJob } | { job: null; nextDueAt?: number };
export type LeaseReply = { ok: true; duplicate?: boolean } | { ok: false; reason: "lease_lost"; state?: string };
export type FailReply = { ok: true; outcome: FailOutcome; not_before?: number; duplicate?: boolean } | { ok: false; reason: "lease_lost"; state?: string };

/** Upstash's REST request limit is 10 MB: stored audio goes up in base64 pieces well below it. */
const AUDIO_PIECE_CHARS = 4 * 1024 * 1024;
/** A payload plus the script call's other arguments must stay under that limit. */
const MAX_PAYLOAD_BYTES = 9 * 1024 * 1024;

function checkedJobId(id: string = randomUUID()): string {
  if (!isJobId(id)) throw new WorkerError("invalid_job_id", JOB_ID_RULE, { retryable: false });
  return id;
}

/**
 * The voice-message queue on Upstash Redis: every state change is one script call, safe to
 * replay. `now` is injectable so tests control lease expiry and retry timing.
 */
export class VoiceQueue {
  readonly prefix: string;
  readonly #scripts: QueueScripts;

  constructor(
    readonly redis: Redis,
    queuePrefix: string,
    readonly policy: QueuePolicy,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.prefix = keyPrefix(queuePrefix);
    this.#scripts = new QueueScripts(redis);
  }

  async enqueue(payload: unknown, opts: { id?: string; priority?: Priority; audioKey?: string } = {}): Promise<EnqueueResult> {
    const id = checkedJobId(opts.id);
    const priority = opts.priority ?? "normal";
    const body = JSON.stringify(payload);
    // Upstash refuses requests over 10 MB: that is permanent, never an outage to retry.
    if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
      throw new WorkerError(
        "payload_too_large",
        `the job payload is ${Buffer.byteLength(body)} bytes; at most ${MAX_PAYLOAD_BYTES} fit in one Upstash request (push large audio as a file or URL)`,
        { retryable: false },
      );
    }
    const now = this.now();
    return this.#scripts.json<EnqueueResult>("enqueue", [this.prefix, id, body, priority, readyScore(priority, now), now, opts.audioKey ?? "", PRIORITY_BAND]);
  }

  /**
   * Enqueues a job whose audio bytes travel through Redis (the queue CLI's `push <file>`). The
   * bytes go up first, under a key of their own, so a job is never claimable without them; if
   * the id was already known, the new copy is deleted and the existing job keeps its audio.
   */
  async enqueueWithAudio(input: Record<string, unknown>, bytes: Buffer, opts: { id?: string; priority?: Priority } = {}): Promise<EnqueueResult> {
    // Checked before the bytes go up: a refused id must leave no audio key behind.
    const id = checkedJobId(opts.id);
    const audioKey = await this.storeAudio(id, bytes);
    const r = await this.enqueue({ input: { ...input, audio_key: audioKey } }, { ...opts, id, audioKey });
    if (!r.created) await this.redis.del(audioKey).catch(() => undefined); // expires anyway (AUDIO_TTL_S)
    return r;
  }

  /** Stores audio bytes (base64, with a TTL) under a fresh key and returns it. */
  async storeAudio(id: string, bytes: Buffer): Promise<string> {
    const key = `${this.prefix}audio:${id}:${randomUUID().slice(0, 8)}`;
    const b64 = bytes.toString("base64");
    try {
      await this.redis.set(key, b64.slice(0, AUDIO_PIECE_CHARS), { ex: this.policy.audioTtlS });
      for (let at = AUDIO_PIECE_CHARS; at < b64.length; at += AUDIO_PIECE_CHARS) {
        await this.redis.append(key, b64.slice(at, at + AUDIO_PIECE_CHARS));
      }
    } catch (err) {
      throw queueUnavailable(err, "store audio");
    }
    return key;
  }

  async claim(workerId: string, opts: { token?: string; workerRecord?: string; workerTtlMs?: number } = {}): Promise<ClaimResult> {
    const now = this.now();
    const token = opts.token ?? randomUUID();
    const r = await this.#scripts.json<{
      none?: boolean;
      next_due?: number;
      id?: string;
      payload?: string | false;
      attempts?: number;
      priority?: Priority;
      audio?: string | false;
      created_at?: number;
    }>("claim", [
      this.prefix,
      now,
      now + this.policy.leaseMs,
      token,
      this.policy.maxAttempts,
      workerId,
      this.policy.leaseMs * 2,
      opts.workerRecord ?? "",
      opts.workerTtlMs ?? 0,
    ]);
    if (r.none || !r.id) return { job: null, nextDueAt: r.next_due };
    return {
      job: {
        id: r.id,
        rawPayload: typeof r.payload === "string" ? r.payload : "",
        attempt: r.attempts ?? 1,
        priority: r.priority ?? "normal",
        token,
        audioBase64: typeof r.audio === "string" ? r.audio : null,
        createdAt: r.created_at ?? now,
      },
    };
  }

  extendLease(job: ClaimedJob, progress: { stage: string; progress: number }, worker?: { id: string; record: string; ttlMs: number }): Promise<LeaseReply> {
    const now = this.now();
    return this.#scripts.json<LeaseReply>("extend", [
      this.prefix,
      job.id,
      job.token,
      now,
      now + this.policy.leaseMs,
      progress.stage,
      progress.progress.toFixed(3),
      worker?.id ?? "",
      worker?.record ?? "",
      worker?.ttlMs ?? 0,
    ]);
  }

  complete(job: ClaimedJob, result: unknown): Promise<LeaseReply> {
    return this.#scripts.json<LeaseReply>("complete", [this.prefix, job.id, job.token, this.now(), JSON.stringify(result), this.policy.resultTtlS, 3_600_000]);
  }

  /** Retryable errors wait (exponential backoff with jitter) until attempts run out; others are dead-lettered at once. */
  fail(job: ClaimedJob, error: ErrorInfo): Promise<FailReply> {
    const delay = retryDelayMs(job.attempt, this.policy.retryBaseMs, this.policy.retryMaxMs, this.random);
    return this.#scripts.json<FailReply>("fail", [
      this.prefix,
      job.id,
      job.token,
      this.now(),
      JSON.stringify(error),
      error.retryable ? "1" : "0",
      this.policy.maxAttempts,
      delay,
    ]);
  }

  /** Graceful shutdown: the job goes back to the queue and this attempt does not count. */
  handBack(job: ClaimedJob): Promise<LeaseReply> {
    return this.#scripts.json<LeaseReply>("hand-back", [this.prefix, job.id, job.token, this.now()]);
  }
}
