import { WorkerError } from "../errors.ts";
import type { Priority } from "./job.ts";
import type { EnqueueResult, VoiceQueue } from "./queue.ts";

/** What an operator pushes: a URL the worker downloads, or audio bytes stored with the job. */
export type PushSource = { url: string } | { bytes: Buffer };

export const isAudioUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Why these job options cannot go with a push (null: they can). Audio comes from the push itself. */
export function pushOptionsProblem(extra: unknown): string | null {
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) return "the options must be a JSON object";
  for (const k of ["audio", "audio_base64", "audio_key"]) if (k in extra) return `the options must not set ${k}`;
  return null;
}

/**
 * Queues one voice message the way the queue CLI's `push` does (the dashboard shares it): a URL
 * goes in the payload; bytes go up under their own key first (enqueueWithAudio).
 */
export async function pushVoiceMessage(
  queue: VoiceQueue,
  source: PushSource,
  opts: { options?: Record<string, unknown>; id: string; priority: Priority },
): Promise<EnqueueResult> {
  const extra = opts.options ?? {};
  const problem = pushOptionsProblem(extra);
  if (problem) throw new WorkerError("invalid_input", problem, { retryable: false });
  if ("url" in source) {
    if (!isAudioUrl(source.url)) throw new WorkerError("invalid_input", "the audio URL must start with http:// or https://", { retryable: false });
    return queue.enqueue({ input: { ...extra, audio: source.url } }, { id: opts.id, priority: opts.priority });
  }
  return queue.enqueueWithAudio(extra, source.bytes, { id: opts.id, priority: opts.priority });
}
