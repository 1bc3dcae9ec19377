// How diagnose prints: `[3/8] cuDNN  pass  detail`, the fix on the next line; or one JSON object.
import { STEPS, type DiagnoseReport, type StepResult, type StepStatus } from "./types.ts";

const COLOURS: Record<StepStatus, string> = { pass: "\u001b[32m", warn: "\u001b[33m", fail: "\u001b[31m" };
const RESET = "\u001b[0m";
const NAME_WIDTH = Math.max(...STEPS.map((s) => s.name.length));

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function formatStep(r: StepResult, colour: boolean): string {
  const n = STEPS.findIndex((s) => s.id === r.id) + 1;
  const status = colour ? `${COLOURS[r.status]}${r.status}${RESET}` : r.status;
  const lines = [`[${n}/${STEPS.length}] ${r.name.padEnd(NAME_WIDTH)}  ${status}  ${r.detail}`];
  if (r.fix) lines.push(`      fix: ${r.fix}`);
  return `${lines.join("\n")}\n`;
}

export function formatSummary(report: DiagnoseReport, ms: number): string {
  const count = (s: StepStatus) => report.steps.filter((r) => r.status === s).length;
  const verdict = report.ok ? (count("warn") > 0 ? "usable, with warnings" : "ready") : "NOT ready";
  return `diagnose: ${verdict}: ${count("pass")} pass, ${count("warn")} warn, ${count("fail")} fail (${(ms / 1000).toFixed(1)} s)\n`;
}

export function toJson(report: DiagnoseReport): string {
  return JSON.stringify({ ok: report.ok, steps: report.steps.map(({ id, name, status, detail, fix, ms }) => ({ id, name, status, detail, fix, ms })) });
}
