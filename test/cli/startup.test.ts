/**
 * `trade-exec` starts from V8's code cache of its bundle, and only of that very bundle: the cache carries the
 * bundle's build id, one made from any other bundle is never used (V8 alone would take the cache of another
 * bundle of the same length, and run that bundle's code), and a command that finds none that fits runs
 * without and leaves the right one behind. Each case works on a copy of the built CLI in a directory of
 * its own, so the bundle and cache the other test files use are never touched.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build, workspace } from "../support/cli.js"

beforeAll(() => build(), 120_000)

const root = fileURLToPath(new URL("../..", import.meta.url))
const BUILD_LINE = /\/\/# trade-exec-build=([0-9a-f]{64})\n$/

/** The built CLI, copied: `bin/`, `dist/` (the bundle and its cache) and package.json; node_modules linked. */
const installed = () => {
  const dir = workspace()
  mkdirSync(join(dir, "bin"))
  mkdirSync(join(dir, "dist"))
  copyFileSync(join(root, "bin", "trade-exec.js"), join(dir, "bin", "trade-exec.js"))
  copyFileSync(join(root, "package.json"), join(dir, "package.json"))
  for (const file of ["trade-exec.cjs", "trade-exec.cjs.cache"]) copyFileSync(join(root, "dist", file), join(dir, "dist", file))
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"))
  return {
    dir,
    bundle: join(dir, "dist", "trade-exec.cjs"),
    cache: join(dir, "dist", "trade-exec.cjs.cache"),
    run: (args: ReadonlyArray<string>, nodeOptions?: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const { NODE_OPTIONS: _, ...env } = process.env
        const child = execFile(
          process.execPath,
          [join(dir, "bin", "trade-exec.js"), ...args],
          { cwd: dir, env: nodeOptions === undefined ? env : { ...env, NODE_OPTIONS: nodeOptions } },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr })
        )
      })
  }
}

const buildIdOf = (bundle: string) => BUILD_LINE.exec(readFileSync(bundle, "latin1"))![1]!
const cacheIdOf = (cache: string) => readFileSync(cache).toString("latin1", 0, 64)

/** The bundle with `from` replaced by `to` (of the same length) and its build line made again, as a build would. */
const rebuiltWith = (bundle: string, from: string, to: string) => {
  const text = readFileSync(bundle, "latin1").replace(BUILD_LINE, "")
  expect(text).toContain(from)
  const changed = Buffer.from(text.replace(from, to), "latin1")
  const id = createHash("sha256").update(changed).digest("hex")
  writeFileSync(bundle, Buffer.concat([changed, Buffer.from(`//# trade-exec-build=${id}\n`)]))
}

describe("the CLI's code cache", () => {
  it("is built with the bundle, for that bundle", () => {
    const bundle = join(root, "dist", "trade-exec.cjs")
    expect(cacheIdOf(join(root, "dist", "trade-exec.cjs.cache"))).toBe(buildIdOf(bundle))
    // ASCII throughout, so that the CLI reads it without decoding UTF-8.
    expect(readFileSync(bundle).every((byte) => byte < 0x80)).toBe(true)
  })

  it("of another bundle of the same length is not used: the new bundle's code runs, and its own cache replaces it", async () => {
    const cli = installed()
    const empty = join(cli.dir, "empty.db")
    writeFileSync(empty, "")
    // The cache is made by `runs` itself, so that it holds the code that prints "no runs".
    rmSync(cli.cache)
    expect((await cli.run(["runs", "--db", empty])).stdout.trim()).toBe("no runs")
    const before = readFileSync(cli.cache)

    rebuiltWith(cli.bundle, `"no runs"`, `"NO RUNS"`)
    const after = await cli.run(["runs", "--db", empty])

    expect(after.code).toBe(0)
    expect(after.stdout.trim()).toBe("NO RUNS")
    expect(cacheIdOf(cli.cache)).toBe(buildIdOf(cli.bundle))
    expect(cacheIdOf(cli.cache)).not.toBe(before.toString("latin1", 0, 64))
    rmSync(cli.dir, { recursive: true, force: true })
  })

  it("missing, is written by the first command, which runs without it", async () => {
    const cli = installed()
    rmSync(cli.cache)
    const first = await cli.run(["--version"])
    expect(first.code).toBe(0)
    expect(first.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version)
    expect(cacheIdOf(cli.cache)).toBe(buildIdOf(cli.bundle))
    // Written whole under a temporary name, then renamed: nothing else is left beside it.
    expect(readdirSync(join(cli.dir, "dist")).sort()).toEqual(["trade-exec.cjs", "trade-exec.cjs.cache"])
    rmSync(cli.dir, { recursive: true, force: true })
  })

  it("of a process started with options of its own is its own: the plain commands' cache is left as it is", async () => {
    const cli = installed()
    const plain = readFileSync(cli.cache)
    // V8 refuses the plain cache under another flag; the command writes one for its options, beside it.
    expect((await cli.run(["--version"], "--max-old-space-size=300")).code).toBe(0)
    const own = readdirSync(join(cli.dir, "dist")).filter((f) => f.endsWith(".cache") && f !== "trade-exec.cjs.cache")
    expect(own).toHaveLength(1)
    expect(cacheIdOf(join(cli.dir, "dist", own[0]!))).toBe(buildIdOf(cli.bundle))
    expect(readFileSync(cli.cache).equals(plain)).toBe(true)
    // A plain command finds its cache as the build made it, and leaves it so.
    expect((await cli.run(["--version"])).code).toBe(0)
    expect(readFileSync(cli.cache).equals(plain)).toBe(true)
    // The same options again use their own cache, which stays as it was.
    const ownCache = readFileSync(join(cli.dir, "dist", own[0]!))
    expect((await cli.run(["--version"], "--max-old-space-size=300")).code).toBe(0)
    expect(readFileSync(join(cli.dir, "dist", own[0]!)).equals(ownCache)).toBe(true)
  })

  it("that fits is used, and left as it is", async () => {
    const cli = installed()
    const before = readFileSync(cli.cache)
    expect((await cli.run(["--version"])).code).toBe(0)
    expect(readFileSync(cli.cache).equals(before)).toBe(true)
    rmSync(cli.dir, { recursive: true, force: true })
  })
})
