// As of commit 92e9b90, before this round of performance work: the reference the differential property
// tests hold the current code to. Kept as it was; not used by the library.
/**
 * What the `OrderBuilder` accepts, and its validation into a `BuildPlan`.
 *
 * Input comes from files and hosts, so every value is `unknown` until it is read here; a bad value is an
 * `InvalidInput` naming its source, row and field, never a row quietly skipped. Typed domain values
 * (`SnapshotItem`, `Quote`, `Position`, `Security`) are accepted as they are.
 */
import { BigDecimal, Either } from "effect"
import * as Dec from "./Decimal.js"
import { describeValue, InvalidInput } from "../../../src/domain/errors.js"
import { normalizeSymbol, type RunId, type Symbol } from "../../../src/domain/Ids.js"
import type { Security } from "../../../src/domain/Market.js"
import type { OrderType } from "../../../src/domain/Order.js"
import type { BuilderSettings } from "../../../src/domain/Run.js"
import type { SnapshotItem } from "../../../src/domain/Snapshot.js"

/** `row` is the 1-based data row to name in errors; by default the position in the array. */
export interface ItemInput {
  readonly symbol: unknown
  readonly weight: unknown
  readonly price?: unknown
  readonly sector?: unknown
  readonly score?: unknown
  readonly rank?: unknown
  readonly row?: number
}

export interface PriceInput {
  readonly symbol: unknown
  readonly price: unknown
  readonly row?: number
}

export interface PositionInput {
  readonly symbol: unknown
  readonly quantity: unknown
  readonly avgCost?: unknown
  readonly row?: number
}

export interface SecurityInput {
  readonly symbol: unknown
  readonly sector?: unknown
  readonly lotSize?: unknown
  readonly tickSize?: unknown
  readonly minQuantity?: unknown
  readonly row?: number
}

/** Names for the sources of input, used in error messages (file paths, usually). */
export interface InputSources {
  readonly items?: string
  readonly prices?: string
  readonly positions?: string
  readonly securities?: string
  readonly params?: string
}

export interface BuildInput {
  readonly runId: string
  readonly items: ReadonlyArray<ItemInput>
  /** Reference prices; a symbol missing here falls back to its snapshot item's price. */
  readonly prices?: ReadonlyArray<PriceInput>
  /** Current signed positions; absent or empty = start from cash. */
  readonly positions?: ReadonlyArray<PositionInput>
  readonly securities?: ReadonlyArray<SecurityInput>
  readonly portfolioValue: unknown
  /** Cash available; by default the portfolio value less the market value of the positions. */
  readonly cash?: unknown
  /** Fraction of the portfolio value kept in cash, in [0, 1). Default 0. */
  readonly cashBufferRatio?: unknown
  /** Lot size for symbols the securities table does not size. Default 1. */
  readonly lotSize?: unknown
  /** `MKT` (default) or `LMT`. */
  readonly orderType?: unknown
  readonly limitPrice?: unknown
  /** For `LMT`: the limit as an offset from the reference price, in bps (buys above, sells below). */
  readonly limitOffsetBps?: unknown
  /** Tick size for symbols the securities table does not give one; limit prices are rounded to it. */
  readonly tickSize?: unknown
  readonly minOrderNotional?: unknown
  /** Sell held symbols the decision does not mention. Default false: they are left alone. */
  readonly liquidateMissing?: boolean
  readonly modelVersion?: string
  readonly sources?: InputSources
}

/** A validated build: canonical symbols, exact decimals, defaults applied, cash resolved. */
export interface BuildPlan {
  readonly runId: RunId
  readonly settings: BuilderSettings
  /** In input order. */
  readonly items: ReadonlyArray<SnapshotItem>
  readonly prices: ReadonlyMap<Symbol, Dec.Decimal>
  /** Non-zero positions only. */
  readonly positions: ReadonlyMap<Symbol, Dec.Decimal>
  readonly securities: ReadonlyMap<Symbol, Security>
}

export const DEFAULT_MODEL_VERSION = "default"

/** Thrown inside `validate` only, to stop at the first bad value; never escapes it. */
class Rejected {
  constructor(readonly error: InvalidInput) {}
}

const reject = (source: string, row: number | undefined, field: string, value: unknown, reason: string): never => {
  throw new Rejected(
    new InvalidInput({
      source,
      ...(row === undefined ? {} : { row }),
      field,
      ...(value === undefined ? {} : { value: describeValue(value) }),
      reason
    })
  )
}

const isAbsent = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === "string" && value.trim() === "")

const decimal = (source: string, row: number | undefined, field: string, value: unknown): Dec.Decimal =>
  Either.getOrElse(Dec.read(value), (reason) => reject(source, row, field, value, reason))

const optionalDecimal = (
  source: string,
  row: number | undefined,
  field: string,
  value: unknown,
  check?: (d: Dec.Decimal) => string | undefined
): Dec.Decimal | undefined => {
  if (isAbsent(value)) return undefined
  const parsed = BigDecimal.isBigDecimal(value) ? value : decimal(source, row, field, value)
  const problem = check?.(parsed)
  return problem === undefined ? parsed : reject(source, row, field, value, problem)
}

