// Audio intake: an untrusted voice message (URL, base64 or stored bytes) in, 16 kHz mono f32le
// PCM out. Steps: write the input to a private temp file, read its container and codec with ffprobe, decode it; the temp folder
// goes away on every path. Every refusal is a WorkerError whose code is in AUDIO_ERRORS.
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { audioError, throwIfAborted } from "./errors.ts";
import { decodeToPcm } from "./decode.ts";
import type { DownloadPolicy } from "./fetch-url.ts";
import type { AudioLimits } from "./limits.ts";
import { ffprobeAudio, type FfprobeInfo } from "./ffprobe.ts";
import { writeSource, type AudioSource } from "./sources.ts";
import { withJobDir } from "./temp.ts";

export { AUDIO_ERRORS, type AudioErrorCode } from "./errors.ts";
export { audioLimitsFromConfig, type AudioLimits } from "./limits.ts";
export { PCM_SAMPLE_RATE, PCM_BYTES_PER_SAMPLE, pcmSeconds } from "./decode.ts";
export type { AudioSource } from "./sources.ts";
export type { FfprobeInfo } from "./ffprobe.ts";
export { removeOrphanJobDirs } from "./temp.ts";

export interface DecodedAudio {
  /** 16 kHz mono float32 little-endian samples in [-1, 1] (np.frombuffer(pcm, np.float32)). */
  pcm: Buffer;
  /** Seconds of decoded audio (pcm.length / 4 / 16000). */
  durationS: number;
  ffprobe: FfprobeInfo;
  /** Time to obtain the input (download, base64 decode or copy) and write it. */
  downloadMs: number;
  ffprobeMs: number;
  decodeMs: number;
  inputBytes: number;
}

export interface LoadOptions {
  /** Cancels the download and kills ffprobe/ffmpeg; the temp folder is still removed. */
  signal?: AbortSignal;
  log?: Logger;
  /** Test seam at the network boundary (name resolution, address policy). */
  downloadPolicy?: Partial<DownloadPolicy>;
}

const elapsed = (t0: number) => Math.round(performance.now() - t0);

export async function loadVoiceMessage(source: AudioSource, limits: AudioLimits, opts: LoadOptions = {}): Promise<DecodedAudio> {
  const { signal, log } = opts;
  throwIfAborted(signal, "intake");
  return withJobDir(limits.tempDir, async (dir) => {
    const input = join(dir, "input"); // no extension: ffmpeg must judge the content, not the name

    let t0 = performance.now();
    const written = await writeSource(source, input, limits, signal, opts.downloadPolicy);
    const downloadMs = elapsed(t0);
    log?.debug({ source: source.kind, origin: written.origin, inputBytes: written.bytes, redirects: written.redirects, downloadMs }, "audio input received");
    if (written.bytes === 0) throw audioError("unsupported_format", "the audio input is empty (0 bytes)");

    throwIfAborted(signal, "ffprobe");
    t0 = performance.now();
    const ffprobe = await ffprobeAudio(input, {
      ffprobeBin: limits.ffprobeBin,
      ffmpegBin: limits.ffmpegBin,
      maxDurationS: limits.maxDurationS,
      timeoutMs: limits.decodeTimeoutMs,
      signal,
    });
    const ffprobeMs = elapsed(t0);
    log?.debug({ ...ffprobe, ffprobeMs }, "ffprobe read the audio");

    throwIfAborted(signal, "decode");
    t0 = performance.now();
    const decoded = await decodeToPcm(input, {
      ffmpegBin: limits.ffmpegBin,
      maxDurationS: limits.maxDurationS,
      timeoutMs: limits.decodeTimeoutMs,
      signal,
      onSpawn: (pid) => log?.debug({ pid }, "decode started"),
    });
    const decodeMs = elapsed(t0);
    log?.info(
      {
        source: source.kind,
        inputBytes: written.bytes,
        container: ffprobe.container,
        codec: ffprobe.codec,
        durationS: decoded.durationS,
        downloadMs,
        ffprobeMs,
        decodeMs,
      },
      "voice message decoded",
    );
    return { pcm: decoded.pcm, durationS: decoded.durationS, ffprobe, downloadMs, ffprobeMs, decodeMs, inputBytes: written.bytes };
  });
}
