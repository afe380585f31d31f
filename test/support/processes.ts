/** Spawning the test's child processes (test/support/child) and collecting what they say. */
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

const paperBroker = fileURLToPath(new URL("./child/paper-broker.ts", import.meta.url))

/**
 * Spawns test/support/child/paper-broker.ts: a process that opens the paper broker, says it is `ready`,
 * and acts once told to `go`, so processes started together act at the same moment.
 */
export const spawnPaperBroker = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", paperBroker], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  let readied: () => void = () => {}
  const ready = new Promise<void>((resolve) => (readied = resolve))
  child.stdout.on("data", (chunk) => {
    stdout += chunk
    if (stdout.startsWith("ready\n")) readied()
  })
  child.stderr.on("data", (chunk) => (stderr += chunk))
  const result = new Promise<ProcessResult>((resolve) =>
    child.on("close", (code, signal) => {
      readied()
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
  return { ready, go: () => child.stdin.end("go\n"), result }
}
