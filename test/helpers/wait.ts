/**
 * Polls `probe` until it is true or the deadline passes (then throws, naming `what`). Tests wait
 * for the event they need, never for a fixed time: on two busy cores a fixed sleep is either too
 * short (flaky) or too long (slow).
 */
export async function waitUntil(probe: () => Promise<boolean> | boolean, what: string, deadlineMs = 20_000, everyMs = 5): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
