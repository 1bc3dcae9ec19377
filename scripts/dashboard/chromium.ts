// Debian's chromium (installed by `npm run setup -- --tests`), driven by playwright-core, which
// never downloads a browser of its own. A fresh profile every time, nothing from the network.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(opts: { viewport?: { width: number; height: number }; deviceScaleFactor?: number } = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`no chromium at ${CHROMIUM_BIN}: run \`npm run setup -- --tests\` (apt's chromium), or set CHROMIUM_BIN`);
  }
  const profile = mkdtempSync(join(tmpdir(), "vw-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1360, height: 900 },
    deviceScaleFactor: opts.deviceScaleFactor ?? 1,
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
