// The dashboard's actions: retry and purge in the dead letter, push a voice message. Each one is
// an explicit POST that passed DashboardAuth.actionDenial; the page asks for confirmation first.
import { randomUUID } from "node:crypto";
import { WorkerError } from "../errors.ts";
import type { QueueAdmin } from "../queue/admin.ts";
import { PRIORITIES, type Priority } from "../queue/job.ts";
import { pushVoiceMessage } from "../queue/push.ts";
import type { EnqueueResult, VoiceQueue } from "../queue/queue.ts";
import type { QueueViews } from "../queue/views.ts";

export interface ActionDeps {
  queue: VoiceQueue;
  admin: QueueAdmin;
  views: QueueViews;
  maxAudioBytes: number;
}

/** Which dead-letter jobs an action is for: one id, a list, every job with one error code, or all. */
export type Selection = { ids: string[] } | { code: string } | { all: true };

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const bad = (message: string) => new WorkerError("invalid_input", message, { retryable: false });

export function parseSelection(body: unknown): Selection {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad("send a JSON object: {id}, {ids}, {code} or {all: true}");
  const b = body as Record<string, unknown>;
  const given = ["id", "ids", "code", "all"].filter((k) => b[k] !== undefined);
  if (given.length !== 1) throw bad("give exactly one of id, ids, code or all");
  if (b.all !== undefined) {
    if (b.all !== true) throw bad("all must be true");
    return { all: true };
  }
  if (b.code !== undefined) {
    if (typeof b.code !== "string" || !/^[a-z0-9_.-]{1,100}$/i.test(b.code)) throw bad("code must be an error code");
    return { code: b.code };
  }
  const ids = b.id !== undefined ? [b.id] : b.ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((i) => typeof i === "string" && ID.test(i))) {
    throw bad("ids must be 1 to 1000 job ids");
  }
  return { ids: ids as string[] };
}

/** Back to the queue with a fresh attempt count (retry.lua skips any job no longer in the dead letter). */
export async function retry(d: ActionDeps, sel: Selection): Promise<{ requeued: number; complete: boolean }> {
  if ("all" in sel) return { requeued: await d.admin.retryAllDead(), complete: true };
  const { ids, complete } = "code" in sel ? await d.views.deadIds(sel.code) : { ids: sel.ids, complete: true };
  let requeued = 0;
  for (let i = 0; i < ids.length; i += 200) requeued += await d.admin.retry(ids.slice(i, i + 200));
  return { requeued, complete };
}

/** Deletes dead-letter jobs for good (records, results, stored audio). */
export async function purge(d: ActionDeps, sel: Selection): Promise<{ deleted: number; complete: boolean }> {
  if ("all" in sel) return { deleted: await d.admin.purgeDeadLetter(), complete: true };
  const { ids, complete } = "code" in sel ? await d.views.deadIds(sel.code) : { ids: sel.ids, complete: true };
  return { deleted: await d.views.purgeDead(ids), complete };
}

export interface PushRequest {
  url?: string;
  bytes?: Buffer;
  options?: unknown;
  priority?: unknown;
  id?: unknown;
}

/** The queue CLI's push (handler/queue/push.ts), from the page's form. */
export async function push(d: ActionDeps, req: PushRequest): Promise<EnqueueResult> {
  const priority = (req.priority ?? "normal") as Priority;
  if (!PRIORITIES.includes(priority)) throw bad(`priority must be one of ${PRIORITIES.join(", ")}`);
  if (req.id !== undefined && req.id !== "" && typeof req.id !== "string") throw bad("id must be a string");
  const id = typeof req.id === "string" && req.id !== "" ? req.id : randomUUID();
  const options = (req.options ?? {}) as Record<string, unknown>;
  if (req.bytes) {
    if (req.bytes.length === 0) throw bad("the audio file is empty");
    if (req.bytes.length > d.maxAudioBytes)
      throw new WorkerError("audio_too_large", `the file is larger than MAX_AUDIO_MB (${d.maxAudioBytes / 1048576} MB)`, { retryable: false });
    return pushVoiceMessage(d.queue, { bytes: req.bytes }, { options, id, priority });
  }
  if (typeof req.url !== "string" || req.url === "") throw bad("give an audio file or a URL");
  return pushVoiceMessage(d.queue, { url: req.url.trim() }, { options, id, priority });
}
