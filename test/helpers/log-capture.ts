import type { DestinationStream } from "pino";

/** A pino destination that keeps every serialized line, for assertions on what was logged. */
export function captureLines(): DestinationStream & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    text() {
      return lines.join("");
    },
  };
}
