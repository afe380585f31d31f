// Bundles the CLI into one file: `trade-exec` starts in about a third of the time it takes to resolve and
// compile the few hundred modules of its dependency tree one by one. The native SQLite binding stays
// external (it is loaded from node_modules), as does pg's optional native client.
import { build } from "esbuild"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

// Written beside the target, then renamed over it: several test files bundle at once, and a CLI started
// by one of them must never load a bundle another is half-way through writing.
const result = await build({
  write: false,
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
for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true })
  const partial = `${file.path}.${process.pid}.tmp`
  writeFileSync(partial, file.contents)
  renameSync(partial, file.path)
}
