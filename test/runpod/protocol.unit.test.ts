import { describe, expect, it } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import { errorBody, parseErrorReport, RUNPOD_PROTOCOL_VERSION, successBody } from "../../handler/runpod/result.ts";
import { checkJob } from "../../handler/runpod/take.ts";
import fc from "fast-check";
import { backoffMs, parseRetryAfterMs, retryDelayMs } from "../../handler/runpod/time.ts";
import { DEFAULT_TIMING } from "../../handler/runpod/worker.ts";
import { RunpodUrls } from "../../handler/runpod/urls.ts";

const templates = {
  getJob: "https://api.runpod.ai/v2/ep1/job-take/$ID?gpu=NVIDIA+H100&worker=$ID",
  postOutput: "https://api.runpod.ai/v2/ep1/job-done/$RUNPOD_POD_ID/$ID?gpu=NVIDIA+H100",
  postStream: "https://api.runpod.ai/v2/ep1/job-stream/$RUNPOD_POD_ID/$ID?gpu=NVIDIA+H100&pod=$RUNPOD_POD_ID",
  ping: "https://api.runpod.ai/v2/ep1/ping/$RUNPOD_POD_ID?gpu=NVIDIA+H100",
};

describe("URL templates", () => {
  const urls = new RunpodUrls(templates, "pod9");

  it("replaces every occurrence and adds parameters to the existing query", () => {
    const take = new URL(urls.take(1, false));
    expect(take.pathname).toBe("/v2/ep1/job-take/pod9");
    expect(Object.fromEntries(take.searchParams)).toEqual({ gpu: "NVIDIA H100", worker: "pod9", job_in_progress: "0" });
    const stream = new URL(urls.stream("job-1")!);
    expect(stream.pathname).toBe("/v2/ep1/job-stream/pod9/job-1");
    expect(Object.fromEntries(stream.searchParams)).toEqual({ gpu: "NVIDIA H100", pod: "pod9", isStream: "false" });
  });

  it("batch take, job-done, job-stop and ping URLs", () => {
    const batch = new URL(urls.take(3, true));
    expect(batch.pathname).toBe("/v2/ep1/job-take-batch/pod9");
    expect(batch.searchParams.get("batch_size")).toBe("3");
    expect(batch.searchParams.get("job_in_progress")).toBe("1");
    expect(urls.done("a/b", true)).toBe("https://api.runpod.ai/v2/ep1/job-done/pod9/a%2Fb?gpu=NVIDIA+H100&isStream=true");
    expect(urls.stop()).toBe("https://api.runpod.ai/v2/ep1/job-stop/pod9?gpu=NVIDIA+H100&worker=pod9");
    const ping = new URL(urls.ping(["j1", "j2"], "1.12.0")!);
    expect(Object.fromEntries(ping.searchParams)).toEqual({ gpu: "NVIDIA H100", job_id: "j1,j2", runpod_version: "1.12.0" });
    expect(new URL(urls.ping([], "1.12.0")!).searchParams.has("job_id")).toBe(false);
  });

  it("refuses a template that is not a URL at start-up", () => {
    expect(() => new RunpodUrls({ ...templates, postOutput: "not a url/$ID" }, "p")).toThrow(/RUNPOD_WEBHOOK_POST_OUTPUT/);
  });
});

