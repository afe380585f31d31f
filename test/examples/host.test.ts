/**
 * The README's library example is examples/host.ts: `tsc --noEmit` type-checks it with the rest, and this
 * runs it as a host would (through tsx, which resolves the package's name to these sources as tsconfig
 * maps it), on a SQLite file of its own.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { workspace } from "../support/cli.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

describe("examples/host.ts", () => {
  it("runs the README's example to the end: the run done, every order filled, the audit chain verified", async () => {
    const db = join(workspace(), "trades.db")
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ["--import", "tsx", "examples/host.ts", db], { cwd: root }, (_, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }))
    })
    expect(code, stderr).toBe(0)
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ status: "done", filled: 3, verified: true })
  })

  it("is the example the README shows", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    const host = readFileSync(join(root, "examples", "host.ts"), "utf8")
    // The README quotes the part of the file from the imports to the run; each of its lines is the file's.
    const quoted = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("## The library")))![1]!.trim().split("\n")
    for (const line of quoted.filter((l) => l.trim() !== "" && l.trim() !== "// …")) expect(host).toContain(line)
  })
})
