// The bad-input corpus: what each hostile or broken job is and the error code it must end with.
// Audio files come from the audio stage's fixtures (harness/audio-fixtures/generate.ts).
import { readFileSync } from "node:fs";
import type { AudioFixtures } from "../../harness/audio-fixtures/generate.ts";

export interface CorpusEnv {
  fx: AudioFixtures;
  /** A FIFO standing in for a local file an attacker names: opening it for reading would block. */
  fifo: string;
  /** The hostile HTTP server on 127.0.0.1 (the queue worker allows private URLs, the RunPod one does not). */
  url(path: string): string;
  /** A port where nothing listens. */
  closedPort: number;
  /** Credentials planted in inputs: they must reach no log line. */
  planted: { queryToken: string; password: string };
}

/** A queued job: `payload` goes through the queue API; `raw` is written as is (not JSON). */
export interface QueueCase {
  name: string;
  code: string;
  payload?: (e: CorpusEnv) => unknown;
  raw?: string;
  /** `failed` for permanent errors (the default), `dead` for retryable ones (MAX_ATTEMPTS=1). */
  state?: "failed" | "dead";
  /** Words the error message must contain. */
  message?: RegExp;
}

export interface RunpodCase {
  name: string;
  code: string;
  input: (e: CorpusEnv) => unknown;
  message?: RegExp;
}

