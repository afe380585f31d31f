/** Spawning the trade process (test/support/child/trade-process.ts) and collecting what it says. */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./child/trade-process.ts", import.meta.url))

export interface ProcessResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: Record<string, unknown> | undefined
  readonly stderr: string
}

export interface Spawned {
  readonly result: Promise<ProcessResult>
  readonly kill: () => void
}

export const spawnTrade = (env: Record<string, string>): Spawned => {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk) => (stdout += chunk))
  child.stderr.on("data", (chunk) => (stderr += chunk))
  const result = new Promise<ProcessResult>((resolve) =>
    child.on("close", (code, signal) => {
      const line = stdout.trim().split("\n").at(-1)
      let output: Record<string, unknown> | undefined
      try {
        output = line ? JSON.parse(line) : undefined
      } catch {
        output = undefined
      }
      resolve({ code, signal, output, stderr })
    })
  )
  return { result, kill: () => child.kill("SIGKILL") }
}
