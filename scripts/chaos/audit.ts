// After a chaos run: every job in Redis accounted for, and the engine calls counted per job.
import { readFileSync, existsSync } from "node:fs";
import type { QueueAdmin } from "../../handler/queue/admin.ts";
import { readJobs } from "../bench/jobs.ts";

export interface PlannedJob {
  id: string;
  /** The error code a deliberately bad job must end with; absent for a good job. */
  expectCode?: string;
}

export interface Audit {
  jobs: number;
  done: number;
  dead_expected: number;
  /** Not terminal at the end (queued, active, retrying) or no record at all. */
  lost: number;
  /** Terminal, but not as planned: a good job in the dead letter, a bad one with another code, a wrong result. */
  unexpected: number;
  /** The queue's own "done" counter equals the number of done jobs: none completed twice. */
  done_counter: number;
  done_exactly_once: boolean;
  /** Engine calls beyond the first, summed over jobs (at-least-once delivery allows some). */
  duplicate_engine_calls: number;
  jobs_transcribed_more_than_once: number;
  /** Done jobs with no engine call on record: would mean a result that no transcription produced. */
  done_without_engine_call: number;
  problems: string[];
}

/** Engine calls per job id, from FAKE_FW_CALL_LOG lines (the job id rides in initial_prompt). */
export function engineCallsPerJob(callLog: string, marker: RegExp): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(callLog)) return counts;
  for (const line of readFileSync(callLog, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let rec: { kwargs?: { initial_prompt?: unknown } };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue; // a line cut by a SIGKILL mid-write
    }
    const prompt = rec.kwargs?.initial_prompt;
    const m = typeof prompt === "string" ? marker.exec(prompt) : null;
    if (m?.[1]) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

export async function auditJobs(admin: QueueAdmin, planned: PlannedJob[], calls: Map<string, number>, expectedText: string): Promise<Audit> {
  const rows = await readJobs(
    admin,
    planned.map((p) => p.id),
  );
  const stats = await admin.stats();
  const problems: string[] = [];
  let done = 0;
  let deadExpected = 0;
  let lost = 0;
  let unexpected = 0;
  let doneWithoutCall = 0;
  rows.forEach((row, i) => {
    const plan = planned[i]!;
    const s = row.status;
    if (!s || !["done", "failed", "dead"].includes(s.state)) {
      lost++;
      problems.push(`${plan.id}: ${s ? `still ${s.state} (attempts ${s.attempts})` : "no record"}`);
      return;
    }
    if (plan.expectCode) {
      if ((s.state === "failed" || s.state === "dead") && s.last_error?.code === plan.expectCode) deadExpected++;
      else {
        unexpected++;
        problems.push(`${plan.id}: expected ${plan.expectCode}, got ${s.state} ${s.last_error?.code ?? ""}`);
      }
      return;
    }
    if (s.state !== "done") {
      unexpected++;
      problems.push(`${plan.id}: good job ended ${s.state} (${s.last_error?.code}: ${s.last_error?.message})`);
      return;
    }
    if (row.result?.transcription !== expectedText) {
      unexpected++;
      problems.push(`${plan.id}: done, but its result is not the transcript (${JSON.stringify(row.result)?.slice(0, 200)})`);
      return;
    }
    if (!calls.get(plan.id)) doneWithoutCall++;
    done++;
  });
  const dupes = [...calls.values()].filter((n) => n > 1);
  return {
    jobs: planned.length,
    done,
    dead_expected: deadExpected,
    lost,
    unexpected,
    done_counter: stats.done_total,
    done_exactly_once: stats.done_total === done,
    duplicate_engine_calls: dupes.reduce((a, n) => a + n - 1, 0),
    jobs_transcribed_more_than_once: dupes.length,
    done_without_engine_call: doneWithoutCall,
    problems,
  };
}