const b64 = (e: CorpusEnv, name: string) => readFileSync(e.fx.path(name)).toString("base64");
const speech = (e: CorpusEnv) => b64(e, "speech.ogg");
export const hlsPlaylist = (target: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${target}\n#EXT-X-ENDLIST\n`;
const hls = (e: CorpusEnv) => Buffer.from(hlsPlaylist(e.fifo)).toString("base64");

export const QUEUE_CASES: QueueCase[] = [
  // The payload itself.
  { name: "payload is not JSON", code: "invalid_job", raw: "{ this is not json" },
  { name: "payload is a JSON array", code: "invalid_job", payload: () => [1, 2, 3] },
  { name: "payload is a JSON string", code: "invalid_job", payload: () => "https://example.com/voice.ogg" },
  { name: "payload is null", code: "invalid_job", payload: () => null },
  { name: "payload without input", code: "invalid_job", payload: () => ({}) },
  { name: "input is not an object", code: "invalid_job", payload: () => ({ input: "https://example.com/voice.ogg" }) },
  { name: "unknown top-level key", code: "invalid_job", payload: (e) => ({ input: { audio_base64: speech(e) }, callback: "https://example.com/hook" }) },
  { name: "two audio sources", code: "invalid_job", payload: (e) => ({ input: { audio: e.url("/speech.ogg"), audio_base64: speech(e) } }) },
  { name: "three audio sources", code: "invalid_job", payload: (e) => ({ input: { audio: e.url("/speech.ogg"), audio_base64: speech(e), audio_key: "k" } }) },
  { name: "no audio source", code: "invalid_job", payload: () => ({ input: { language: "en" } }) },
  { name: "audio is a number", code: "invalid_job", payload: () => ({ input: { audio: 42 } }) },
  // The job input (worker-faster_whisper's schema and ours).
  {
    name: "unknown option keys",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), beam_sise: 5, tempreature: 0 } }),
    message: /beam_sise.*tempreature/,
  },
  {
    name: "unknown nested option key",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), vad_parameters: { threshold: 0.5, nope: 1 } } }),
    message: /vad_parameters\.nope/,
  },
  { name: "language is not a code", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), language: "english" } }) },
  { name: "beam_size 0", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), beam_size: 0 } }) },
  { name: "temperature of the wrong type", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), temperature: "hot" } }) },
  {
    name: "suppress_tokens not a list of integers",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), suppress_tokens: "all of them" } }),
  },
  { name: "word_timestamps not a boolean", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), word_timestamps: "yes" } }) },
  { name: "unknown llm option", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), llm: { enabled: true, temperature: 2 } } }) },
  {
    name: "llm model that is not a model id",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), llm: { model: "../../etc/passwd" } } }),
  },
  {
    name: "a queued job asking to drain the queue",
    code: "invalid_input",
    payload: () => ({ input: { audio: "https://example.com/a.ogg", queue: { drain: true } } }),
  },
  { name: "job_id with forbidden characters", code: "invalid_input", payload: (e) => ({ input: { audio_base64: speech(e), job_id: "../../x y" } }) },
  { name: "empty audio URL", code: "invalid_input", payload: () => ({ input: { audio: "" } }) },
  // Options the schema accepts one by one but that would not fit the sidecar's 1 MiB request header.
  {
    name: "initial_prompt of 3 MB",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), initial_prompt: "call me back ".repeat(250_000) } }),
    message: /transcription options take/,
  },
  {
    name: "suppress_tokens with 300 000 integers",
    code: "invalid_input",
    payload: (e) => ({ input: { audio_base64: speech(e), suppress_tokens: Array.from({ length: 300_000 }, (_, i) => i) } }),
  },
  // Audio bytes.
  { name: "audio_key whose bytes are gone", code: "audio_expired", payload: () => ({ input: { audio_key: "{nowhere}:audio:missing" } }) },
  { name: "empty base64", code: "invalid_base64", payload: () => ({ input: { audio_base64: "" } }) },
  { name: "base64 with invalid characters", code: "invalid_base64", payload: () => ({ input: { audio_base64: "T2dnUwACAAAA!!notbase64$$" } }) },
  {
    name: "huge payload (8 MB of base64, over MAX_AUDIO_MB)",
    code: "audio_too_large",
    payload: () => ({ input: { audio_base64: Buffer.alloc(6 * 2 ** 20, 7).toString("base64") } }),
  },
  { name: "truncated ogg", code: "unsupported_format", payload: (e) => ({ input: { audio_base64: b64(e, "truncated.ogg") } }) },
  { name: "random bytes", code: "unsupported_format", payload: (e) => ({ input: { audio_base64: b64(e, "random.bin") } }) },
  { name: "a text file", code: "unsupported_format", payload: (e) => ({ input: { audio_base64: b64(e, "text.txt") } }) },
  { name: "video without audio", code: "no_audio_stream", payload: (e) => ({ input: { audio_base64: b64(e, "video.mp4") } }) },
  { name: "video with audio", code: "unsupported_format", payload: (e) => ({ input: { audio_base64: b64(e, "video-with-audio.mp4") } }) },
  { name: "m4a whose frames are garbage", code: "decode_failed", payload: (e) => ({ input: { audio_base64: b64(e, "corrupt-frames.m4a") } }) },
  { name: "60 s of speech over MAX_AUDIO_DURATION_S=30", code: "audio_too_long", payload: (e) => ({ input: { audio_base64: b64(e, "speech-60s.ogg") } }) },
  {
    name: "HLS playlist disguised as ogg naming a local FIFO",
    code: "unsupported_format",
    payload: (e) => ({ input: { audio_base64: hls(e) } }),
    message: /hls/,
  },
  {
    name: "concat list naming a local FIFO",
    code: "unsupported_format",
    payload: (e) => ({ input: { audio_base64: Buffer.from(`ffconcat version 1.0\nfile '${e.fifo}'\n`).toString("base64") } }),
  },
  // URLs.
  { name: "404", code: "download_failed", payload: (e) => ({ input: { audio: e.url("/missing.ogg") } }) },
  { name: "redirect loop", code: "download_failed", payload: (e) => ({ input: { audio: e.url("/loop") } }) },
  { name: "redirect to file://", code: "url_not_allowed", payload: (e) => ({ input: { audio: e.url("/to-file") } }) },
  { name: "file:///etc/passwd", code: "url_not_allowed", payload: () => ({ input: { audio: "file:///etc/passwd" } }) },
  { name: "file:// URL of the FIFO", code: "url_not_allowed", payload: (e) => ({ input: { audio: `file://${e.fifo}` } }) },
  { name: "a bare local path", code: "url_not_allowed", payload: () => ({ input: { audio: "/etc/passwd" } }) },
  { name: "ftp:// URL", code: "url_not_allowed", payload: () => ({ input: { audio: "ftp://127.0.0.1/voice.ogg" } }) },
  {
    name: "credentials in the URL",
    code: "url_not_allowed",
    payload: (e) => ({ input: { audio: e.url("/speech.ogg").replace("http://", `http://user:${e.planted.password}@`) } }),
  },
  { name: "gzip-encoded body", code: "download_failed", payload: (e) => ({ input: { audio: e.url("/gzip") } }) },
  { name: "Content-Length over MAX_AUDIO_MB", code: "audio_too_large", payload: (e) => ({ input: { audio: e.url("/big") } }) },
  { name: "500 (retryable, attempts run out)", code: "download_failed", state: "dead", payload: (e) => ({ input: { audio: e.url("/oops") } }) },
  {
    name: "connection refused (retryable, attempts run out)",
    code: "download_failed",
    state: "dead",
    payload: (e) => ({ input: { audio: `http://127.0.0.1:${e.closedPort}/voice.ogg` } }),
  },
  { name: "URL serving an HLS playlist", code: "unsupported_format", payload: (e) => ({ input: { audio: e.url("/hls.ogg") } }) },
  // 60 % sent, then 1 byte/s until DOWNLOAD_TIMEOUT_MS: never done with the part that arrived;
  // retryable, so it ends dead with MAX_ATTEMPTS=1.
  { name: "ogg cut short, close-delimited (timer)", code: "download_timeout", state: "dead", payload: (e) => ({ input: { audio: e.url("/cut-short.ogg") } }) },
  {
    name: "404 on a presigned URL (its query must stay out of logs)",
    code: "download_failed",
    payload: (e) => ({ input: { audio: e.url(`/missing.ogg?X-Amz-Signature=${e.planted.queryToken}`) } }),
  },
];

