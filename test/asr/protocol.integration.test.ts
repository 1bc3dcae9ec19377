// The wire protocol spoken by the real sidecar process (sidecar/main.py) over stdin/stdout.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../handler/log/logger.ts";
import { LineSplitter, PROTOCOL_VERSION, type SidecarMessage } from "../../handler/asr/protocol.ts";
import { SidecarExit, SidecarProcess, SidecarReplyError } from "../../handler/asr/sidecar-process.ts";
import { SIDECAR_SCRIPT } from "../../handler/asr/python.ts";
import { DOUBLES, PYTHON, tone } from "./helpers.ts";

const log = createLogger({ level: "silent", destination: { write: () => {} } });
const procs: SidecarProcess[] = [];
const dirs: string[] = [];

function spawn(env: Record<string, string> = {}, extraArgs: string[] = []): SidecarProcess {
  const dir = mkdtempSync(join(tmpdir(), "asr-proto-"));
  dirs.push(dir);
  const p = new SidecarProcess(
    {
      python: PYTHON,
      script: SIDECAR_SCRIPT,
      args: ["--device", "cpu", "--compute-type", "int8", "--cpu-threads", "2", "--model-dir", join(dir, "models"), ...extraArgs],
      env: { PYTHONPATH: DOUBLES, FAKE_FW_CALL_LOG: join(dir, "calls.jsonl"), ...env },
    },
    log,
  );
  procs.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.shutdown(2000)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("LineSplitter", () => {
  it("reassembles lines split across chunks and drops blank ones", () => {
    const out: string[] = [];
    const s = new LineSplitter();
    for (const chunk of ['{"a":', '1}\n\n{"b"', ":2}\n{", '"c":3}\n']) s.push(chunk, (l) => out.push(l));
    expect(out).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

describe("sidecar protocol v1", () => {
  it("says hello with versions, device, compute type and pid", async () => {
    const p = spawn({ FAKE_CT2_VERSION: "4.5.0" }); // the ctranslate2 double sits next to the faster_whisper one
    const hello = await p.waitHello(30_000);
    expect(hello).toMatchObject({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      faster_whisper: "1.2.1",
      test_double: true,
      device: "cpu",
      compute_type: "int8",
      cpu_threads: 2,
    });
    expect(hello.pid).toBe(p.pid);
    expect(hello.ctranslate2).toBe("4.5.0");
    expect(hello.python).toMatch(/^3\.\d+/);
  });

  it("round-trips load, a PCM frame, progress and segment events, status and a result", async () => {
    const p = spawn();
    await p.waitHello(30_000);
    const loaded = await p.request({ type: "load", id: "l1", model: "tiny" });
    expect(loaded).toMatchObject({ type: "loaded", id: "l1", model: "tiny", cached: false });
    const again = await p.request({ type: "load", id: "l2", model: "tiny" });
    expect(again).toMatchObject({ cached: true });

    const pcm = tone(12);
    const events: SidecarMessage[] = [];
    const reply = await p.request({ type: "transcribe", id: "j1", pcm_bytes: pcm.length, options: { model: "tiny" }, stream_segments: true }, pcm, (m) =>
      events.push(m),
    );
    expect(reply.type).toBe("result");
    const result = (reply as Extract<SidecarMessage, { type: "result" }>).result as { segments: { end: number; text: string }[]; duration: number };
    expect(result.duration).toBe(12);
    expect(result.segments).toHaveLength(3);
    const progress = events.filter((e): e is Extract<SidecarMessage, { type: "progress" }> => e.type === "progress");
    expect(progress.map((e) => e.done_s)).toEqual([4, 8, 12]); // the double spreads 12 s over 3 segments
    expect(progress.every((e) => e.total_s === 12)).toBe(true);
    const streamed = events.filter((e): e is Extract<SidecarMessage, { type: "segment" }> => e.type === "segment");
    expect(streamed.map((e) => e.segment.text)).toEqual(result.segments.map((s) => s.text));

    const status = await p.request({ type: "status", id: "s1" });
    expect(status).toMatchObject({ type: "status", busy: null, models: [{ model: "tiny", in_use: 0 }] });
  });

  it("passes the PCM bytes through unchanged (same sha256 as float32 samples)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asr-proto-"));
    dirs.push(dir);
    const callLog = join(dir, "c.jsonl");
    const p = spawn({ FAKE_FW_CALL_LOG: callLog, FAKE_FW_EXPECT_SAMPLES: String(16000 * 3) });
    await p.waitHello(30_000);
    const pcm = tone(3, 0.5);
    await p.request({ type: "transcribe", id: "j", pcm_bytes: pcm.length, options: { model: "tiny" }, stream_segments: false }, pcm);
    const call = JSON.parse(readFileSync(callLog, "utf8").trim()) as { audio_sha256: string; audio_dtype: string; audio_samples: number };
    expect(call.audio_dtype).toBe("float32");
    expect(call.audio_samples).toBe(48000);
    expect(call.audio_sha256).toBe(createHash("sha256").update(pcm).digest("hex"));
  });

  it("answers a bad request with a coded error and keeps serving", async () => {
    const p = spawn();
    await p.waitHello(30_000);
    const pcm = tone(1);
    await expect(
      p.request({ type: "transcribe", id: "bad", pcm_bytes: pcm.length, options: { model: "tiny", bogus: 1 }, stream_segments: false }, pcm),
    ).rejects.toMatchObject({
      name: "SidecarReplyError",
      code: "invalid_input",
      retryable: false,
    });
    await expect(p.request({ type: "load", id: "no-name" } as never)).rejects.toMatchObject({ code: "invalid_request", retryable: false });
    await expect(
      p.request({ type: "transcribe", id: "odd", pcm_bytes: 6, options: { model: "tiny" }, stream_segments: false }, Buffer.alloc(6)),
    ).rejects.toBeInstanceOf(SidecarReplyError);
    await expect(p.request({ type: "load", id: "nf", model: "no-such-model" })).rejects.toMatchObject({ code: "model_not_found" });
    const ok = await p.request({ type: "transcribe", id: "good", pcm_bytes: pcm.length, options: { model: "tiny" }, stream_segments: false }, pcm);
    expect(ok.type).toBe("result");
  });

  it("cancels between windows while the reader keeps reading stdin", async () => {
    const p = spawn({ FAKE_FW_SEGMENT_S: "5", FAKE_FW_MS_PER_AUDIO_S: "30" });
    await p.waitHello(30_000);
    const pcm = tone(120); // four 30 s windows of 0.9 s each
    let progressSeen = 0;
    const job = p.request({ type: "transcribe", id: "slow", pcm_bytes: pcm.length, options: { model: "tiny" }, stream_segments: false }, pcm, (m) => {
      if (m.type === "progress" && ++progressSeen === 1) p.notify({ type: "cancel", id: "slow" });
    });
    await expect(job).rejects.toMatchObject({ code: "cancelled", retryable: false });
    expect(progressSeen).toBeLessThan(24);
    expect(p.alive).toBe(true);
  });

  it("ignores a cancel for an id it is not running (no poisoning of a later request)", async () => {
    const p = spawn();
    await p.waitHello(30_000);
    p.notify({ type: "cancel", id: "same" });
    const pcm = tone(1);
    const reply = await p.request({ type: "transcribe", id: "same", pcm_bytes: pcm.length, options: { model: "tiny" }, stream_segments: false }, pcm);
    expect(reply.type).toBe("result");
  });

  it("exits on shutdown with code 0, and with code 3 on a garbled stream", async () => {
    const p = spawn();
    await p.waitHello(30_000);
    const exit = await p.shutdown(10_000);
    expect(exit).toMatchObject({ code: 0, signal: null });

    const q = spawn();
    await q.waitHello(30_000);
    (q as unknown as { write(h: string): void }).write("this is not json\n");
    expect((await q.exited).code).toBe(3);
    await expect(q.request({ type: "status", id: "late" })).rejects.toBeInstanceOf(SidecarExit);
  });
});
