// Where a voice message comes from: a URL, a base64 string in the job, or bytes the queue CLI
// stored in Redis (fetched by the queue stage). Each ends as one file in the job's private folder.
import { writeFile } from "node:fs/promises";
import { decodeBase64Audio } from "./base64.ts";
import { audioError, throwIfAborted } from "./errors.ts";
import { downloadToFile, type DownloadPolicy } from "./fetch-url.ts";
import type { AudioLimits } from "./limits.ts";

export type AudioSource =
  | { kind: "url"; url: string }
  /** Strict base64 (standard or URL-safe); a `data:<mime>;base64,` prefix is accepted and ignored. */
  | { kind: "base64"; data: string }
  /** Bytes the queue CLI stored in Redis. */
  | { kind: "bytes"; data: Buffer };

export interface WrittenSource {
  bytes: number;
  /** For logs: the URL without its query, or the source kind. */
  origin: string;
  redirects?: number;
}

export function downloadPolicy(limits: AudioLimits): DownloadPolicy {
  return {
    maxBytes: limits.maxBytes,
    connectTimeoutMs: limits.connectTimeoutMs,
    totalTimeoutMs: limits.downloadTimeoutMs,
    maxRedirects: limits.maxRedirects,
    allowPrivate: limits.allowPrivateUrls,
  };
}

async function writeBytes(dest: string, data: Buffer, maxBytes: number): Promise<number> {
  if (data.length > maxBytes) {
    throw audioError("audio_too_large", `audio is ${data.length} bytes, over the ${maxBytes}-byte limit`, { details: { maxBytes } });
  }
  await writeFile(dest, data, { mode: 0o600, flag: "wx" });
  return data.length;
}

export async function writeSource(
  source: AudioSource,
  dest: string,
  limits: AudioLimits,
  signal?: AbortSignal,
  policyOverride?: Partial<DownloadPolicy>,
): Promise<WrittenSource> {
  throwIfAborted(signal, "intake");
  switch (source.kind) {
    case "url": {
      const r = await downloadToFile(source.url, dest, { ...downloadPolicy(limits), ...policyOverride }, signal);
      return { bytes: r.bytes, origin: r.finalUrl, redirects: r.redirects };
    }
    case "base64":
      return { bytes: await writeBytes(dest, decodeBase64Audio(source.data, limits.maxBytes), limits.maxBytes), origin: "base64" };
    case "bytes":
      return { bytes: await writeBytes(dest, source.data, limits.maxBytes), origin: "stored bytes" };
  }
}