export const RUNPOD_CASES: RunpodCase[] = [
  { name: "unknown keys", code: "invalid_input", input: (e) => ({ audio_base64: speech(e), not_an_option: 1, another: 2 }), message: /not_an_option/ },
  { name: "audio_key on RunPod", code: "invalid_input", input: () => ({ audio_key: "{vw}:audio:x" }), message: /audio_key/ },
  { name: "drain job on a worker without Upstash", code: "queue_not_configured", input: () => ({ queue: { drain: true } }) },
  { name: "drain job carrying audio", code: "invalid_input", input: (e) => ({ queue: { drain: true }, audio_base64: speech(e) }) },
  { name: "drain with max_jobs 0", code: "invalid_input", input: () => ({ queue: { drain: true, max_jobs: 0 } }) },
  { name: "input is a string", code: "invalid_input", input: () => "https://example.com/voice.ogg" },
  { name: "input is an array", code: "invalid_input", input: () => [{ audio: "https://example.com/voice.ogg" }] },
  { name: "input is a number", code: "invalid_input", input: () => 42 },
  { name: "beam_size as a string", code: "invalid_input", input: (e) => ({ audio_base64: speech(e), beam_size: "5" }) },
  { name: "stream not a boolean", code: "invalid_input", input: (e) => ({ audio_base64: speech(e), stream: "yes" }) },
  { name: "no audio", code: "invalid_input", input: () => ({ language: "en" }) },
  {
    name: "hotwords of 2 MB",
    code: "invalid_input",
    input: (e) => ({ audio_base64: speech(e), hotwords: "invoice ".repeat(250_000) }),
    message: /transcription options take/,
  },
  { name: "audio and audio_base64", code: "invalid_input", input: (e) => ({ audio: "https://example.com/a.ogg", audio_base64: speech(e) }) },
  { name: "loopback address", code: "url_not_allowed", input: (e) => ({ audio: e.url("/private-probe.ogg") }) },
  { name: "localhost by name", code: "url_not_allowed", input: (e) => ({ audio: e.url("/private-probe.ogg").replace("127.0.0.1", "localhost") }) },
  { name: "cloud metadata address", code: "url_not_allowed", input: () => ({ audio: "http://169.254.169.254/latest/meta-data/" }) },
  { name: "IPv6 loopback", code: "url_not_allowed", input: () => ({ audio: "http://[::1]/voice.ogg" }) },
  { name: "IPv4-mapped IPv6 loopback", code: "url_not_allowed", input: () => ({ audio: "http://[::ffff:127.0.0.1]/voice.ogg" }) },
  { name: "private network address", code: "url_not_allowed", input: () => ({ audio: "http://10.1.2.3/voice.ogg" }) },
  { name: "invalid base64", code: "invalid_base64", input: () => ({ audio_base64: "%%%not base64%%%" }) },
  { name: "HLS playlist disguised as ogg naming a local FIFO", code: "unsupported_format", input: (e) => ({ audio_base64: hls(e) }) },
  { name: "a text file", code: "unsupported_format", input: (e) => ({ audio_base64: b64(e, "text.txt") }) },
];