const optionalWholeNumber = (source: string, row: number, field: string, value: unknown): number | undefined => {
  const d = optionalDecimal(source, row, field, value, (d) => (Dec.isMultipleOf(d, Dec.ONE) ? undefined : "must be a whole number"))
  if (d === undefined) return undefined
  const n = Number(Dec.toString(d))
  return Number.isSafeInteger(n) ? n : reject(source, row, field, value, "is too large")
}

/**
 * An item that is already a valid `SnapshotItem` (a host's typed value, one read back from storage):
 * taken as it is rather than rebuilt, which is most of the cost of validating a large decision.
 */
const isCanonicalItem = (row: ItemInput, sym: Symbol): row is SnapshotItem =>
  row.symbol === sym &&
  BigDecimal.isBigDecimal(row.weight) &&
  (row.price === undefined || (BigDecimal.isBigDecimal(row.price) && Dec.isPositive(row.price))) &&
  (row.score === undefined || BigDecimal.isBigDecimal(row.score)) &&
  (row.rank === undefined || (typeof row.rank === "number" && Number.isSafeInteger(row.rank))) &&
  (row.sector === undefined || (typeof row.sector === "string" && row.sector !== "" && row.sector === row.sector.trim())) &&
  onlyItemKeys(row)

const ITEM_KEYS = new Set(["symbol", "weight", "score", "rank", "sector", "price"])

/** No member beyond an item's own, and none set to `undefined` (a stored item would differ). */
const onlyItemKeys = (row: object): boolean => {
  for (const key in row) {
    if (!ITEM_KEYS.has(key) || (row as Record<string, unknown>)[key] === undefined) return false
  }
  return true
}

const positive = (d: Dec.Decimal) => (Dec.isPositive(d) ? undefined : "must be greater than zero")
const nonNegative = (d: Dec.Decimal) => (Dec.isNegative(d) ? "must not be negative" : undefined)

const symbol = (source: string, row: number, value: unknown): Symbol => {
  if (typeof value !== "string" || value.trim() === "") return reject(source, row, "symbol", value, "is empty")
  return normalizeSymbol(value) ??
    reject(
      source,
      row,
      "symbol",
      value,
      "is not a valid symbol (a letter or digit, then letters, digits, '.', '/', '-', '_' or spaces; at most 32)"
    )
}

const text = (value: unknown): string | undefined =>
  isAbsent(value) ? undefined : String(value).trim()

/** Reads a table keyed by symbol, refusing a symbol that appears twice. */
const table = <I extends { readonly symbol: unknown; readonly row?: number }, A>(
  source: string,
  rows: ReadonlyArray<I>,
  read: (row: I, rowNumber: number, symbol: Symbol) => A
): Map<Symbol, A> => {
  const out = new Map<Symbol, A>()
  for (let i = 0; i < rows.length; i++) {
    const input = rows[i]!
    const rowNumber = input.row ?? i + 1
    const sym = symbol(source, rowNumber, input.symbol)
    if (out.has(sym)) {
      // Only on the way to an error: find where the symbol first appeared.
      const first = rows.findIndex((r) => typeof r.symbol === "string" && normalizeSymbol(r.symbol) === sym)
      reject(source, rowNumber, "symbol", input.symbol, `appears twice (first on row ${rows[first]!.row ?? first + 1})`)
    }
    out.set(sym, read(input, rowNumber, sym))
  }
  return out
}

const orderType = (source: string, value: unknown): OrderType => {
  if (isAbsent(value)) return "MKT"
  const upper = typeof value === "string" ? value.trim().toUpperCase() : value
  return upper === "MKT" || upper === "LMT" ? upper : reject(source, undefined, "orderType", value, "must be MKT or LMT")
}