describe("job-done bodies (the SDK's run_job conventions)", () => {
  it("output as is; from an object, refresh_worker becomes stopPod and error fails the job", () => {
    expect(successBody([1, 2])).toEqual({ output: [1, 2] });
    expect(successBody(undefined)).toEqual({ output: null });
    expect(successBody({ text: "a", refresh_worker: true })).toEqual({ output: { text: "a" }, stopPod: true });
    expect(successBody({ error: "nope" })).toEqual({ error: "nope" });
    expect(successBody({ refresh_worker: false })).toEqual({});
    expect(successBody("x", true)).toEqual({ output: "x", stopPod: true });
  });

  it("errors: JSON text with the SDK's fields; the stable code is error_type; secrets are scrubbed", () => {
    const err = new WorkerError("download_failed", "GET https://x.test/a?token=abcdef123456 failed", { retryable: true });
    const body = errorBody(err, { hostname: "h1", workerId: "w1" });
    expect(Object.keys(body)).toEqual(["error"]);
    const report = parseErrorReport(body.error)!;
    expect(report).toMatchObject({ error_type: "download_failed", hostname: "h1", worker_id: "w1", runpod_version: RUNPOD_PROTOCOL_VERSION, retryable: true });
    expect(String(report.error_message)).not.toContain("abcdef123456");
    const plain = parseErrorReport(errorBody("a string was thrown", { hostname: "h", workerId: "w" }).error)!;
    expect(plain).toMatchObject({ error_type: "internal_error", error_message: "a string was thrown", error_traceback: "" });
  });

  it("a job needs a string id and a non-null input", () => {
    expect(checkJob({ id: "a", input: {}, webhook: "x" })).toEqual({ job: { id: "a", input: {} } });
    expect(checkJob({ id: "a", input: null })).toEqual({ rejected: { id: "a", reason: "job has missing field(s): input" } });
    expect(checkJob({ input: 1 })).toEqual({ rejected: { id: undefined, reason: "job has missing field(s): id" } });
    expect(checkJob([1])).toEqual({ rejected: { reason: "job is not a JSON object" } });
  });

  it("back-off: never below the base, doubling, capped, jitter only upward", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 500, () => 0))).toEqual([100, 200, 400, 500, 500]);
    expect(backoffMs(1, 5000, 60_000, () => 1)).toBe(7500);
  });
});

describe("waits after a failed job-take or job-stop poll (runpod-python 1.12: 5 s after a 429, at once otherwise)", () => {
  it("with the default timings no wait exceeds the SDK's 5 s, or 10 s when the platform sends Retry-After; none is a hot loop", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (throttled, failures, r) => {
          const wait = retryDelayMs({ throttled, failures }, DEFAULT_TIMING, () => r);
          expect(wait).toBeGreaterThanOrEqual(800);
          expect(wait).toBeLessThanOrEqual(5000);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 100 }),
        fc.oneof(
          fc.nat({ max: 10 ** 9 }).map(String),
          fc.date({ noInvalidDate: true, min: new Date("1970-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z") }).map((d) => d.toUTCString()),
        ),
        (throttled, failures, header) => {
          const wait = retryDelayMs({ throttled, failures, retryAfter: header }, DEFAULT_TIMING, Math.random, Date.now());
          expect(wait).toBeGreaterThanOrEqual(1000);
          expect(wait).toBeLessThanOrEqual(10_000);
        },
      ),
    );
    // A header it cannot read counts as none: still bounded by the SDK's 5 s.
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 100 }), fc.string(), (throttled, failures, header) => {
        const wait = retryDelayMs({ throttled, failures, retryAfter: header }, DEFAULT_TIMING);
        expect(wait).toBeGreaterThanOrEqual(800);
        expect(wait).toBeLessThanOrEqual(parseRetryAfterMs(header) === null ? 5000 : 10_000);
      }),
    );
  });

  it("429 waits the throttle time every time; other failures double from the base up to the cap", () => {
    const t = { throttleMs: 5000, errorBaseMs: 1000, errorMaxMs: 5000, retryAfterMaxMs: 10_000 };
    expect([1, 2, 3, 4].map((failures) => retryDelayMs({ throttled: true, failures }, t, () => 1))).toEqual([5000, 5000, 5000, 5000]);
    expect([1, 2, 3, 4, 50].map((failures) => retryDelayMs({ throttled: false, failures }, t, () => 1))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(retryDelayMs({ throttled: false, failures: 1 }, t, () => 0)).toBe(800);
  });

  it("reads Retry-After as seconds or an HTTP date; ignores what it cannot read", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfterMs("3", now)).toBe(3000);
    expect(parseRetryAfterMs(" 1.5 ", now)).toBe(1500);
    expect(parseRetryAfterMs("Wed, 01 Jan 2025 00:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfterMs("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    for (const bad of [null, undefined, "", "soon", "-3"]) expect(parseRetryAfterMs(bad, now)).toBeNull();
    const t = { throttleMs: 5000, errorBaseMs: 1000, errorMaxMs: 5000, retryAfterMaxMs: 10_000 };
    expect(retryDelayMs({ throttled: true, failures: 1, retryAfter: "0" }, t)).toBe(1000);
    expect(retryDelayMs({ throttled: true, failures: 1, retryAfter: "2" }, t)).toBe(2000);
    expect(retryDelayMs({ throttled: false, failures: 1, retryAfter: "86400" }, t)).toBe(10_000);
  });
});
