// The real worker (`npm start`'s program) on the faster-whisper test double, for tests of what a
// user sees: `--test_input` (a RunPod test mode) and queue mode, with audio from a local server.
import { execa } from "execa";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { DOUBLE_ENV } from "../helpers/worker-process.ts";

/** A 16 kHz mono 16-bit WAV holding a tone (the double hears any sound as speech). */
export function toneWav(seconds: number): Buffer {
  const n = Math.round(seconds * 16000);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24);
  buf.writeUInt32LE(32000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), 44 + i * 2);
  return buf;
}

export interface AudioServer {
  url(seconds: number): string;
  close(): Promise<void>;
}

/** Serves /tone-<seconds>.wav. */
export async function startAudioServer(): Promise<AudioServer> {
  const server: Server = createServer((req, res) => {
    const m = /^\/tone-([\d.]+)\.wav$/.exec(req.url ?? "");
    if (!m) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "audio/wav" }).end(toneWav(Number(m[1])));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (seconds) => `http://127.0.0.1:${port}/tone-${seconds}.wav`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Settings for a worker on the double with a private model cache. */
export function doubleEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "vw-asr-worker-"));
  return {
    ...DOUBLE_ENV,
    LOG_LEVEL: "info",
    WHISPER_MODEL: "tiny",
    MODEL_DIR: join(dir, "models"),
    ALLOW_PRIVATE_URLS: "true",
    FAKE_FW_LOAD_LOG: join(dir, "loads.jsonl"),
    FAKE_FW_CALL_LOG: join(dir, "calls.jsonl"),
    ...extra,
  };
}

export interface TestInputResult {
  exitCode: number | undefined;
  status: string;
  output?: Record<string, unknown> & { segments: { start: number; end: number; words: { end: number }[] | null }[]; audio_duration_s: number };
  error?: { error_type?: string; error_message?: string; retryable?: boolean };
  stderr: string;
}

/** `npm start -- --test_input '<json>'` (the same program: node --import tsx handler/main.ts). */
export async function runTestInput(input: Record<string, unknown>, env: Record<string, string>): Promise<TestInputResult> {
  const r = await execa(process.execPath, ["--import", "tsx", "handler/main.ts", "--test_input", JSON.stringify({ input })], {
    env: { ...process.env, ...env },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  let printed: { status: string; output?: TestInputResult["output"]; error?: unknown };
  try {
    printed = JSON.parse(last) as typeof printed;
  } catch {
    throw new Error(`no result line (exit ${r.exitCode}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  return {
    exitCode: r.exitCode,
    status: printed.status,
    output: printed.output,
    error: printed.error === undefined ? undefined : (parseErrorReport(printed.error) ?? { error_message: JSON.stringify(printed.error) }),
    stderr: r.stderr,
  };
}
