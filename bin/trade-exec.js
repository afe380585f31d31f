#!/usr/bin/env node
// The CLI, bundled into one CommonJS file by `npm run build` (which `npm install` runs through `prepare`),
// compiled here with V8's code cache: reading the compiled code back takes a fraction of the time
// compiling the bundle's 5 MB does, which is most of what `trade-exec --version` waits for.
//
// The cache (dist/trade-exec.cjs.cache) begins with the build id of the bundle it was made from, which
// the bundle carries in its last line; it is used only for that very bundle, and V8 refuses it besides
// when it comes from another Node version or other V8 flags. Without a cache that fits, the command runs
// without one and writes a new one as it ends, to a temporary name then renamed over the old: a process
// starting meanwhile reads a whole cache or none. Where dist/ cannot be written, it runs without.
import { isAscii } from "node:buffer"
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { Script } from "node:vm"

// The Node options this process was started with, from its command line and NODE_OPTIONS.
const nodeOptions = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ").trim()

// The old generation grows by a fixed factor of two over what survived its last full collection, where V8
// picks a factor of up to four for a heap without a size limit: a 50,000-name run peaked at 420-505 MB
// resident, most of it garbage V8 had not yet collected (~100 MB was live), and peaks at 310-330 MB so, in
// the same time. At 5,000 names it costs one more full collection, ~15 ms. V8 reads the factor each time it
// sets a limit, so setting it here, before any work, is as good as `node --heap-growing-percent=100`; it is
// set before the bundle is compiled, as it was when the code cache was made, whose check covers V8's flags.
// A process given heap settings of its own (`--max-old-space-size`, which also bounds V8's factor, below
// 1 GB to 1.3-2; or a factor) keeps them, and V8's choice of a smaller factor stands there too.
if (!/--(max-old-space-size|max-heap-size|heap-growing-percent)\b/.test(nodeOptions.replaceAll("_", "-"))) {
  setFlagsFromString("--heap-growing-percent=100")
}

const bundle = fileURLToPath(new URL("../dist/trade-exec.cjs", import.meta.url))
// V8 refuses a cache made under other flags, and a command that finds its cache refused writes its own,
// holding only the functions that command ran. A process started with options of its own (`NODE_OPTIONS`,
// `node --cpu-prof ...`) keeps a cache of its own, named by a hash of those options, so that it never
// replaces the one the build made, with the whole run's code, for plain commands.
const optionsHash = () => {
  // FNV-1a: a name, not a check (V8 checks the flags itself).
  let h = 0x811c9dc5
  for (let i = 0; i < nodeOptions.length; i++) h = Math.imul(h ^ nodeOptions.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, "0")
}
const cacheFile = nodeOptions === "" ? `${bundle}.cache` : `${bundle}.${optionsHash()}.cache`
const ID_LENGTH = 64

// The bundle is ASCII (scripts/bundle-cli.mjs): read as Latin-1, it is a string of one byte a character,
// made in well under a millisecond, where decoding it as UTF-8 took 37 ms. Any other file is decoded as UTF-8.
const bytes = readFileSync(bundle)
const source = bytes.toString(isAscii(bytes) ? "latin1" : "utf8")
const build = /\/\/# trade-exec-build=([0-9a-f]{64})\n$/.exec(source.slice(-120))?.[1]

const readCache = () => {
  if (build === undefined) return undefined
  try {
    const file = readFileSync(cacheFile)
    return file.length > ID_LENGTH && file.toString("latin1", 0, ID_LENGTH) === build ? file.subarray(ID_LENGTH) : undefined
  } catch {
    return undefined
  }
}

const cachedData = readCache()
// The wrapper is CommonJS's own, on the bundle's first line: its lines and stack traces stay the bundle's.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: bundle,
  ...(cachedData === undefined ? {} : { cachedData })
})

if (build !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  // At exit, the cache holds the code of every function this command compiled, not only the top level's.
  // The file is opened before the cache is made, which takes tens of milliseconds: where dist/ cannot be
  // written, no command pays for a cache it cannot keep.
  process.once("exit", () => {
    const partial = `${cacheFile}.${process.pid}.tmp`
    let fd
    try {
      fd = openSync(partial, "wx")
    } catch {
      return
    }
    try {
      try {
        writeFileSync(fd, Buffer.concat([Buffer.from(build, "latin1"), script.createCachedData()]))
      } finally {
        closeSync(fd)
      }
      renameSync(partial, cacheFile)
    } catch {
      rmSync(partial, { force: true })
    }
  })
}

const module = { exports: {} }
script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle))
