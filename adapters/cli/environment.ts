/**
 * The environment variables `trade-exec` reads, each checked with its bounds. A command reads them all
 * before it does anything else (main.ts provides `CliEnvironment` to every command), so a variable that
 * does not parse is refused with exit 2, naming it, before the first write: never ignored, never found
 * out after a snapshot and a run were written.
 *
 * `TRADE_EXEC_DB`, `TRADE_EXEC_PAPER_COMMISSION` and `TRADE_EXEC_PAPER_SLIPPAGE_BPS` stand in for the
 * flags `--db`, `--commission` and `--slippage-bps` when those are not given; they are read with the
 * command line (`databaseOption`, `fallbackConfig` below), before the command starts.
 */
import { Config, ConfigError, Context, Effect, Either, Option } from "effect"
import { randomBytes } from "node:crypto"
import * as Dec from "../../src/domain/Decimal.js"
import { MAX_LEASE_SECONDS, MIN_LEASE_SECONDS } from "../../src/domain/Run.js"


const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/

export interface CliEnvironmentValues {
  /** `TRADE_EXEC_LEASE_SECONDS`, default 30. */
  readonly leaseSeconds: number
  /**
   * Who holds the leases this process takes: `TRADE_EXEC_WORKER_ID` (default `worker`), then a tag of
   * this process. A lease is held by a process, not a name: two processes given the same worker id
   * are two holders, and the second is refused a run the first holds (exit 5) instead of both
   * executing it.
   */
  readonly leaseOwner: string
  /** `TRADE_EXEC_CHECK_SECONDS`: between two checks of a run's working orders, default 2. */
  readonly checkSeconds: number
  /** `TRADE_EXEC_PAPER_CASH`: cash of a paper account opened for the first time. */
  readonly paperCash: Dec.Decimal | undefined
}

export class CliEnvironment extends Context.Tag("trade-exec/CliEnvironment")<CliEnvironment, CliEnvironmentValues>() {}

/** A variable that, when set, must parse: `read` says why it does not (shown with the value found). */
const variable = <A>(name: string, read: (text: string) => Either.Either<A, string>) =>
  Config.string(name).pipe(
    Config.mapOrFail((text) =>
      Either.mapLeft(read(text), (reason) => ConfigError.InvalidData([], `${reason} (got ${JSON.stringify(text)})`))
    )
  )

/** A decimal within the input range that passes `check`. */
export const decimalVariable = (name: string, check: (d: Dec.Decimal) => string | undefined) =>
  variable(name, (text) =>
    Either.flatMap(Dec.readInput(text), (d) => {
      const problem = check(d)
      return problem === undefined ? Either.right(d) : Either.left(problem)
    }))

const leaseSeconds = variable("TRADE_EXEC_LEASE_SECONDS", (text) => {
  const trimmed = text.trim()
  const n = /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : Number.NaN
  return n >= MIN_LEASE_SECONDS && n <= MAX_LEASE_SECONDS
    ? Either.right(n)
    : Either.left(`must be a whole number of seconds from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`)
})

const checkSeconds = variable("TRADE_EXEC_CHECK_SECONDS", (text) => {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  return n > 0 && n <= 3600 ? Either.right(n) : Either.left("must be a number of seconds greater than 0 and at most 3600")
})

const workerId = variable("TRADE_EXEC_WORKER_ID", (text) =>
  WORKER_ID.test(text)
    ? Either.right(text)
    : Either.left("must be 1 to 64 letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit"))

const paperCash = decimalVariable("TRADE_EXEC_PAPER_CASH", (d) => (Dec.isNegative(d) ? "must not be negative" : undefined))

/** Every variable a command uses, read and checked at once. */
export const readEnvironment: Effect.Effect<CliEnvironmentValues, ConfigError.ConfigError> = Effect.gen(function*() {
  const lease = yield* Config.withDefault(leaseSeconds, 30)
  const check = yield* Config.withDefault(checkSeconds, 2)
  const worker = yield* Config.option(workerId)
  const cash = yield* Config.option(paperCash)
  return {
    leaseSeconds: lease,
    checkSeconds: check,
    leaseOwner: `${Option.getOrElse(worker, () => "worker")}@${randomBytes(4).toString("hex")}`,
    paperCash: Option.getOrUndefined(cash)
  }
})

/**
 * What is wrong with a database named to a command, if anything: nothing at all, or SQLite's in-memory
 * database, which would hold the run only until the command ends.
 */
export const databaseProblem = (target: string): string | undefined =>
  target.trim() === ""
    ? "is empty: give a SQLite file or a postgres:// URL"
    : target === ":memory:" || /^file:.*(?::memory:|[?&]mode=memory(&|$))/.test(target)
    ? `names SQLite's in-memory database, gone with the run in it when the command ends: give a SQLite file or a postgres:// URL`
    : undefined

/** `TRADE_EXEC_DB`, which `--db` overrides: set, it names a database; set empty, it is refused. */
export const databaseConfig = variable("TRADE_EXEC_DB", (text) => {
  const problem = databaseProblem(text)
  return problem === undefined ? Either.right(text) : Either.left(`${problem}, or unset it`)
})

/** `TRADE_EXEC_PAPER_COMMISSION`, which `--commission` overrides. */
export const commissionConfig = variable("TRADE_EXEC_PAPER_COMMISSION", (text) =>
  ["ib-fixed", "ib-tiered", "none"].includes(text.trim())
    ? Either.right(text.trim())
    : Either.left("must be ib-fixed, ib-tiered or none"))

/** `TRADE_EXEC_PAPER_SLIPPAGE_BPS`, which `--slippage-bps` overrides; checked as the flag is. */
export const slippageConfig = (check: (d: Dec.Decimal) => string | undefined) =>
  Config.map(decimalVariable("TRADE_EXEC_PAPER_SLIPPAGE_BPS", check), Dec.toString)
