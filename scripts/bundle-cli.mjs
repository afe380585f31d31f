// Bundles the CLI into one file: `trade-exec` starts in about a third of the time it takes to resolve and
// compile the few hundred modules of its dependency tree one by one. The native SQLite binding stays
// external (it is loaded from node_modules), as does pg's optional native client.
import { build } from "esbuild"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

const { outputFiles } = await build({
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
  logLevel: "warning",
  write: false
})

// Each file is written beside its place and renamed into it: test files that build the CLI in parallel
// never start a process on a bundle another one is halfway through writing.
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true })
  const temporary = `${file.path}.${process.pid}.tmp`
  writeFileSync(temporary, file.contents)
  renameSync(temporary, file.path)
}
