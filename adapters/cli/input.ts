/**
 * Reading what the command line hands over: decimal flags (exactly, never through a double) and the
 * `--risk` JSON file, with errors that name the flag or the file and the field.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import { RiskLimits, RiskPolicy } from "../../src/domain/Risk.js"
import { readText } from "../csv/readers.js"
import * as ExactJson from "../lean/ExactJson.js"
import * as Slippage from "../mock/Slippage.js"
import { databaseConfig, databaseProblem } from "./environment.js"

export const COMMAND_LINE = "command line"

/** A decimal flag, read exactly (`--portfolio-value 1e6` and `--cash-buffer 0.02` as written) and within the input range. */
export const decimalFlag = (flag: string, raw: string, check?: (d: Dec.Decimal) => string | undefined) =>
  Either.flatMap(Dec.readInput(raw), (value) => {
    const problem = check?.(value)
    return problem === undefined ? Either.right(value) : Either.left(problem)
  }).pipe(Either.mapLeft((reason) => new InvalidInput({ source: COMMAND_LINE, field: `--${flag}`, value: raw, reason })))

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A duration flag: a whole number and a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `90s`, `15m`, `6h`; at most
 * 366 days. Absent: zero.
 */
export const durationFlag = (flag: string, raw: Option.Option<string>) => {
  if (Option.isNone(raw)) return Either.right(Duration.zero)
  const text = raw.value.trim()
  const match = /^(\d{1,12})(ms|s|m|h|d)$/.exec(text)
  const millis = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS[match[2]!]!
  return Number.isFinite(millis) && millis <= 366 * DURATION_UNITS.d!
    ? Either.right(Duration.millis(millis))
    : Either.left(new InvalidInput({
      source: COMMAND_LINE,
      field: `--${flag}`,
      value: raw.value,
      reason: "must be a whole number with a unit ms, s, m, h or d (e.g. 90s, 15m, 6h), at most 366d"
    }))
}

export const positive = (d: Dec.Decimal) => (Dec.isPositive(d) ? undefined : "must be greater than zero")
export const nonNegative = (d: Dec.Decimal) => (Dec.isNegative(d) ? "must not be negative" : undefined)

/** `--slippage-bps` and `TRADE_EXEC_PAPER_SLIPPAGE_BPS` alike: what the paper broker can fill at. */
export const slippageBpsCheck = (bps: Dec.Decimal) => Slippage.problem({ _tag: "FixedBps", bps })

/**
 * `--db`, else `TRADE_EXEC_DB`, else `./trade-exec.db`. Empty (`--db ""`, `TRADE_EXEC_DB=`) or `:memory:` is
 * refused: SQLite would open a throwaway database that is gone when the command ends, with the run in it.
 */
