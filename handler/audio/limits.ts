import { tmpdir } from "node:os";
import type { Config } from "../config/schema.ts";

/** Everything audio intake needs from the configuration, as plain numbers (tests build one directly). */
export interface AudioLimits {
  /** Largest input in bytes: downloaded, decoded from base64, or stored. */
  maxBytes: number;
  /** Longest accepted audio, in seconds. */
  maxDurationS: number;
  /** Connect + response headers, per redirect hop. */
  connectTimeoutMs: number;
  /** Whole download including redirects and body. */
  downloadTimeoutMs: number;
  /** One ffprobe or ffmpeg run, then SIGKILL. */
  decodeTimeoutMs: number;
  /** Let URLs reach loopback/private/link-local addresses (local testing only). */
  allowPrivateUrls: boolean;
  /** Redirects followed (each hop re-validated). */
  maxRedirects: number;
  ffmpegBin: string;
  ffprobeBin: string;
  /** Parent of each job's private temp folder. */
  tempDir: string;
}

export const MAX_REDIRECTS = 3;

export function audioLimitsFromConfig(cfg: Config): AudioLimits {
  return {
    maxBytes: cfg.MAX_AUDIO_MB * 1024 * 1024,
    maxDurationS: cfg.MAX_AUDIO_DURATION_S,
    connectTimeoutMs: cfg.DOWNLOAD_CONNECT_TIMEOUT_MS,
    downloadTimeoutMs: cfg.DOWNLOAD_TIMEOUT_MS,
    decodeTimeoutMs: cfg.DECODE_TIMEOUT_MS,
    allowPrivateUrls: cfg.ALLOW_PRIVATE_URLS,
    maxRedirects: MAX_REDIRECTS,
    ffmpegBin: cfg.FFMPEG_BIN,
    ffprobeBin: cfg.FFPROBE_BIN,
    tempDir: cfg.AUDIO_TMP_DIR ?? tmpdir(),
  };
}
