// Bundles the benchmark harness into one file that plain `node` runs (`npm run bench`): the figures are
// those of the compiled library, as hosts and the CLI run it, and the process measured holds no
// TypeScript loader (tsx compiles in a thread of its own, ~85 MB of resident memory that is not ours).
import { build } from "esbuild"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

await build({
  entryPoints: [`${root}bench/index.ts`],
  outfile: `${root}.tmp/bench.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3", "pg-native"],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning"
})
