// What an idle worker costs in billed Upstash commands (the figure upstash_cmds_per_idle_hour).
import type { UpstashRestServer } from "../../handler/local-stack/rest/server.ts";
import { round } from "./stats.ts";

/** Watches a REST server's counter: when each command arrived (to 50 ms). */
export function watchCounter(rest: UpstashRestServer): { times: number[]; stop(): void } {
  const times: number[] = [];
  let last = rest.counter.total;
  const timer = setInterval(() => {
    const now = rest.counter.total;
    for (; last < now; last++) times.push(performance.now());
  }, 50);
  return { times, stop: () => clearInterval(timer) };
}

export interface IdleFigure {
  polls: number;
  commands: number;
  windowS: number;
  cmdsPerPoll: number;
  /** Per idle hour at `atMaxMs` (the configured maximum backoff), scaled from the measured poll rate. */
  perHour: number;
  measuredMaxMs: number;
}

/**
 * Commands of an idle worker once its backoff has reached the maximum: the gaps between polls
 * are then ~maxMs. Counted from the first such poll to the last one seen; scaled per hour at
 * `atMaxMs` (the same figure when the worker ran with that maximum).
 */
export function idleFigure(times: number[], measuredMaxMs: number, atMaxMs: number): IdleFigure {
  // Bursts (a poll plus a heartbeat) count as one poll: group commands closer than 100 ms.
  const polls: number[][] = [];
  for (const t of times) {
    const g = polls.at(-1);
    if (g && t - g.at(-1)! < 100) g.push(t);
    else polls.push([t]);
  }
  const firstAtMax = polls.findIndex((g, i) => i > 0 && g[0]! - polls[i - 1]![0]! >= measuredMaxMs * 0.9);
  if (firstAtMax < 0 || polls.length - firstAtMax < 2)
    return { polls: 0, commands: 0, windowS: 0, cmdsPerPoll: Number.NaN, perHour: Number.NaN, measuredMaxMs };
  const window = polls.slice(firstAtMax);
  // Commands after the first poll of the window, over the time they took to arrive.
  const commands = window.slice(1).reduce((a, g) => a + g.length, 0);
  const windowS = (window.at(-1)![0]! - window[0]![0]!) / 1000;
  const perSecond = commands / windowS;
  return {
    polls: window.length - 1,
    commands,
    windowS: round(windowS, 1),
    cmdsPerPoll: commands / (window.length - 1),
    perHour: perSecond * 3600 * (measuredMaxMs / atMaxMs),
    measuredMaxMs,
  };
}
