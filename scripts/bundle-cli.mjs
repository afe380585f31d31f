// Bundles the CLI into one CommonJS file, dist/trade-exec.cjs, which bin/trade-exec.js compiles with V8's
// code cache: `trade-exec` starts in a fraction of the time it takes to resolve and compile the few hundred
// modules of its dependency tree one by one, or to compile the bundle itself (CommonJS, because Node 20
// caches the compiled code of a script, not of an ES module). The native SQLite binding stays external (it
// is loaded from node_modules), as does pg's optional native client.
//
// The bundle ends with its build id, the SHA-256 of its content: the code cache is kept under that id,
// and a cache of any other bundle is never used. After the bundle, this writes the cache by running the CLI
// once.
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const bundle = `${root}dist/trade-exec.cjs`

/**
 * vega-canvas's Node build awaits `import("canvas")` at its top level, which a CommonJS bundle cannot do.
 * `canvas` is no dependency of ours (so that import always failed and the node build drew without a
 * canvas); its browser build is the same code without that import, and draws without a canvas too.
 */
const vegaCanvasWithoutCanvas = {
  name: "vega-canvas-without-canvas",
  setup(b) {
    b.onResolve({ filter: /^vega-canvas$/ }, async ({ kind, resolveDir, pluginData }) => {
      if (pluginData === "node build") return undefined
      // Wherever the package manager put the package: its Node build's path, then the browser build beside it.
      const node = await b.resolve("vega-canvas", { kind, resolveDir, pluginData: "node build" })
      return node.errors.length > 0 ? node : { path: join(dirname(node.path), "vega-canvas.browser.js") }
    })
  }
}

const result = await build({
  write: false,
  entryPoints: [`${root}adapters/cli/main.ts`],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  external: ["better-sqlite3", "pg-native"],
  plugins: [vegaCanvasWithoutCanvas],
  // A module that finds files beside itself (the package.json, for the version) asks `import.meta.url`,
  // which CommonJS does not have: the bundle's own URL stands in, as it did in the ES module bundle.
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: "var __bundleUrl = require(\"node:url\").pathToFileURL(__filename).href;" },
  logLevel: "warning"
})

// Each file is written beside its target, then renamed over it: several test files bundle at once, and a
// CLI started by one of them must never load a bundle another is half-way through writing.
const writeWhole = (path, contents) => {
  mkdirSync(dirname(path), { recursive: true })
  const partial = `${path}.${process.pid}.tmp`
  writeFileSync(partial, contents)
  renameSync(partial, path)
}

let buildId
for (const file of result.outputFiles) {
  if (file.path !== bundle) {
    writeWhole(file.path, file.contents)
    continue
  }
  // esbuild writes code in ASCII (its default charset escapes the rest) but copies comments as they are;
  // escaped there too, the whole file is ASCII, which bin/trade-exec.js reads in well under a millisecond
  // where decoding it as UTF-8, into a string of two bytes a character, took 37 ms.
  const ascii = Buffer.from(file.text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`))
  buildId = createHash("sha256").update(ascii).digest("hex")
  writeWhole(file.path, Buffer.concat([ascii, Buffer.from(`//# trade-exec-build=${buildId}\n`)]))
}

/** The build id the cache beside the bundle carries (its first 64 bytes), if there is one. */
const cachedBuildId = () => {
  try {
    return readFileSync(`${bundle}.cache`).toString("latin1", 0, 64)
  } catch {
    return undefined
  }
}

// The first run of a bundle without a cache writes it (bin/trade-exec.js), with the code of every function
// that run compiled; this is that run, so that the first command a user types does not pay for it. It is
// the demo's paper run of the examples, in a scratch database: the parser, the runtime, the SQLite layer and
// migrations, and the run from the orders to the report. (A cache written by `--version` alone was 2.48 MB
// against this one's 2.98 MB, and --version no faster with it, within this host's noise.)
const example = (name) => join(root, "examples", name)
const writeCache = () => {
  const scratch = mkdtempSync(join(tmpdir(), "trade-exec-build-"))
  try {
    execFileSync(process.execPath, [
      join(root, "bin", "trade-exec.js"), "run",
      "--items", example("decision_items.csv"), "--prices", example("prices.csv"), "--positions", example("positions.csv"),
      "--securities", example("securities.csv"), "--risk", example("risk.json"), "--portfolio-value", "10000000",
      "--cash-buffer", "0.02", "--commission", "ib-fixed", "--slippage-bps", "2", "--as-of", "2026-11-25T21:00:00Z",
      "--db", join(scratch, "cache.db")
    ], {
      stdio: ["ignore", "ignore", "inherit"],
      // The demo's settings, not those of whoever builds; and no NODE_OPTIONS, so that it is the plain
      // commands' cache (bin/trade-exec.js keeps another for each set of options).
      env: Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith("TRADE_EXEC_") && name !== "NODE_OPTIONS")
      )
    })
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
if (cachedBuildId() !== buildId) writeCache()