const validateUnsafe = (input: BuildInput): BuildPlan => {
  const src = {
    items: input.sources?.items ?? "items",
    prices: input.sources?.prices ?? "prices",
    positions: input.sources?.positions ?? "positions",
    securities: input.sources?.securities ?? "securities",
    params: input.sources?.params ?? "params"
  }
  const p = src.params

  const portfolioValue = optionalDecimal(p, undefined, "portfolioValue", input.portfolioValue, positive) ??
    reject(p, undefined, "portfolioValue", input.portfolioValue, "is required")
  const cashBufferRatio = optionalDecimal(p, undefined, "cashBufferRatio", input.cashBufferRatio, (d) =>
    Dec.isNegative(d) || Dec.gte(d, Dec.ONE) ? "must be at least 0 and less than 1" : undefined) ?? Dec.ZERO
  const lotSize = optionalDecimal(p, undefined, "lotSize", input.lotSize, positive) ?? Dec.ONE
  const type = orderType(p, input.orderType)
  const limitPrice = optionalDecimal(p, undefined, "limitPrice", input.limitPrice, positive)
  const limitOffsetBps = optionalDecimal(p, undefined, "limitOffsetBps", input.limitOffsetBps, (d) =>
    Dec.gt(Dec.abs(d), Dec.unsafe(9999)) ? "must be between -9999 and 9999" : undefined)
  const tickSize = optionalDecimal(p, undefined, "tickSize", input.tickSize, positive)
  const minOrderNotional = optionalDecimal(p, undefined, "minOrderNotional", input.minOrderNotional, nonNegative)
  const explicitCash = optionalDecimal(p, undefined, "cash", input.cash)
  if (type === "LMT" && limitPrice === undefined && limitOffsetBps === undefined) {
    reject(p, undefined, "orderType", "LMT", "LMT orders need a limitPrice or a limitOffsetBps")
  }
  const modelVersion = input.modelVersion === undefined ? DEFAULT_MODEL_VERSION : input.modelVersion.trim()
  if (modelVersion === "") reject(p, undefined, "modelVersion", input.modelVersion, "is empty")
  if (typeof input.runId !== "string" || input.runId.trim() === "") reject(p, undefined, "runId", input.runId, "is empty")

  const itemRows = table(src.items, input.items, (row, n, sym): SnapshotItem => {
    if (isCanonicalItem(row, sym)) return row
    const weight = isAbsent(row.weight)
      ? reject(src.items, n, "weight", row.weight, "is empty")
      : decimal(src.items, n, "weight", row.weight)
    const price = optionalDecimal(src.items, n, "price", row.price, positive)
    const score = optionalDecimal(src.items, n, "score", row.score)
    const rank = typeof row.rank === "number" && Number.isSafeInteger(row.rank)
      ? row.rank
      : optionalWholeNumber(src.items, n, "rank", row.rank)
    const sector = text(row.sector)
    const item: { -readonly [K in keyof SnapshotItem]: SnapshotItem[K] } = { symbol: sym, weight }
    if (score !== undefined) item.score = score
    if (rank !== undefined) item.rank = rank
    if (sector !== undefined) item.sector = sector
    if (price !== undefined) item.price = price
    return item
  })
  const prices = table(src.prices, input.prices ?? [], (row, n) =>
    optionalDecimal(src.prices, n, "price", row.price, positive) ??
      reject(src.prices, n, "price", row.price, "is empty"))
  const positionRows = table(src.positions, input.positions ?? [], (row, n) =>
    optionalDecimal(src.positions, n, "quantity", row.quantity) ??
      reject(src.positions, n, "quantity", row.quantity, "is empty"))
  const securities = table(src.securities, input.securities ?? [], (row, n, sym): Security => {
    const sector = text(row.sector)
    const lot = optionalDecimal(src.securities, n, "lot_size", row.lotSize, positive)
    const tick = optionalDecimal(src.securities, n, "tick_size", row.tickSize, positive)
    const minQuantity = optionalDecimal(src.securities, n, "min_quantity", row.minQuantity, nonNegative)
    return {
      symbol: sym,
      ...(sector === undefined ? {} : { sector }),
      ...(lot === undefined ? {} : { lotSize: lot }),
      ...(tick === undefined ? {} : { tickSize: tick }),
      ...(minQuantity === undefined ? {} : { minQuantity })
    }
  })

  const positions = new Map<Symbol, Dec.Decimal>()
  for (const [sym, quantity] of positionRows) if (!Dec.isZero(quantity)) positions.set(sym, quantity)

  const cash = explicitCash ?? derivedCash(portfolioValue, positions, prices, itemRows, src.params)

  return {
    runId: input.runId.trim() as RunId,
    settings: {
      portfolioValue,
      cash,
      cashBufferRatio,
      lotSize,
      orderType: type,
      ...(limitPrice === undefined ? {} : { limitPrice }),
      ...(limitOffsetBps === undefined ? {} : { limitOffsetBps }),
      ...(tickSize === undefined ? {} : { tickSize }),
      ...(minOrderNotional === undefined ? {} : { minOrderNotional }),
      liquidateMissing: input.liquidateMissing ?? false,
      modelVersion
    },
    items: [...itemRows.values()],
    prices,
    positions,
    securities
  }
}

/** Portfolio value less the market value of the positions; every held symbol needs a price for it. */
const derivedCash = (
  portfolioValue: Dec.Decimal,
  positions: ReadonlyMap<Symbol, Dec.Decimal>,
  prices: ReadonlyMap<Symbol, Dec.Decimal>,
  items: ReadonlyMap<Symbol, SnapshotItem>,
  source: string
): Dec.Decimal => {
  let marketValue = Dec.ZERO
  for (const [sym, quantity] of positions) {
    const price = prices.get(sym) ?? items.get(sym)?.price ??
      reject(source, undefined, "cash", undefined, `cannot be derived: no price for the held symbol ${sym}; give the cash explicitly`)
    marketValue = Dec.add(marketValue, Dec.mul(quantity, price))
  }
  return Dec.sub(portfolioValue, marketValue)
}

/** Validates a build input; the first bad value is reported. */
export const validate = (input: BuildInput): Either.Either<BuildPlan, InvalidInput> => {
  try {
    return Either.right(validateUnsafe(input))
  } catch (error) {
    if (error instanceof Rejected) return Either.left(error.error)
    throw error
  }
}
