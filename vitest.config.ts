import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup-env.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real redis-server, ffmpeg and Python processes: two cores, so keep it modest.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
