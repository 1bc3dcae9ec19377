// What each test tier may start, enforced in the test process itself: a test in the wrong tier
// fails at once with the reason, instead of slowing the unit tier or hiding a whole worker
// among the integration tests. The patches are installed once per process; the tier of the
// file being run is read at each call (a worker process may run files of several tiers).
import { createRequire, syncBuiltinESMExports } from "node:module";
import type * as ChildProcessModule from "node:child_process";
import type * as NetModule from "node:net";

export type Tier = "unit" | "integration" | "system";

const require = createRequire(import.meta.url);
const state = globalThis as { __voiceWorkerTier?: Tier; __voiceWorkerTierGuard?: true };

/** The programs that are a whole worker: `npm start`'s, and the bench and chaos drivers that start workers. */
const WHOLE_WORKER = /(^|\/)(handler\/main|scripts\/bench|scripts\/chaos)\.ts$/;

export class TierViolation extends Error {
  override name = "TierViolation";
}

function checkProcess(argv: readonly string[]): void {
  const tier = state.__voiceWorkerTier;
  const shown = argv.join(" ").slice(0, 160);
  if (tier === "unit") {
    throw new TierViolation(
      `a unit test starts no child process (this one started \`${shown}\`): name its file *.integration.test.ts, or *.system.test.ts for a whole worker`,
    );
  }
  if (tier === "integration" && argv.some((a) => WHOLE_WORKER.test(a))) {
    throw new TierViolation(`an integration test starts no whole worker process (this one started \`${shown}\`): name its file *.system.test.ts`);
  }
}

function checkServer(): void {
  if (state.__voiceWorkerTier === "unit") {
    throw new TierViolation("a unit test opens no server or listening socket: name its file *.integration.test.ts");
  }
}

function install(): void {
  const cp = require("node:child_process") as typeof ChildProcessModule;
  const exported = cp as unknown as Record<string, (...a: unknown[]) => unknown>;
  const net = require("node:net") as typeof NetModule;
  // Every asynchronous start (spawn, execFile, exec, fork, execa) goes through ChildProcess#spawn.
  type SpawnOptions = { file: string; args?: string[] };
  const proto = cp.ChildProcess.prototype as unknown as { spawn: (this: unknown, o: SpawnOptions) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: unknown, o: SpawnOptions) {
    checkProcess(o.args && o.args.length > 0 ? [o.file, ...o.args.slice(1)] : [o.file]);
    return spawn.call(this, o);
  };
  // The synchronous ones do not: wrap the exported functions (and let ESM imports see them).
  for (const name of ["spawnSync", "execFileSync", "execSync"] as const) {
    const original = exported[name]!;
    exported[name] = function (this: unknown, ...a: unknown[]) {
      checkProcess([String(a[0]), ...(Array.isArray(a[1]) ? a[1].map(String) : [])]);
      return original.apply(this, a);
    };
  }
  syncBuiltinESMExports();
  const server = net.Server.prototype as unknown as { listen: (this: unknown, ...a: unknown[]) => unknown };
  const listen = server.listen;
  server.listen = function (this: unknown, ...a: unknown[]) {
    checkServer();
    return listen.apply(this, a);
  };
}

/** Called by each tier's setup file before its tests run. */
export function enterTier(tier: Tier): void {
  state.__voiceWorkerTier = tier;
  if (state.__voiceWorkerTierGuard) return;
  state.__voiceWorkerTierGuard = true;
  install();
}
