/** A plain aligned text table for terminal output. */
export function printTable(rows: Array<Record<string, string | number>>, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  if (rows.length === 0) {
    write("(none)\n");
    return;
  }
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(width[i]!))
      .join("  ")
      .trimEnd() + "\n";
  write(line(cols.map((c) => c.toUpperCase())));
  for (const r of rows) write(line(cols.map((c) => String(r[c] ?? ""))));
}
