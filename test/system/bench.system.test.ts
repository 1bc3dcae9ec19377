// `npm run bench -- --quick --json` runs and prints every figure as a finite number. Not a
// performance test: the values themselves are not judged here.
import { execa } from "execa";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../../scripts/bench/worker-process.ts";

const FIELDS = [
  "overhead_ms_p50",
  "overhead_ms_p99",
  "e2e_vs_engine",
  "upstash_cmds_per_job",
  "upstash_cmds_per_idle_hour",
  "decode_60s_opus_ms",
  "ready_ms",
  "rss_growth_pct_1000_jobs",
];

it("the quick benchmark prints one JSON object with every figure, the machine and the settings", async () => {
  const r = await execa("node", ["--import", "tsx", "scripts/bench.ts", "--quick", "--json"], {
    cwd: REPO_ROOT,
    reject: false,
    stdin: "ignore",
    timeout: 200_000,
  });
  expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  const out = JSON.parse(lines[0]!) as Record<string, unknown> & { machine: Record<string, unknown>; settings: Record<string, unknown> };
  for (const f of FIELDS) {
    expect(typeof out[f], f).toBe("number");
    expect(Number.isFinite(out[f]), `${f} = ${String(out[f])}`).toBe(true);
  }
  expect(out.machine).toMatchObject({ cores: expect.any(Number) as number, cpu_model: expect.any(String) as string, node: process.version });
  expect(out.settings).toMatchObject({ mode: "quick" });
}, 240_000);
