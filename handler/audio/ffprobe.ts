// ffprobe (same whitelists as the decode) tells what the file is before anything is decoded, so
// a two-hour file or a video is refused in milliseconds.
import { audioError } from "./errors.ts";
import { guardedInput, runTool, summarizeStderr } from "./ffmpeg-policy.ts";

export interface FfprobeInfo {
  /** ffprobe's demuxer name, e.g. "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm". */
  container: string;
  /** Codec of the first audio stream, e.g. "opus", "aac", "mp3". */
  codec: string;
  /**
   * Seconds, from the container or stream header. null when the file does not say (webm from a
   * browser's MediaRecorder): the decode still enforces the cap on the samples it produces.
   * Estimated from the bit rate for mp3 without a Xing header and for AMR.
   */
  durationS: number | null;
  channels: number;
  sampleRate: number;
}

export interface PreflightOptions {
  ffprobeBin: string;
  ffmpegBin: string;
  maxDurationS: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface FfprobeJson {
  streams?: Array<{ codec_type?: string; codec_name?: string; channels?: number; sample_rate?: string; duration?: string }>;
  format?: { format_name?: string; duration?: string };
}

const seconds = (v: string | undefined): number | null => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/**
 * ffprobe exits when it cannot open a decoder for any stream, so a file with a video (or cover
 * art) stream fails the whitelisted probe. ffmpeg itself only opens the mapped stream's decoder:
 * ask it whether an allowed audio stream exists, to tell "no audio" from "audio plus video".
 */
async function classifyRefusedStream(path: string, refusedCodec: string, opts: PreflightOptions): Promise<never> {
  const run = await runTool(
    opts.ffmpegBin,
    ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", ...guardedInput(path), "-map", "0:a:0", "-t", "0", "-f", "null", "-"],
    {
      label: "ffmpeg (stream check)",
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxStdoutBytes: 1024,
      onMaxBuffer: () => audioError("unsupported_format", "unexpected output from the stream check"),
    },
  );
  if (/matches no streams/.test(run.stderr)) {
    throw audioError("no_audio_stream", `the file has no audio stream (only ${refusedCodec})`, { details: { refusedCodec } });
  }
  throw audioError("unsupported_format", `the file carries a ${refusedCodec} stream (video or cover art), which is not accepted: send audio only`, {
    details: { refusedCodec, stderr: summarizeStderr(run.stderr, path) },
  });
}

export async function ffprobeAudio(path: string, opts: PreflightOptions): Promise<FfprobeInfo> {
  const run = await runTool(
    opts.ffprobeBin,
    [
      "-hide_banner",
      "-loglevel",
      "error",
      ...guardedInput(path),
      "-show_entries",
      "format=format_name,duration:stream=codec_type,codec_name,channels,sample_rate,duration",
      "-of",
      "json",
    ],
    {
      label: "ffprobe",
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxStdoutBytes: 1024 * 1024,
      onMaxBuffer: () => audioError("unsupported_format", "ffprobe output over 1 MiB (thousands of streams?)"),
    },
  );
  if (run.exitCode !== 0) {
    const refused = /Codec \(([\w-]+)\) not on whitelist/.exec(run.stderr);
    if (refused?.[1]) return classifyRefusedStream(path, refused[1], opts);
    throw audioError("unsupported_format", `not a readable audio file: ${summarizeStderr(run.stderr, path)}`);
  }
  let json: FfprobeJson;
  try {
    json = JSON.parse(run.stdout.toString("utf8")) as FfprobeJson;
  } catch {
    throw audioError("unsupported_format", "ffprobe gave no readable description of the file");
  }
  const audio = (json.streams ?? []).find((s) => s.codec_type === "audio");
  if (!audio) throw audioError("no_audio_stream", "the file has no audio stream");

  const durationS = seconds(json.format?.duration) ?? seconds(audio.duration);
  const info: FfprobeInfo = {
    container: json.format?.format_name ?? "unknown",
    codec: audio.codec_name ?? "unknown",
    durationS,
    channels: audio.channels ?? 0,
    sampleRate: Number(audio.sample_rate ?? 0) || 0,
  };
  if (durationS === 0) throw audioError("no_audio_stream", "the audio stream is zero seconds long", { details: { ...info } });
  if (durationS !== null && durationS > opts.maxDurationS) {
    throw audioError("audio_too_long", `audio is ${Math.round(durationS)} s long, over the ${opts.maxDurationS} s limit`, {
      details: { durationS, maxDurationS: opts.maxDurationS },
    });
  }
  return info;
}
