import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { AUDIO_ERRORS, audioLimitsFromConfig } from "../../handler/audio/index.ts";
import { WorkerError } from "../../handler/errors.ts";
import { audioError, downloadFailed } from "../../handler/audio/errors.ts";

describe("audio limits from configuration", () => {
  it("defaults: 25 MiB, 15 min, private URLs refused, system temp dir", () => {
    const limits = audioLimitsFromConfig(loadConfig({}, null));
    expect(limits).toMatchObject({
      maxBytes: 25 * 1024 * 1024,
      maxDurationS: 900,
      allowPrivateUrls: false,
      maxRedirects: 3,
      ffmpegBin: "ffmpeg",
      ffprobeBin: "ffprobe",
      tempDir: tmpdir(),
    });
  });

  it("reads every setting", () => {
    const limits = audioLimitsFromConfig(
      loadConfig(
        {
          MAX_AUDIO_MB: "2",
          MAX_AUDIO_DURATION_S: "60",
          DOWNLOAD_CONNECT_TIMEOUT_MS: "1000",
          DOWNLOAD_TIMEOUT_MS: "3000",
          DECODE_TIMEOUT_MS: "4000",
          ALLOW_PRIVATE_URLS: "true",
          FFMPEG_BIN: "/opt/ff/ffmpeg",
          FFPROBE_BIN: "/opt/ff/ffprobe",
          AUDIO_TMP_DIR: "/dev/shm",
        },
        null,
      ),
    );
    expect(limits).toEqual({
      maxBytes: 2 * 1024 * 1024,
      maxDurationS: 60,
      connectTimeoutMs: 1000,
      downloadTimeoutMs: 3000,
      decodeTimeoutMs: 4000,
      allowPrivateUrls: true,
      maxRedirects: 3,
      ffmpegBin: "/opt/ff/ffmpeg",
      ffprobeBin: "/opt/ff/ffprobe",
      tempDir: "/dev/shm",
    });
  });
});

describe("error table", () => {
  it("covers the issue's codes; only network-type failures are retryable", () => {
    const retryable = Object.entries(AUDIO_ERRORS)
      .filter(([, v]) => v.retryable === true)
      .map(([k]) => k)
      .sort();
    expect(retryable).toEqual(["aborted", "download_timeout", "ffmpeg_unavailable"]);
    for (const code of [
      "url_not_allowed",
      "download_failed",
      "download_timeout",
      "audio_too_large",
      "invalid_base64",
      "unsupported_format",
      "no_audio_stream",
      "audio_too_long",
      "decode_failed",
      "decode_timeout",
    ]) {
      expect(AUDIO_ERRORS).toHaveProperty(code);
    }
  });

  it("errors built from the table carry its retryability; download_failed follows the status", () => {
    const e = audioError("audio_too_long", "x");
    expect(e).toBeInstanceOf(WorkerError);
    expect(e.toJSON()).toEqual({ code: "audio_too_long", message: "x", retryable: false });
    expect(downloadFailed("x", { status: 404 }).retryable).toBe(false);
    expect(downloadFailed("x", { status: 502 }).retryable).toBe(true);
    expect(downloadFailed("x", { network: true }).retryable).toBe(true);
  });
});
