/**
 * The package's version, read from its package.json: the nearest one named `trade-execution` above this
 * module, which is two levels up from the sources, three from the compiled files and one from the bundle.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const find = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, "package.json")
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { readonly name?: unknown; readonly version?: unknown }
      if (pkg.name === "trade-execution" && typeof pkg.version === "string") return pkg.version
    }
    const up = dirname(dir)
    if (up === dir) return "unknown"
    dir = up
  }
}

export const VERSION = find()
