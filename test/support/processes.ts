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

/**
 * Starts a test/support/child script in its own Node process; `result` is what it ended with, its output the
 * last line it wrote to stdout as JSON (absent when that line is missing or not JSON, as when it was killed).
 */
const start = (file: string, env: Record<string, string>, options: {
  readonly stdin: "ignore" | "pipe"
  /** Called on every chunk, with all stdout so far. */
  readonly onStdout?: (stdout: string) => void
  /** Called when the process has ended, before `result` resolves. */
  readonly onClose?: () => void
}) => {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    env: { ...process.env, ...env },
    stdio: [options.stdin, "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk) => {
    stdout += chunk
    options.onStdout?.(stdout)
  })
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  const result = new Promise<ProcessResult>((resolve) =>
    child.on("close", (code, signal) => {
      options.onClose?.()
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
  return { child, result }
}

export const spawnTrade = (env: Record<string, string>): Spawned => {
  const { child, result } = start(script, env, { stdin: "ignore" })
  return { result, kill: () => child.kill("SIGKILL") }
}

const paperBroker = fileURLToPath(new URL("./child/paper-broker.ts", import.meta.url))

/**
 * Spawns test/support/child/paper-broker.ts: a process that opens the paper broker, says it is `ready`,
 * and acts once told to `go`, so processes started together act at the same moment.
 */
export const spawnPaperBroker = (env: Record<string, string>) => {
  let readied: () => void = () => {}
  const ready = new Promise<void>((resolve) => (readied = resolve))
  const { child, result } = start(paperBroker, env, {
    stdin: "pipe",
    onStdout: (stdout) => {
      if (stdout.startsWith("ready\n")) readied()
    },
    onClose: () => readied()
  })
  return { ready, go: () => child.stdin!.end("go\n"), result }
}
