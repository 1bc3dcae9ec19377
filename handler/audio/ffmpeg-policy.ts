// The whitelists every ffprobe/ffmpeg run over untrusted input uses, and one runner for both.
// Without a demuxer whitelist, a file named .ogg that is really an HLS playlist or a concat list
// makes ffmpeg open other files named inside it (a file-protocol whitelist alone does not stop
// that). Names checked against `ffmpeg -demuxers` / `-decoders` of ffmpeg 5.1.
import { execa } from "execa";
import { WorkerError } from "../errors.ts";
import { childEnv } from "../config/child-env.ts";
import { abortedError, audioError } from "./errors.ts";

/**
 * Demuxers: ffmpeg matches any comma-separated alias, so "mov" admits mp4/m4a/3gp and
 * "matroska" admits webm. amr = 3GPP AMR files ("#!AMR" header); aac = raw ADTS; caf = iOS
 * Messages audio.
 */
export const ALLOWED_DEMUXERS = ["ogg", "matroska", "webm", "mov", "mp4", "m4a", "mp3", "wav", "flac", "amr", "aac", "caf"] as const;

/** Audio decoders only (by decoder name, e.g. mp3float is ffmpeg's default mp3 decoder). */
export const ALLOWED_DECODERS = [
  "opus",
  "libopus",
  "vorbis",
  "aac",
  "aac_fixed",
  "mp3float",
  "mp3",
  "flac",
  "amrnb",
  "amrwb",
  "alac",
  "pcm_s16le",
  "pcm_s16be",
  "pcm_s24le",
  "pcm_s32le",
  "pcm_f32le",
  "pcm_f64le",
  "pcm_u8",
  "pcm_alaw",
  "pcm_mulaw",
  "adpcm_ima_wav",
  "gsm_ms",
] as const;

/** Input options shared by ffprobe and ffmpeg. The path gets the explicit file: protocol. */
export function guardedInput(path: string): string[] {
  return ["-protocol_whitelist", "file", "-format_whitelist", ALLOWED_DEMUXERS.join(","), "-codec_whitelist", ALLOWED_DECODERS.join(","), "-i", `file:${path}`];
}

const STDERR_KEEP = 8192;

/**
 * ffmpeg's stderr made fit for an error message: input path removed, cut short, and each log
 * context "[name @ 0x55d81be21180]" cut to "[name]" (names may hold commas and spaces:
 * "mov,mp4,m4a,3gp,3g2,mj2", "Parsed_volume_0"). Addresses anywhere else are scrubbed with
 * every message (handler/log/scrub.ts).
 */
export function summarizeStderr(stderr: string, inputPath: string, max = 400): string {
  const lines = stderr
    .split(`file:${inputPath}`)
    .join("<input>")
    .split(inputPath)
    .join("<input>")
    .replace(/\[([^\]\n@]*?) @ 0x[0-9a-f]+\]/gi, "[$1]")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const text = [...new Set(lines)].join(" | "); // ffmpeg repeats the same error per frame
  return text.length > max ? `${text.slice(0, max)}…` : text || "(no output)";
}

export interface ToolRun {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

export interface ToolOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  maxStdoutBytes: number;
  /** Name used in messages ("ffprobe", "ffmpeg"). */
  label: string;
  /** Error for stdout over maxStdoutBytes. */
  onMaxBuffer: () => WorkerError;
  /** Called once the process is spawned. */
  onSpawn?: (pid: number | undefined) => void;
}

/**
 * Runs one tool with an argument array (no shell), stdin closed, a wall-clock timeout then
 * SIGKILL (a SIGTERMed ffmpeg blocked in open() on a FIFO never exits), cancellation by signal,
 * stdout capped. Resolves for any exit code; throws WorkerError for timeout, abort, cap, spawn failure.
 */
export async function runTool(bin: string, args: string[], opts: ToolOptions): Promise<ToolRun> {
  if (opts.signal?.aborted) throw abortedError(opts.signal, opts.label);
  const child = execa(bin, args, {
    stdin: "ignore",
    encoding: "buffer",
    buffer: { stdout: true, stderr: false },
    maxBuffer: { stdout: opts.maxStdoutBytes },
    timeout: opts.timeoutMs,
    killSignal: "SIGKILL",
    forceKillAfterDelay: false,
    cancelSignal: opts.signal,
    reject: false,
    cleanup: true,
    // Own process group: a terminal's Ctrl-C must not kill a decode and fail the job for good.
    detached: true,
    // ffmpeg parses hostile files: it gets none of our credentials.
    env: childEnv({ LC_ALL: "C" }),
    extendEnv: false,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < STDERR_KEEP) stderr += d.toString("utf8").slice(0, STDERR_KEEP - stderr.length);
  });
  opts.onSpawn?.(child.pid);
  const result = await child;
  if (result.isCanceled && opts.signal) throw abortedError(opts.signal, opts.label);
  if (result.timedOut) throw audioError("decode_timeout", `${opts.label} ran longer than ${opts.timeoutMs} ms and was killed`);
  if (result.isMaxBuffer) throw opts.onMaxBuffer();
  if (result.exitCode === undefined) {
    const cause = (result as { cause?: unknown }).cause;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOENT" || code === "EACCES" || result.signal === undefined) {
      throw audioError("ffmpeg_unavailable", `${opts.label} could not be started (${bin}): ${code ?? result.shortMessage}`, { cause });
    }
    // Killed from outside (OOM killer, an operator): nothing says the file is bad, so retry.
    throw new WorkerError("decode_failed", `${opts.label} was killed by ${result.signal}`, { retryable: true });
  }
  const out = result.stdout;
  return { stdout: Buffer.from(out.buffer, out.byteOffset, out.byteLength), stderr, exitCode: result.exitCode };
}
