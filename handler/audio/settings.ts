import { bool, int, optionalStr, str } from "../config/fields.ts";

/** Limits for untrusted voice messages. */
export const audioSettings = {
  MAX_AUDIO_MB: int({
    default: 25,
    min: 1,
    max: 1024,
    doc: "Largest accepted input in MiB (download, base64 after decoding, or stored bytes).",
    example: "50",
  }),
  MAX_AUDIO_DURATION_S: int({
    default: 900,
    min: 1,
    max: 14400,
    doc: "Longest accepted voice message, checked by ffprobe before decoding and again on the decoded samples.",
    example: "1800",
  }),
  DOWNLOAD_CONNECT_TIMEOUT_MS: int({ default: 5000, min: 100, doc: "Time to connect and receive response headers (per redirect hop).", example: "10000" }),
  DOWNLOAD_TIMEOUT_MS: int({ default: 60000, min: 100, doc: "Whole download, redirects and body included.", example: "120000" }),
  ALLOW_PRIVATE_URLS: bool({ default: false, doc: "Allow audio URLs on loopback or private addresses (local testing only).", example: "true" }),
  DECODE_TIMEOUT_MS: int({ default: 60000, min: 100, doc: "Wall-clock limit of one ffprobe/ffmpeg run before SIGKILL.", example: "120000" }),
  FFMPEG_BIN: str({ default: "ffmpeg", doc: "ffmpeg executable.", example: "/usr/bin/ffmpeg" }),
  FFPROBE_BIN: str({ default: "ffprobe", doc: "ffprobe executable.", example: "/usr/bin/ffprobe" }),
  AUDIO_TMP_DIR: optionalStr({ doc: "Where each job's private temp folder (mode 0700) is made; the system temp dir when unset.", example: "/dev/shm" }),
};
