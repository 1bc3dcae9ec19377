import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../handler/log/logger.ts";
import { parseTestModeArgs, runTestInput } from "../../handler/runpod/test-modes/index.ts";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { runners } from "./helpers.ts";

const quietLog = () => createLogger({ level: "debug", destination: captureLines() });

describe("--test_input", () => {
  it("runs the JSON given, prints {id, status: COMPLETED, output}, exit 0", async () => {
    const lines: string[] = [];
    const code = await runTestInput(runners.echo(), '{"input": {"audio": "https://example.com/a.ogg"}}', { log: quietLog(), out: (t) => lines.push(t) });
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0]!) as { id: string; status: string; output: unknown };
    expect(printed.status).toBe("COMPLETED");
    expect(printed.output).toEqual({ echo: { audio: "https://example.com/a.ogg" } });
    expect(printed.id).toMatch(/^test-[0-9a-f-]{36}$/);
  });

  it("reads ./test_input.json when no JSON is given, keeps its id; a failure prints FAILED with the SDK error, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vw-test-input-"));
    writeFileSync(join(dir, "test_input.json"), JSON.stringify({ id: "my-job", input: { audio: "x" } }));
    const lines: string[] = [];
    const code = await runTestInput(runners.failing("download_failed", true), undefined, { log: quietLog(), out: (t) => lines.push(t), cwd: dir });
    expect(code).toBe(1);
    const printed = JSON.parse(lines[0]!) as { id: string; status: string; error: unknown };
    expect(printed).toMatchObject({ id: "my-job", status: "FAILED" });
    expect(parseErrorReport(printed.error)).toMatchObject({ error_type: "download_failed", retryable: true, worker_id: "test-mode" });
  });

  it("exit 1 without printing a result for a missing file, bad JSON or a job without input", async () => {
    const out: string[] = [];
    const cwd = mkdtempSync(join(tmpdir(), "vw-test-input-"));
    const o = { log: quietLog(), out: (t: string) => out.push(t), cwd };
    expect(await runTestInput(runners.echo(), undefined, o)).toBe(1);
    expect(await runTestInput(runners.echo(), "{not json", o)).toBe(1);
    expect(await runTestInput(runners.echo(), '{"audio": "x"}', o)).toBe(1);
    expect(out).toEqual([]);
  });

  it("parses the RunPod SDK's test-mode flags and ours", () => {
    expect(parseTestModeArgs(["--test_input", '{"input":{}}'])).toEqual({ kind: "test_input", json: '{"input":{}}' });
    expect(parseTestModeArgs(['--test_input={"input":1}'])).toEqual({ kind: "test_input", json: '{"input":1}' });
    expect(parseTestModeArgs(["--test_input"])).toEqual({ kind: "test_input", json: undefined });
    expect(parseTestModeArgs(["--rp_serve_api", "--rp_api_port", "8010", "--rp_api_host", "0.0.0.0"])).toEqual({
      kind: "serve_api",
      port: 8010,
      host: "0.0.0.0",
    });
    expect(parseTestModeArgs(["--serve-api"])).toEqual({ kind: "serve_api", port: 8000, host: "127.0.0.1" });
    expect(parseTestModeArgs(["--verbose"])).toBeNull();
    expect(() => parseTestModeArgs(["--serve-api", "--port", "http"])).toThrow(/--port/);
  });
});