export const databaseOption = Options.text("db").pipe(
  Options.withPseudoName("FILE_OR_URL"),
  Options.withDescription("SQLite file or postgres:// URL (default ./trade-exec.db, or env TRADE_EXEC_DB)"),
  Options.mapEffect((target) => {
    const problem = databaseProblem(target)
    return problem === undefined ? Effect.succeed(target) : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--db ${problem}`)))
  }),
  Options.withFallbackConfig(databaseConfig),
  Options.withDefault("trade-exec.db")
)

/** The flag of each build parameter the command line sets, for errors the build's own check finds. */
const PARAM_FLAGS: Readonly<Record<string, string>> = {
  portfolioValue: "--portfolio-value",
  cash: "--cash",
  cashBufferRatio: "--cash-buffer",
  lotSize: "--lot-size",
  orderType: "--order-type",
  limitOffsetBps: "--limit-offset-bps",
  minOrderNotional: "--min-order-notional",
  modelVersion: "--model-version"
}

/**
 * An error of the build's check (`BuildInput.validate`) as the command line's: a parameter is named by the
 * flag that set it (`--limit-offset-bps`, not `limitOffsetBps`); errors about a file are left as they are.
 */
export const namedByFlag = (error: InvalidInput): InvalidInput => {
  const flag = error.source === COMMAND_LINE ? PARAM_FLAGS[error.field] : undefined
  return flag === undefined ? error : new InvalidInput({ ...error, field: flag })
}

const POLICY_CHOICES = "must be block_run, drop_orders or fit"


const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

const LIMIT_KEYS = new Set(Object.keys(RiskLimits.fields))
/** Limits that are not decimals: a count, flags and a list of symbols. */
const COUNT_KEY = "maxOrdersPerRun"
const NON_DECIMAL_KEYS = new Set([COUNT_KEY, "restrictedSymbols", "longOnly", "cashSufficiency"])

/** A risk file: every limit optional, keys in camelCase or snake_case, plus an optional `policy`. */
export interface RiskFile {
  readonly limits: RiskLimits
  readonly policy?: RiskPolicy
}

/**
 * Reads `--risk`: a JSON object of limits (`{"max_order_notional": 5000, "restricted_symbols": ["XYZ"]}`).
 * Numbers are read exactly as written, never through a binary double (`123456789012345678901234567890`
 * keeps its 30 digits), and within the input range; a decimal limit may also be written as a string.
 * An unknown key is an error, not a limit silently not applied, and so is a limit given twice (the same
 * key, or its snake_case and camelCase spellings), which would otherwise keep whichever came last.
 * Errors name the key as the file writes it.
 */
export const readRiskFile = Effect.fn("Cli.readRiskFile")(function*(path: string) {
  const text = yield* readText(path)
  const fail = (field: string, reason: string, value?: string) =>
    new InvalidInput({ source: path, field, reason, ...(value === undefined ? {} : { value }) })
  const parsed = ExactJson.parse(text)
  if (Either.isLeft(parsed)) {
    const error = parsed.left
    return yield* error._tag === "JsonDuplicateKey"
      ? fail(error.key, "is given twice; give each limit once")
      : fail("json", `is not valid JSON: ${error.message}`)
  }
  const json = parsed.right
  if (!ExactJson.isObject(json)) return yield* fail("json", "must be an object of risk limits")
  const limits: Record<string, unknown> = {}
  /** The key as written, by the limit it sets. */
  const written = new Map<string, string>()
  let policy: ExactJson.JsonValue | undefined
  for (const [rawKey, value] of Object.entries(json)) {
    const key = camel(rawKey)
    const shown = ExactJson.stringify(value)
    if (key !== "policy" && !LIMIT_KEYS.has(key)) {
      return yield* fail(rawKey, `is not a risk limit (known: ${[...LIMIT_KEYS].join(", ")}, policy)`)
    }
    const earlier = written.get(key)
    if (earlier !== undefined) {
      return yield* fail(rawKey, `sets the same limit as ${JSON.stringify(earlier)}; give each limit once`, shown)
    }
    written.set(key, rawKey)
    if (key === "policy") {
      policy = value
    } else if (!NON_DECIMAL_KEYS.has(key)) {
      // A decimal limit: its text exactly, as a number or a string.
      const raw = value instanceof ExactJson.JsonNumber ? value.text : value
      if (typeof raw !== "string") return yield* fail(rawKey, "must be a number", shown)
      const decimal = Dec.readInput(raw)
      if (Either.isLeft(decimal)) return yield* fail(rawKey, decimal.left, shown)
      limits[key] = Dec.toString(decimal.right)
    } else if (key === COUNT_KEY && value instanceof ExactJson.JsonNumber) {
      const count = ExactJson.integer(value)
      if (Option.isNone(count)) return yield* fail(rawKey, "must be a whole number", shown)
      limits[key] = count.value
    } else {
      limits[key] = value
    }
  }
  const decoded = Schema.decodeUnknownEither(RiskLimits)(limits, { onExcessProperty: "error" })
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    const key = String(issue?.path[0] ?? "json")
    return yield* fail(written.get(key) ?? key, issue?.message ?? "is not valid", ExactJson.stringify(json[written.get(key) ?? key] ?? null))
  }
  if (policy !== undefined && !Schema.is(RiskPolicy)(policy)) {
    return yield* fail(written.get("policy")!, POLICY_CHOICES, ExactJson.stringify(policy))
  }
  return { limits: decoded.right, ...(policy === undefined ? {} : { policy }) } satisfies RiskFile
})
