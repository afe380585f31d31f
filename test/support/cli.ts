/** Running the built `trade-exec` in a child process, in a directory of its own. */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const bin = join(root, "bin", "trade-exec.js")

/** Bundles the CLI from the sources into `dist`, which the `bin` runs: the tests exercise this very code. */
export const build = () => execFileSync(process.execPath, [join(root, "scripts", "bundle-cli.mjs")], { stdio: "inherit" })

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly json: () => any
}

export const workspace = (files: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), "trade-exec-cli-"))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  return dir
}

/** The command started, for a test that signals it while it runs: `stderr()` so far, and `result`, its end. */
export const start = (dir: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (c) => (stdout += c))
  child.stderr.on("data", (c) => (stderr += c))
  const result = new Promise<CliResult>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }))
  )
  return { child, result, stderr: () => stderr }
}

export const cli = (dir: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliResult> =>
  start(dir, args, env).result
