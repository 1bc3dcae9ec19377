// The sidecar's JSON-lines protocol, version 1 (sidecar/PROTOCOL.md). PCM travels as a binary
// frame right after a transcribe header's newline: `pcm_bytes` bytes of float32 LE samples.
import type { Segment } from "./types.ts";

export const PROTOCOL_VERSION = 1;
export const SAMPLE_RATE = 16000;
export const BYTES_PER_SAMPLE = 4;

export interface HelloMessage {
  type: "hello";
  protocol: number;
  pid: number;
  python: string;
  faster_whisper: string | null;
  ctranslate2: string | null;
  test_double: boolean;
  device: "cuda" | "cpu";
  compute_type: string;
  cpu_threads: number;
  error?: string;
}

export type SidecarMessage =
  | HelloMessage
  | { type: "loaded"; id: string; model: string; cached: boolean; load_ms: number }
  | { type: "progress"; id: string; phase: "transcribe" | "translate"; done_s: number; total_s: number }
  | { type: "segment"; id: string; phase: "transcribe" | "translate"; segment: Segment }
  | { type: "result"; id: string; result: Record<string, unknown> }
  | { type: "error"; id: string | null; code: string; message: string; retryable: boolean }
  | { type: "status"; id: string; models: { model: string; idle_s: number; in_use: number }[]; rss_mb: number | null; busy: string | null }
  | { type: "unloaded"; model: string; reason: "idle" | "lru" }
  | { type: "bye" };

export type SidecarRequest =
  | { type: "load"; id: string; model: string }
  | {
      type: "transcribe";
      id: string;
      pcm_bytes: number;
      options: Record<string, unknown>;
      stream_segments: boolean;
      /** Engine time after which the fallback stops / the transcript is returned as it is (cost.ts). */
      limits?: { fallback_budget_ms: number; deadline_ms: number };
    }
  | { type: "cancel"; id: string }
  | { type: "status"; id: string }
  | { type: "shutdown" };

export function encodeRequest(req: SidecarRequest): string {
  return `${JSON.stringify(req)}\n`;
}

/**
 * Splits a text stream into lines. Only the new chunk is searched for a newline, so a result
 * line of several megabytes costs linear time, not quadratic.
 */
export class LineSplitter {
  private parts: string[] = [];

  push(chunk: string, onLine: (line: string) => void): void {
    let start = 0;
    let nl = chunk.indexOf("\n");
    while (nl >= 0) {
      this.parts.push(chunk.slice(start, nl));
      const line = this.parts.join("");
      this.parts = [];
      if (line.trim()) onLine(line);
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    if (start < chunk.length) this.parts.push(chunk.slice(start));
  }
}

export function parseMessage(line: string): SidecarMessage | null {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === "object" && typeof (value as { type?: unknown }).type === "string") return value as SidecarMessage;
  } catch {
    // not JSON: reported by the caller
  }
  return null;
}
