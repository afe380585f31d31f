import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time, where vitest's default on a 2-core machine is one: most of the suite's time is
    // spent waiting on the processes, databases and browser its tests start, not computing.
    maxWorkers: 2
  }
})
