import { readFileSync } from "node:fs";
import type { Redis } from "@upstash/redis";
import { queueUnavailable } from "./redis.ts";

const NAMES = ["enqueue", "claim", "extend", "complete", "fail", "hand-back", "stats", "retry", "purge"] as const;
export type ScriptName = (typeof NAMES)[number];

const sources = Object.fromEntries(NAMES.map((n) => [n, readFileSync(new URL(`./scripts/${n}.lua`, import.meta.url), "utf8")])) as Record<ScriptName, string>;

/**
 * The queue's Lua scripts, run with EVALSHA (EVAL once when the server has not seen them):
 * one REST request, one atomic state change. Each returns JSON text or a number.
 */
export class QueueScripts {
  readonly #scripts: Record<ScriptName, ReturnType<Redis["createScript"]>>;

  constructor(redis: Redis) {
    this.#scripts = Object.fromEntries(NAMES.map((n) => [n, redis.createScript(sources[n])])) as Record<ScriptName, ReturnType<Redis["createScript"]>>;
  }

  async json<T>(name: ScriptName, argv: Array<string | number>): Promise<T> {
    const raw = await this.raw(name, argv);
    return JSON.parse(String(raw)) as T;
  }

  async raw(name: ScriptName, argv: Array<string | number>): Promise<unknown> {
    try {
      return await this.#scripts[name].exec([], argv.map(String));
    } catch (err) {
      throw queueUnavailable(err, name);
    }
  }
}
