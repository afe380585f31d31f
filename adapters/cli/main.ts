/**
 * The `trade-exec` process: runs a command and turns its outcome into an exit code — 0 done (or dry run
 * completed), 3 blocked by risk, 4 run failed, 6 run still running with orders working, 7 reconcile found a
 * break, 2 bad usage or invalid input (the message on stderr names the file, row and column, the flag or
 * the variable) or a run refused while another trades on the account, 5 run (or database) held by another
 * process, 1 anything unexpected; 130 after Ctrl-C (SIGINT) and 143 after SIGTERM, which stop a run at its
 * next step and leave it for `execute` to resume.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, ConfigError, Effect, Exit, Layer, Logger, Option } from "effect"
import { root } from "./commands.js"
import { choiceProblem, withoutGenericHelp } from "./help.js"
import { VERSION } from "./version.js"
import { CliEnvironment, readEnvironment } from "./environment.js"

// The environment is read and checked whole before any command starts (and so before it writes anything).
const cli = Command.run(Command.provideEffect(root, CliEnvironment, readEnvironment), { name: "trade-exec", version: VERSION })

interface Tagged {
  readonly _tag: string
  readonly message?: string
  readonly code?: number
  readonly operation?: string
  readonly locked?: boolean
}

/** The exit code of a failure, and what to tell the user (nothing when it was said already). */
const classify = (error: unknown): { readonly code: number; readonly message?: string } => {
  // @effect/cli has said what was wrong; for a value outside a flag's list, this names the flag too.
  if (ValidationError.isValidationError(error)) {
    const problem = choiceProblem(process.argv)
    return problem === undefined ? { code: 2 } : { code: 2, message: problem }
  }
  // An environment variable that does not parse: String() names the variable, `message` does not.
  if (ConfigError.isConfigError(error)) return { code: 2, message: String(error) }
  const tagged = error as Tagged
  switch (tagged._tag) {
    case "ExitWith":
      return { code: tagged.code ?? 1 }
    case "InvalidInput":
    // The audit chain's key is missing or is not the database's: fixed in the environment, like bad input.
    case "AuditKeyMismatch":
    case "RunNotFound":
    case "SnapshotNotFound":
      return { code: 2, message: String(tagged.message ?? error) }
    case "AccountBusy":
      return { code: 2, message: String(tagged.message) }
    case "RunHeld":
      return { code: 5, message: `${tagged.message}: held by another process; the run has not failed — execute it again once the lease is released` }
    case "LeaseLost":
      // Another process took the run over (this one stalled past its lease): it carries the run on.
      return { code: 5, message: `${tagged.message}: held by another process, which carries the run on; this process stopped without writing more` }
    case "RepositoryError":
      // A database that cannot be opened at the path given is a bad --db, not a crash; one another
      // process keeps locked past the busy timeout is held, as a run is, and nothing has failed.
      return { code: tagged.operation === "open" ? 2 : tagged.locked === true ? 5 : 1, message: String(tagged.message) }
    default:
      return { code: 1, message: String(tagged?.message ?? error) }
  }
}

/**
 * What @effect/cli and the commands use of the platform: files, paths and the terminal. Not Node's whole
 * context, whose command executor and worker manager no command uses: the executor alone loads
 * `child_process` (and with it `net` and `dgram`) as the process starts, ~10 ms of every command.
 */
const platform = Layer.mergeAll(NodePath.layer, NodeTerminal.layer).pipe(Layer.provideMerge(NodeFileSystem.layer))

const program = Effect.suspend(() => withoutGenericHelp(cli(process.argv))).pipe(
  Effect.matchCauseEffect({
    onSuccess: () => Effect.succeed(0),
    onFailure: (cause) => {
      const failure = Cause.failureOption(cause)
      const { code, message } = Option.isSome(failure)
        ? classify(failure.value)
        : { code: 1, message: Cause.pretty(cause) }
      return Effect.as(message === undefined ? Effect.void : Effect.sync(() => process.stderr.write(`trade-exec: ${message}\n`)), code)
    }
  }),
  // Logs go to stderr: stdout carries the report (or the JSON document) and nothing else.
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  Effect.provide(platform)
)

// runMain turns the first SIGINT or SIGTERM into an interruption and stops listening to both; so does
// this, which only remembers which it was: a second signal of either kind then ends the process at once.
let signal: "SIGINT" | "SIGTERM" | undefined
const remember = (which: "SIGINT" | "SIGTERM") => () => {
  signal ??= which
  process.removeListener("SIGINT", onSigint)
  process.removeListener("SIGTERM", onSigterm)
}
const onSigint = remember("SIGINT")
const onSigterm = remember("SIGTERM")
process.on("SIGINT", onSigint)
process.on("SIGTERM", onSigterm)

/**
 * Calls `then` once what was written to stdout and stderr has been handed to the OS. Writes to a pipe are
 * asynchronous, and `process.exit` drops what is still queued: the JSON document of a 48,229-order run
 * (34 MB) came through `| wc -c` as its first 64 KiB.
 */
const whenFlushed = (then: () => void): void => {
  process.stdout.write("", () => process.stderr.write("", then))
}

NodeRuntime.runMain(Effect.flatMap(program, (code) => Effect.async<never>(() => {
  whenFlushed(() => process.exit(code))
})), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // Reached when a signal interrupted the command (every other end exits above), or on a defect.
  teardown: (exit, onExit) => {
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) process.stderr.write(`trade-exec: ${Cause.pretty(exit.cause)}\n`)
    const code = Exit.isSuccess(exit) ? 0 : Cause.isInterruptedOnly(exit.cause) ? (signal === "SIGTERM" ? 143 : 130) : 1
    whenFlushed(() => onExit(code))
  }
})
