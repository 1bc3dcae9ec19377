// An HTTP peer written on raw TCP sockets, so each test controls the framing byte for byte: how
// the body's end is marked (Content-Length, chunked, or the connection closing), how far the
// response gets before it stalls, and how it ends (held open, reset, clean close).
import { createServer, type Socket } from "node:net";

export type Framing = "content-length" | "chunked" | "close-delimited";
/** headers: the header block is never finished; early-body: a tenth of the body; late-body: all of it but its end mark (the last byte, or the terminating chunk). */
export type StallPoint = "headers" | "early-body" | "late-body";
/** hold: the peer stays silent with the connection open; reset: TCP RST; close: clean FIN. */
export type PeerEnding = "hold" | "reset" | "close";

export interface ResponsePlan {
  framing: Framing;
  body: Buffer;
  /** Where the response stops; "complete" sends the whole body with its end mark. */
  stallAt: StallPoint | "complete";
  ending: PeerEnding;
  /** Awaited before a reset, so the test can let the client read what was sent first (see below). */
  beforeReset?: () => Promise<void>;
  /** After the first `prefix` bytes of the body are sent, the rest drips one byte per `dripMs` (close-delimited only). */
  drip?: { prefix: number; dripMs: number };
}

export interface FramedPeer {
  url: string;
  /** Body bytes (not framing) written to the socket so far, over all connections. */
  readonly sentBodyBytes: number;
  /** Settles once a response has been written up to its stall point (handed to the kernel). */
  stalled: Promise<void>;
  close(): Promise<void>;
}

const CHUNK = 4096;

function head(framing: Framing, bodyLength: number): string {
  const lines = ["HTTP/1.1 200 OK", "Content-Type: audio/ogg"];
  if (framing === "content-length") lines.push(`Content-Length: ${bodyLength}`);
  if (framing === "chunked") lines.push("Transfer-Encoding: chunked");
  if (framing === "close-delimited") lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function chunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    const piece = data.subarray(at, at + CHUNK);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** How many body bytes a stall point lets through. */
export function bodyBytesBefore(stallAt: StallPoint | "complete", framing: Framing, bodyLength: number): number {
  switch (stallAt) {
    case "headers":
      return 0;
    case "early-body":
      return Math.floor(bodyLength / 10);
    case "late-body":
      return framing === "chunked" ? bodyLength : bodyLength - 1; // chunked: only the terminator is missing
    case "complete":
      return bodyLength;
  }
}

/** The bytes on the wire up to the stall point. */
function wireBytes(plan: ResponsePlan): Buffer {
  const h = head(plan.framing, plan.body.length);
  if (plan.stallAt === "headers") return Buffer.from(h.slice(0, h.length - 4)); // every header line, not the blank line
  const data = plan.body.subarray(0, bodyBytesBefore(plan.stallAt, plan.framing, plan.body.length));
  if (plan.framing !== "chunked") return Buffer.concat([Buffer.from(h), data]);
  const terminator = plan.stallAt === "complete" ? Buffer.from("0\r\n\r\n") : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(h), chunked(data), terminator]);
}

export async function startFramedPeer(plan: ResponsePlan): Promise<FramedPeer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sentBodyBytes = 0;
  let markStalled = () => undefined as void;
  const stalled = new Promise<void>((resolve) => (markStalled = resolve));
  const respond = (sock: Socket) => {
    const wire = wireBytes(plan);
    const bodyBytes = plan.stallAt === "headers" ? 0 : bodyBytesBefore(plan.stallAt, plan.framing, plan.body.length);
    if (plan.drip) {
      const { prefix, dripMs } = plan.drip;
      sock.write(head(plan.framing, plan.body.length));
      sock.write(plan.body.subarray(0, prefix));
      sentBodyBytes += prefix;
      let at = prefix;
      const timer = setInterval(() => {
        if (sock.destroyed || at >= plan.body.length) return void clearInterval(timer);
        sock.write(plan.body.subarray(at, at + 1));
        at++;
        sentBodyBytes++;
      }, dripMs);
      timers.add(timer);
      markStalled();
      return;
    }
    sock.write(wire, () => {
      sentBodyBytes += bodyBytes;
      markStalled();
      if (plan.ending === "close") sock.end();
      // A reset that arrives together with the last data can reach a Node client as a clean
      // end (libuv reports EOF on a short read when the poll also says "hang up"), so the test
      // first lets the client read what was sent; a real peer that crashes later looks like this.
      // (If the client never gets them, the reset still comes: the test then fails on its code.)
      if (plan.ending === "reset") void (plan.beforeReset?.() ?? Promise.resolve()).catch(() => undefined).then(() => sock.resetAndDestroy());
    });
  };
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    // Answer once the request head has arrived (the client sends it in one write).
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d.toString("latin1");
      if (!seen.includes("\r\n\r\n")) return;
      sock.off("data", onData);
      respond(sock);
    };
    sock.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/voice.ogg`,
    get sentBodyBytes() {
      return sentBodyBytes;
    },
    stalled,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it is true or the deadline passes (then throws, naming `what`). */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
