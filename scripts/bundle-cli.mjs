// Bundles the CLI into one file: `trade-exec` starts in about a third of the time it takes to resolve and
// compile the few hundred modules of its dependency tree one by one. The native SQLite binding stays
// external (it is loaded from node_modules), as does pg's optional native client.
import { build } from "esbuild"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

await build({
  entryPoints: [`${root}adapters/cli/main.ts`],
  outfile: `${root}dist/trade-exec.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["better-sqlite3", "pg-native"],
  // Some dependencies are CommonJS and call `require`, which an ES module does not have.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning"
})
