/**
 * Reading what the command line hands over: decimal flags (exactly, never through a double) and the
 * `--risk` JSON file, with errors that name the flag or the file and the field.
 */
import { Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import { RiskLimits, RiskPolicy } from "../../src/domain/Risk.js"
import { readText } from "../csv/readers.js"

export const COMMAND_LINE = "command line"

/** A decimal flag, read exactly: `--portfolio-value 1e6` and `--cash-buffer 0.02` as written. */
export const decimalFlag = (flag: string, raw: string, check?: (d: Dec.Decimal) => string | undefined) =>
  Either.flatMap(Dec.read(raw), (value) => {
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

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

const LIMIT_KEYS = new Set(Object.keys(RiskLimits.fields))

/** A risk file: every limit optional, keys in camelCase or snake_case, plus an optional `policy`. */
export interface RiskFile {
  readonly limits: RiskLimits
  readonly policy?: RiskPolicy
}

/**
 * Reads `--risk`: a JSON object of limits (`{"max_order_notional": 5000, "restricted_symbols": ["XYZ"]}`).
 * Numbers are read as the decimal JavaScript prints for them (the shortest text that round-trips), which is
 * the text written for any number of up to 15 significant digits; write longer ones as strings.
 * An unknown key is an error, not a limit silently not applied.
 */
export const readRiskFile = Effect.fn("Cli.readRiskFile")(function*(path: string) {
  const text = yield* readText(path)
  const fail = (field: string, reason: string, value?: string) =>
    new InvalidInput({ source: path, field, reason, ...(value === undefined ? {} : { value }) })
  const json = yield* Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => fail("json", `is not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
  })
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return yield* fail("json", "must be an object of risk limits")
  }
  const limits: Record<string, unknown> = {}
  let policy: unknown
  for (const [rawKey, value] of Object.entries(json)) {
    const key = camel(rawKey)
    if (key === "policy") {
      policy = value
      continue
    }
    if (!LIMIT_KEYS.has(key)) {
      return yield* fail(rawKey, `is not a risk limit (known: ${[...LIMIT_KEYS].join(", ")}, policy)`)
    }
    // Decimal limits are text in the domain; the count and the flags stay as JSON has them.
    limits[key] = typeof value === "number" && key !== "maxOrdersPerRun" ? String(value) : value
  }
  const decoded = Schema.decodeUnknownEither(RiskLimits)(limits, { onExcessProperty: "error" })
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    const field = String(issue?.path[0] ?? "json")
    return yield* fail(field, issue?.message ?? "is not valid", JSON.stringify(limits[field]))
  }
  if (policy !== undefined && !Schema.is(RiskPolicy)(policy)) {
    return yield* fail("policy", "must be block_run or drop_orders", JSON.stringify(policy))
  }
  return { limits: decoded.right, ...(policy === undefined ? {} : { policy: policy as RiskPolicy }) } satisfies RiskFile
})
