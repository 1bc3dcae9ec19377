// Which commands the REST server refuses, decided from the running redis-server's own COMMAND
// table rather than a hand-kept list, so a newer Redis (WAITAOF, new CLIENT subcommands...) is
// judged by the flags it declares itself.
//
// Every request shares one Redis connection (and /multi-exec one more), so a command that
// changes, holds or hands over that connection would hurt every other request. Upstash refuses
// such commands over REST; so does this server, with Upstash's error shape, before anything of
// the request runs. A command (the subcommand's entry, for CLIENT, CONFIG, SCRIPT ...) is refused
// when Redis declares it:
//   1. `blocking`: it can hold the connection (BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP ...).
//      XREAD and XREADGROUP are flagged because they may block; they block only with BLOCK, so
//      they are refused when an argument is BLOCK;
//   2. `admin` (flag or ACL category): server administration (SHUTDOWN, DEBUG, CONFIG, MONITOR,
//      SYNC/PSYNC, REPLICAOF, ACL SETUSER, CLIENT KILL/PAUSE, SAVE, FAILOVER, LASTSAVE, ROLE ...);
//   3. `@connection` (ACL category), except PING and ECHO, which is Upstash's documented REST
//      rule: it acts on the calling connection (AUTH, HELLO, SELECT, CLIENT REPLY/SETNAME/
//      TRACKING, RESET, QUIT, WAIT, READONLY ...);
//   4. `noscript`, unless it is a `@scripting` command: Redis will not run these from a Lua
//      script, which, like a REST request, has no connection of its own: MULTI, EXEC, DISCARD,
//      WATCH, UNWATCH, SUBSCRIBE and the other subscription commands. The scripting commands
//      (EVAL, EVALSHA, FCALL, SCRIPT LOAD ...) carry the flag only so that scripts cannot recurse;
//   5. what no flag says: SCRIPT DEBUG (puts the connection into the Lua debugger), and SWAPDB,
//      MOVE, COPY ... DB and MIGRATE, which reach another database or server: Upstash serves one.
// A command Redis does not know goes to Redis, which answers "unknown command" and runs nothing.

export interface CommandInfo {
  /** "blpop", or "client|reply" for a subcommand. */
  name: string;
  flags: ReadonlySet<string>;
  categories: ReadonlySet<string>;
  subcommands: ReadonlyMap<string, CommandInfo>;
}

export type CommandTable = ReadonlyMap<string, CommandInfo>;

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v));
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.map(text) : []);

function entry(raw: unknown): CommandInfo | null {
  if (!Array.isArray(raw) || raw.length < 3) return null;
  const subs = new Map<string, CommandInfo>();
  // Redis 7 lists subcommands in the 10th field; Redis 6 has none, and then the container's own
  // flags (CLIENT: admin, noscript) decide, which refuses at least as much.
  for (const s of Array.isArray(raw[9]) ? raw[9] : []) {
    const sub = entry(s);
    if (sub) subs.set(sub.name, sub);
  }
  return { name: text(raw[0]).toLowerCase(), flags: new Set(texts(raw[2])), categories: new Set(texts(raw[6])), subcommands: subs };
}

/** Parses the reply of `COMMAND` (RESP2, raw: names and flags as Buffers or strings). */
export function parseCommandTable(reply: unknown): CommandTable {
  const table = new Map<string, CommandInfo>();
  for (const raw of Array.isArray(reply) ? reply : []) {
    const e = entry(raw);
    if (e) table.set(e.name, e);
  }
  if (table.size === 0) throw new Error("COMMAND returned no commands");
  return table;
}

const CONNECTION_COMMANDS_ALLOWED = new Set(["ping", "echo"]);
const ONLY_BLOCKS_WITH_BLOCK = new Set(["xread", "xreadgroup"]);

/** Rule 5: connection or database effects that Redis's flags do not declare. */
const UNDECLARED: Record<string, (args: string[]) => string | null> = {
  "script|debug": () => "it switches the connection into the Lua debugger",
  swapdb: () => "it reaches a database other than 0 (Upstash serves one)",
  move: () => "it reaches a database other than 0 (Upstash serves one)",
  copy: (args) => (args.slice(3).some((a) => a.toUpperCase() === "DB") ? "its DB option reaches a database other than 0 (Upstash serves one)" : null),
  migrate: () => "it sends keys to another server",
};

function why(info: CommandInfo, args: string[]): string | null {
  const { name, flags, categories } = info;
  if (flags.has("blocking")) {
    const base = name.split("|")[0]!;
    if (!ONLY_BLOCKS_WITH_BLOCK.has(base) || args.some((a) => a.toUpperCase() === "BLOCK")) {
      return "it can block, holding the connection every request shares";
    }
  }
  if (flags.has("admin") || categories.has("@admin")) return "it administers the server";
  if (categories.has("@connection") && !CONNECTION_COMMANDS_ALLOWED.has(name)) return "it acts on the connection every request shares";
  if (flags.has("noscript") && !categories.has("@scripting")) return "it needs a connection of its own (Redis does not run it from a script either)";
  return UNDECLARED[name]?.(args) ?? null;
}

/**
 * Why `args` may not run over REST, as Upstash's error text, or null when it may. Judged on the
 * subcommand's entry when the command has subcommands and the second argument names one.
 */
export function refusal(table: CommandTable, args: readonly string[]): string | null {
  const name = (args[0] ?? "").toLowerCase();
  const top = table.get(name);
  if (!top) return null;
  const sub = args.length > 1 ? top.subcommands.get(`${name}|${(args[1] ?? "").toLowerCase()}`) : undefined;
  const info = sub ?? top;
  const reason = why(info, [...args]);
  if (!reason) return null;
  const shown = info.name.split("|").join(" ").toUpperCase();
  return `ERR Command is not available: '${shown}'. The REST API refuses it: ${reason}`;
}
