/** Counts commands the way Upstash bills them: every command, pipelined or in a transaction. */
export class CommandCounter {
  readonly byName = new Map<string, number>();
  /** HTTP requests per route ("/", "/pipeline", "/multi-exec"). */
  readonly requests = new Map<string, number>();
  total = 0;

  addRequest(path: string): void {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
  }

  add(name: string): void {
    const key = name.toUpperCase();
    this.byName.set(key, (this.byName.get(key) ?? 0) + 1);
    this.total++;
  }

  snapshot(): { total: number; byName: Record<string, number>; requests: Record<string, number> } {
    return { total: this.total, byName: Object.fromEntries(this.byName), requests: Object.fromEntries(this.requests) };
  }

  reset(): void {
    this.byName.clear();
    this.requests.clear();
    this.total = 0;
  }
}
