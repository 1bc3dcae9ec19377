// Measures the two ways PCM can reach the sidecar: a length-prefixed binary frame on the child's
// stdin, or a private temp file (0600 in a 0700 dir, unlinked by the receiver). The receiver is a
// minimal Python process doing what the sidecar does with the bytes (np.frombuffer / np.fromfile),
// so the figures are the transport alone. Run: npx tsx scripts/bench-pcm-transport.ts [--runs N]
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RECEIVER = String.raw`
import json, os, sys
import numpy as np
inp = sys.stdin.buffer
while True:
    line = inp.readline()
    if not line:
        break
    req = json.loads(line)
    if req["mode"] == "stdin":
        buf = bytearray(req["bytes"])
        view = memoryview(buf)
        got = 0
        while got < len(buf):
            n = inp.readinto(view[got:])
            if not n:
                sys.exit(1)
            got += n
        audio = np.frombuffer(buf, dtype="<f4")
    else:
        audio = np.fromfile(req["path"], dtype="<f4")
        os.unlink(req["path"])
    sys.stdout.write(json.dumps({"samples": int(audio.shape[0]), "last": float(audio[-1])}) + "\n")
    sys.stdout.flush()
`;

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] ?? 5) || 5;
const python = process.env.SIDECAR_PYTHON ?? "python3";
const child = execa(python, ["-c", RECEIVER], { stdin: "pipe", stdout: "pipe", stderr: "inherit", buffer: false, reject: false });

let pending: ((line: string) => void) | null = null;
let carry = "";
child.stdout.setEncoding("utf8");
child.stdout.on("data", (chunk: string) => {
  carry += chunk;
  let i: number;
  while ((i = carry.indexOf("\n")) >= 0) {
    const line = carry.slice(0, i);
    carry = carry.slice(i + 1);
    pending?.(line);
  }
});
const reply = () => new Promise<string>((resolve) => (pending = resolve));
const write = (data: string | Buffer) => new Promise<void>((resolve, reject) => child.stdin.write(data, (e) => (e ? reject(e) : resolve())));

async function viaStdin(pcm: Buffer): Promise<void> {
  const r = reply();
  await write(JSON.stringify({ mode: "stdin", bytes: pcm.length }) + "\n");
  await write(pcm);
  await r;
}

async function viaFile(pcm: Buffer, dir: string, n: number): Promise<void> {
  const path = join(dir, `job-${n}.f32`);
  await writeFile(path, pcm, { mode: 0o600 });
  const r = reply();
  await write(JSON.stringify({ mode: "file", path }) + "\n");
  await r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "pcm-bench-")); // mkdtemp creates it 0700
  const rows: string[] = [];
  let n = 0;
  for (const minutes of [1, 10, 60]) {
    const pcm = Buffer.alloc(16000 * 4 * 60 * minutes);
    for (let i = 0; i < pcm.length; i += 4) pcm.writeFloatLE(Math.sin(i / 40) * 0.3, i);
    const t: Record<string, number[]> = { stdin: [], file: [] };
    for (let r = 0; r < runs + 1; r++) {
      for (const mode of ["stdin", "file"] as const) {
        const start = process.hrtime.bigint();
        if (mode === "stdin") await viaStdin(pcm);
        else await viaFile(pcm, dir, n++);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (r > 0) t[mode]!.push(ms); // first round warms up
      }
    }
    const mb = pcm.length / 1e6;
    for (const mode of ["stdin", "file"] as const) {
      const ms = median(t[mode]!);
      rows.push(
        `| ${minutes} min | ${mb.toFixed(1)} MB | ${mode === "stdin" ? "stdin frame" : "temp file"} | ${ms.toFixed(1)} ms | ${(mb / (ms / 1000)).toFixed(0)} MB/s |`,
      );
    }
  }
  child.stdin.end();
  await child;
  await rm(dir, { recursive: true, force: true });
  console.log(`PCM transport to a Python child, median of ${runs} runs (tmpdir: ${tmpdir()})`);
  console.log("| audio | size | transport | time | throughput |\n| --- | --- | --- | --- | --- |");
  console.log(rows.join("\n"));
}

await main();
