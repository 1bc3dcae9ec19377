import { defineConfig } from "vitest/config";

// Three tiers, one per file-name suffix (CONTRIBUTING.md, "Tests"). A guard in each tier's setup
// refuses what the tier must not do, so a test in the wrong tier fails with the reason.
//   unit         *.unit.test.ts          pure logic: no child process, no server
//   integration  *.integration.test.ts   real redis-server, ffmpeg, the sidecar on the double, HTTP peers
//   system       *.system.test.ts        whole worker processes (npm start's program, bench, chaos)
const tier = (name: "unit" | "integration" | "system") => ({
  extends: true as const,
  test: { name, include: [`test/**/*.${name}.test.ts`], setupFiles: ["test/setup-env.ts", `test/tiers/${name}.ts`] },
});

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real redis-server, ffmpeg and Python processes: two cores, so keep it modest.
    maxWorkers: 2,
    reporters: ["default"],
    projects: [tier("unit"), tier("integration"), tier("system")],
  },
});
