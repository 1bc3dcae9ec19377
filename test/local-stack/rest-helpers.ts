// Small HTTP and Redis helpers for the REST server's tests.
import { Redis as IORedis } from "ioredis";

export interface RestReply {
  status: number;
  text: string;
  json: unknown;
}

export interface SseStream {
  status: number;
  /** The next event's lines (without the blank line that ends it). */
  nextEvent(): Promise<string>;
}

export interface Rest {
  post(path: string, body: unknown, opts?: { base64?: boolean; timeoutMs?: number }): Promise<RestReply>;
  stream(path: string, signal: AbortSignal): Promise<SseStream>;
}

/** Raw HTTP to a REST endpoint: the exact status and body text, which @upstash/redis would hide. */
export function restClient(url: string, token: string): Rest {
  const headers = (b64: boolean) => ({
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...(b64 ? { "upstash-encoding": "base64" } : {}),
  });
  return {
    async post(path, body, opts = {}) {
      // Generous: under CPU load a request may be slow, but one that never answers fails here.
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: headers(opts.base64 ?? false),
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      return { status: res.status, text, json };
    },
    async stream(path, signal) {
      const res = await fetch(`${url}${path}`, { method: "POST", headers: { ...headers(false), accept: "text/event-stream" }, body: "[]", signal });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      return {
        status: res.status,
        async nextEvent() {
          for (;;) {
            const end = buffer.indexOf("\n\n");
            if (end >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!event.startsWith(":")) return event; // comments (keep-alives) are not events
              continue;
            }
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended; pending: ${JSON.stringify(buffer)}`);
            buffer += decoder.decode(value, { stream: true });
          }
        },
      };
    },
  };
}

/** Polls `check` until it holds (no fixed sleep decides anything): fails after `timeoutMs`. */
export async function untilTrue(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface TableEntry {
  /** "get", or "client|reply" for a subcommand. */
  name: string;
  arity: number;
  flags: string[];
  categories: string[];
  subcommands: string[];
  /** Tokens of the command's arguments in COMMAND DOCS (BLOCK, STREAMS, WITHSCORES ...). */
  tokens: string[];
}

function tokensOf(args: unknown): string[] {
  const out: string[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const arg of list) {
      if (!Array.isArray(arg)) continue;
      for (let i = 0; i + 1 < arg.length; i += 2) {
        if (arg[i] === "token" && typeof arg[i + 1] === "string") out.push(arg[i + 1] as string);
        if (arg[i] === "arguments") walk(arg[i + 1]);
      }
    }
  };
  walk(args);
  return out;
}

/**
 * The real redis-server's command table (COMMAND and COMMAND DOCS), read over its own TCP
 * connection: commands and subcommands as separate entries.
 */
export async function commandTable(port: number): Promise<TableEntry[]> {
  const conn = new IORedis({ port, protocol: 2, lazyConnect: true });
  try {
    await conn.connect();
    const info = (await conn.call("COMMAND")) as unknown[][];
    const docsFlat = (await conn.call("COMMAND", "DOCS")) as unknown[];
    const docs = new Map<string, unknown[]>();
    const addDocs = (flat: unknown[]) => {
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const name = String(flat[i]);
        const fields = flat[i + 1] as unknown[];
        docs.set(name, fields);
        for (let j = 0; j + 1 < fields.length; j += 2) if (fields[j] === "subcommands") addDocs(fields[j + 1] as unknown[]);
      }
    };
    addDocs(docsFlat);
    const out: TableEntry[] = [];
    const walk = (c: unknown[]) => {
      const name = String(c[0]).toLowerCase();
      const subs = Array.isArray(c[9]) ? (c[9] as unknown[][]) : [];
      const d = docs.get(name) ?? [];
      const argsAt = d.indexOf("arguments");
      out.push({
        name,
        arity: Number(c[1]),
        flags: (c[2] as unknown[]).map(String),
        categories: (c[6] as unknown[]).map(String),
        subcommands: subs.map((s) => String(s[0]).toLowerCase()),
        tokens: argsAt >= 0 ? tokensOf(d[argsAt + 1]) : [],
      });
      for (const s of subs) walk(s);
    };
    for (const c of info) walk(c);
    return out;
  } finally {
    conn.disconnect();
  }
}
