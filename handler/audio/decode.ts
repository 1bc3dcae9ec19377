// ffmpeg decodes the (already checked by ffprobe) file to what the speech model eats.
//
// Output: 16 kHz mono float32 little-endian (f32le). faster-whisper takes a float32 numpy array
// in [-1, 1], so the sidecar reads the bytes with np.frombuffer(buf, np.float32): zero copy, no
// conversion in Node or Python. s16le would halve the size but force an int->float pass on the
// Python side; 60 s is only 3.84 MB as f32le.
import { audioError } from "./errors.ts";
import { guardedInput, runTool, summarizeStderr } from "./ffmpeg-policy.ts";

export const PCM_SAMPLE_RATE = 16_000;
export const PCM_BYTES_PER_SAMPLE = 4;

export interface DecodeOptions {
  ffmpegBin: string;
  maxDurationS: number;
  timeoutMs: number;
  signal?: AbortSignal;
  onSpawn?: (pid: number | undefined) => void;
}

export interface Decoded {
  pcm: Buffer;
  durationS: number;
}

export function pcmSeconds(pcm: Buffer): number {
  return pcm.length / PCM_BYTES_PER_SAMPLE / PCM_SAMPLE_RATE;
}

export async function decodeToPcm(path: string, opts: DecodeOptions): Promise<Decoded> {
  // One second past the cap: decoding that far proves the file is too long even when its header
  // said otherwise (or said nothing), while -t still bounds the work.
  const capS = opts.maxDurationS + 1;
  const maxBytes = Math.ceil(capS * PCM_SAMPLE_RATE) * PCM_BYTES_PER_SAMPLE + 65_536;
  const run = await runTool(
    opts.ffmpegBin,
    [
      "-nostdin",
      "-hide_banner",
      "-nostats",
      "-loglevel",
      "error",
      ...guardedInput(path),
      "-map",
      "0:a:0",
      "-vn",
      "-sn",
      "-dn",
      "-t",
      String(capS),
      "-ac",
      "1",
      "-ar",
      String(PCM_SAMPLE_RATE),
      "-c:a",
      "pcm_f32le",
      "-f",
      "f32le",
      "pipe:1",
    ],
    {
      label: "ffmpeg",
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxStdoutBytes: maxBytes,
      onSpawn: opts.onSpawn,
      onMaxBuffer: () => audioError("audio_too_long", `decoded audio exceeded ${maxBytes} bytes (over ${opts.maxDurationS} s)`),
    },
  );
  if (run.exitCode !== 0) {
    throw audioError("decode_failed", `ffmpeg could not decode the audio: ${summarizeStderr(run.stderr, path)}`, {
      details: { exitCode: run.exitCode },
    });
  }
  // Whole samples only (a killed or odd stream never leaves a partial float).
  const pcm = run.stdout.subarray(0, run.stdout.length - (run.stdout.length % PCM_BYTES_PER_SAMPLE));
  const durationS = pcmSeconds(pcm);
  if (pcm.length === 0) {
    throw audioError("decode_failed", `ffmpeg decoded no audio samples: ${summarizeStderr(run.stderr, path)}`);
  }
  if (durationS > opts.maxDurationS) {
    throw audioError("audio_too_long", `audio is longer than the ${opts.maxDurationS} s limit (found while decoding)`, {
      details: { maxDurationS: opts.maxDurationS },
    });
  }
  return { pcm, durationS };
}
