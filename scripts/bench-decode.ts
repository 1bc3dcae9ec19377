// Benchmark (not a test): median time to decode a 60 s ogg/opus voice message to 16 kHz mono
// f32le with the production ffmpeg arguments, and its ratio to real time. Target <= 150 ms.
//   npx tsx scripts/bench-decode.ts [--runs N] [--seconds S] [--json]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeToPcm } from "../handler/audio/decode.ts";
import { ffprobeAudio } from "../handler/audio/ffprobe.ts";
import { makeLongSpeechOpus } from "../harness/audio-fixtures/generate.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    seconds: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
    ffmpeg: { type: "string", default: "ffmpeg" },
    ffprobe: { type: "string", default: "ffprobe" },
  },
});
const runs = Math.max(1, Number(values.runs));
const seconds = Number(values.seconds);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const dir = await mkdtemp(join(tmpdir(), "vw-bench-"));
try {
  const file = join(dir, "voice.ogg");
  await makeLongSpeechOpus(file, seconds);
  const opts = { ffmpegBin: values.ffmpeg, ffprobeBin: values.ffprobe, maxDurationS: 900, timeoutMs: 60_000 };
  await decodeToPcm(file, opts); // warm the page cache and the dynamic loader

  const decodeMs: number[] = [];
  const probeMs: number[] = [];
  let audioS = 0;
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await ffprobeAudio(file, opts);
    probeMs.push(performance.now() - t0);
    t0 = performance.now();
    const out = await decodeToPcm(file, opts);
    decodeMs.push(performance.now() - t0);
    audioS = out.durationS;
  }
  const result = {
    audioSeconds: audioS,
    runs,
    medianDecodeMs: Math.round(median(decodeMs) * 10) / 10,
    minDecodeMs: Math.round(Math.min(...decodeMs) * 10) / 10,
    medianProbeMs: Math.round(median(probeMs) * 10) / 10,
    realTimeRatio: Math.round((median(decodeMs) / 1000 / audioS) * 100_000) / 100_000,
    speedX: Math.round(audioS / (median(decodeMs) / 1000)),
    targetMs: 150,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      `decode of ${audioS.toFixed(2)} s ogg/opus -> 16 kHz mono f32le, ${runs} runs\n` +
        `  median ${result.medianDecodeMs} ms (min ${result.minDecodeMs} ms), ${result.realTimeRatio} x real time (${result.speedX}x faster), target <= 150 ms\n` +
        `  probe median ${result.medianProbeMs} ms\n`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
