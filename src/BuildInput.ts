/**
 * What the `OrderBuilder` accepts, and its validation into a `BuildPlan`.
 *
 * Input comes from files and hosts, so every value is `unknown` until it is read here; a bad value is an
 * `InvalidInput` naming its source, row and field, never a row quietly skipped. Typed domain values
 * (`SnapshotItem`, `Quote`, `Position`, `Security`) are accepted as they are.
 */
import { Either } from "effect"
import * as ClientOrderId from "./ClientOrderId.js"
import * as Dec from "./domain/Decimal.js"
import type { InvalidInput } from "./domain/errors.js"
import { normalizeSymbol, type RunId, type Symbol } from "./domain/Ids.js"
import type { Security } from "./domain/Market.js"
import type { OrderType } from "./domain/Order.js"
import type { BuilderSettings } from "./domain/Run.js"
import type { SnapshotItem } from "./domain/Snapshot.js"
import { nonNegative, positive, readSymbol, reject, untilRejected } from "./internal/inputChecks.js"
import * as SymbolIndex from "./internal/SymbolIndex.js"

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
  /** How client order ids are derived: the current scheme by default; 1 rebuilds a run of earlier versions. */
  readonly clientOrderIdScheme?: unknown
  readonly sources?: InputSources
}

/** A validated build: canonical symbols, exact decimals, defaults applied, cash resolved. */
export interface BuildPlan {
  readonly runId: RunId
  readonly settings: BuilderSettings
  /** In input order. */
  readonly items: ReadonlyArray<SnapshotItem>
  /** The input joined by symbol, as the builder walks it. */
  readonly joined: Joined
  readonly securities: ReadonlyMap<Symbol, Security>
  /** The same items by symbol. */
  readonly itemsBySymbol: ReadonlyMap<Symbol, SnapshotItem>
  /** The prices table, in its row order. */
  readonly prices: ReadonlyMap<Symbol, Dec.Decimal>
  /** Non-zero positions only, in their row order. */
  readonly positions: ReadonlyMap<Symbol, Dec.Decimal>
}

/**
 * The items with their prices and positions, joined once: by item index, what the prices table gives
 * the item and the (non-zero) position held in it; and the positions in symbols the items do not list.
 * The builder walks arrays, not tables: at 50,000 names a hash lookup costs far more than the arithmetic
 * it serves, and prices come in the items' order (the flow asks the feed for the items' symbols), so
 * most of the join is a walk.
 */
export interface Joined {
  /** True when the items are in ascending symbol order (then no symbol repeats). */
  readonly ascending: boolean
  readonly price: ReadonlyArray<Dec.Decimal | undefined>
  readonly held: ReadonlyArray<Dec.Decimal | undefined>
  /** In row order, each with the price the prices table gives it, if any. */
  readonly heldOutside: ReadonlyArray<{ readonly symbol: Symbol; readonly quantity: Dec.Decimal; readonly price: Dec.Decimal | undefined }>
}

export const DEFAULT_MODEL_VERSION = "default"

const isAbsent = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === "string" && value.trim() === "")

/**
 * A decimal: one given as a decimal as it is (a host's value, or one the store holds, such as a paper
 * account's position, which may be larger than any input), one given as text or a number within the
 * input range, like every value a person writes.
 */
const decimal = (source: string, row: number | undefined, field: string, value: unknown): Dec.Decimal =>
  Dec.isDecimal(value) ? value : Either.getOrElse(Dec.readInput(value), (reason) => reject(source, row, field, value, reason))

const optionalDecimal = (
  source: string,
  row: number | undefined,
  field: string,
  value: unknown,
  check?: (d: Dec.Decimal) => string | undefined
): Dec.Decimal | undefined => {
  if (isAbsent(value)) return undefined
  const parsed = decimal(source, row, field, value)
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
  Dec.isDecimal(row.weight) &&
  (row.price === undefined || (Dec.isDecimal(row.price) && Dec.isPositive(row.price))) &&
  (row.score === undefined || Dec.isDecimal(row.score)) &&
  (row.rank === undefined || (typeof row.rank === "number" && Number.isSafeInteger(row.rank))) &&
  (row.sector === undefined || (typeof row.sector === "string" && row.sector !== "" && row.sector === row.sector.trim())) &&
  onlyItemKeys(row)

/** No member beyond an item's own, and none set to `undefined` (a stored item would differ). */
const onlyItemKeys = (row: object): boolean => {
  for (const key in row) {
    switch (key) {
      case "symbol":
      case "weight":
      case "score":
      case "rank":
      case "sector":
      case "price":
        if ((row as Record<string, unknown>)[key] === undefined) return false
        continue
      default:
        return false
    }
  }
  return true
}

const optionalText = (value: unknown): string | undefined =>
  isAbsent(value) ? undefined : String(value).trim()

/** Reads each row's symbol in row order and hands the row on. */
const rowsOf = <I extends { readonly symbol: unknown; readonly row?: number }>(
  source: string,
  rows: ReadonlyArray<I>,
  read: (row: I, rowNumber: number, symbol: Symbol) => void
): void => {
  for (let i = 0; i < rows.length; i++) {
    const input = rows[i]!
    const rowNumber = input.row ?? i + 1
    read(input, rowNumber, readSymbol(source, rowNumber, input.symbol))
  }
}

/** Refuses a row whose symbol an earlier row of the same table has, naming where it first appeared. */
const duplicate = <I extends { readonly symbol: unknown; readonly row?: number }>(
  source: string,
  rows: ReadonlyArray<I>,
  input: I,
  rowNumber: number,
  sym: Symbol
): never => {
  // Only on the way to an error: find where the symbol first appeared.
  const first = rows.findIndex((r) => typeof r.symbol === "string" && normalizeSymbol(r.symbol) === sym)
  return reject(source, rowNumber, "symbol", input.symbol, `appears twice (first on row ${rows[first]!.row ?? first + 1})`)
}

/** Reads a table keyed by symbol, refusing a symbol that appears twice. */
const table = <I extends { readonly symbol: unknown; readonly row?: number }, A>(
  source: string,
  rows: ReadonlyArray<I>,
  read: (row: I, rowNumber: number, symbol: Symbol) => A
): Map<Symbol, A> => {
  const out = new Map<Symbol, A>()
  rowsOf(source, rows, (input, rowNumber, sym) => {
    if (out.has(sym)) duplicate(source, rows, input, rowNumber, sym)
    out.set(sym, read(input, rowNumber, sym))
  })
  return out
}

/** A decision row as a snapshot item: taken as it is when it already is one, else read field by field. */
const itemOf = (source: string, row: ItemInput, n: number, sym: Symbol): SnapshotItem => {
  if (isCanonicalItem(row, sym)) return row
  const weight = isAbsent(row.weight)
    ? reject(source, n, "weight", row.weight, "is empty")
    : decimal(source, n, "weight", row.weight)
  const price = optionalDecimal(source, n, "price", row.price, positive)
  const score = optionalDecimal(source, n, "score", row.score)
  const rank = typeof row.rank === "number" && Number.isSafeInteger(row.rank)
    ? row.rank
    : optionalWholeNumber(source, n, "rank", row.rank)
  const sector = optionalText(row.sector)
  const item: { -readonly [K in keyof SnapshotItem]: SnapshotItem[K] } = { symbol: sym, weight }
  if (score !== undefined) item.score = score
  if (rank !== undefined) item.rank = rank
  if (sector !== undefined) item.sector = sector
  if (price !== undefined) item.price = price
  return item
}

const orderType = (source: string, value: unknown): OrderType => {
  if (isAbsent(value)) return "MKT"
  const upper = typeof value === "string" ? value.trim().toUpperCase() : value
  return upper === "MKT" || upper === "LMT" ? upper : reject(source, undefined, "orderType", value, "must be MKT or LMT")
}

/** The name each kind of input is reported under. */
interface Sources {
  readonly items: string
  readonly prices: string
  readonly positions: string
  readonly securities: string
  readonly params: string
}

const sourcesOf = (input: BuildInput): Sources => ({
  items: input.sources?.items ?? "items",
  prices: input.sources?.prices ?? "prices",
  positions: input.sources?.positions ?? "positions",
  securities: input.sources?.securities ?? "securities",
  params: input.sources?.params ?? "params"
})

/** The run's parameters read: the builder's settings but its cash, which may have to be derived. */
interface Params {
  readonly settings: Omit<BuilderSettings, "cash">
  /** The cash as given, if it was. */
  readonly cash: Dec.Decimal | undefined
}

const readParams = (input: BuildInput, p: string): Params => {
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
  const cash = optionalDecimal(p, undefined, "cash", input.cash)
  if (type === "LMT" && limitPrice === undefined && limitOffsetBps === undefined) {
    reject(p, undefined, "orderType", "LMT", "LMT orders need a limitPrice or a limitOffsetBps")
  }
  const modelVersion = input.modelVersion === undefined ? DEFAULT_MODEL_VERSION : input.modelVersion.trim()
  if (modelVersion === "") reject(p, undefined, "modelVersion", input.modelVersion, "is empty")
  const clientOrderIdScheme = input.clientOrderIdScheme ?? ClientOrderId.CURRENT_SCHEME
  if (clientOrderIdScheme !== 1 && clientOrderIdScheme !== 2) {
    reject(p, undefined, "clientOrderIdScheme", input.clientOrderIdScheme, "must be 1 or 2")
  }
  if (typeof input.runId !== "string" || input.runId.trim() === "") reject(p, undefined, "runId", input.runId, "is empty")
  return {
    settings: {
      portfolioValue,
      cashBufferRatio,
      lotSize,
      orderType: type,
      ...(limitPrice === undefined ? {} : { limitPrice }),
      ...(limitOffsetBps === undefined ? {} : { limitOffsetBps }),
      ...(tickSize === undefined ? {} : { tickSize }),
      ...(minOrderNotional === undefined ? {} : { minOrderNotional }),
      liquidateMissing: input.liquidateMissing ?? false,
      modelVersion,
      clientOrderIdScheme: clientOrderIdScheme as ClientOrderId.Scheme
    },
    cash
  }
}

// In every table a row's symbol is judged first — invalid, then seen before — and then its values.

/** The decision's items in row order, with their symbols alongside. */
interface ItemsRead {
  readonly items: Array<SnapshotItem>
  readonly symbols: Array<Symbol>
  /** By symbol; made only once a row breaks ascending symbol order (`undefined` while none does). */
  readonly index: Map<Symbol, number> | undefined
}

/**
 * In symbol order (the usual case) no symbol can repeat, and no table is made: the joins that follow are
 * merges. The table by symbol is made only once a row breaks the order.
 */
const readItems = (source: string, rows: ReadonlyArray<ItemInput>): ItemsRead => {
  const items: Array<SnapshotItem> = []
  const symbols: Array<Symbol> = []
  let index: Map<Symbol, number> | undefined
  rowsOf(source, rows, (row, n, sym) => {
    const k = items.length
    if (index === undefined && k > 0 && !(symbols[k - 1]! < sym)) {
      index = new Map(symbols.map((s, i) => [s, i] as const))
    }
    if (index !== undefined) {
      if (index.has(sym)) duplicate(source, rows, row, n, sym)
      index.set(sym, k)
    }
    symbols.push(sym)
    items.push(itemOf(source, row, n, sym))
  })
  return { items, symbols, index }
}

/** A lookup of items by symbol, for one join (each walks on from its own last match). */
const itemLookup = ({ symbols, index }: ItemsRead): ((sym: Symbol) => number | undefined) => {
  if (index === undefined) return SymbolIndex.ascending(symbols).indexOf
  return (sym) => index.get(sym)
}

/** The prices table joined to the items. */
interface PricesRead {
  /** By item index: the price the table gives the item. */
  readonly ofItem: Array<Dec.Decimal | undefined>
  /** Prices of symbols the items do not list. */
  readonly outside: Map<Symbol, Dec.Decimal>
  /** The rows in their order, for the table by symbol if one is asked for. */
  readonly symbols: Array<Symbol>
  readonly values: Array<Dec.Decimal>
}

/**
 * Joined to the items as they come. In the items' order (the usual case, whatever that order is: the flow
 * asks the feed for the items' symbols) a row is the next item's; otherwise it is looked up.
 */
const readPrices = (source: string, rows: ReadonlyArray<PriceInput>, decision: ItemsRead): PricesRead => {
  const itemSymbols = decision.symbols
  const ofItem: Array<Dec.Decimal | undefined> = new Array(itemSymbols.length).fill(undefined)
  const outside = new Map<Symbol, Dec.Decimal>()
  const symbols: Array<Symbol> = []
  const values: Array<Dec.Decimal> = []
  const itemOfSymbol = itemLookup(decision)
  let next = 0
  rowsOf(source, rows, (row, n, sym) => {
    const k = next < itemSymbols.length && itemSymbols[next] === sym ? next : itemOfSymbol(sym)
    if (k !== undefined ? ofItem[k] !== undefined : outside.has(sym)) duplicate(source, rows, row, n, sym)
    const price = optionalDecimal(source, n, "price", row.price, positive) ?? reject(source, n, "price", row.price, "is empty")
    if (k !== undefined) {
      ofItem[k] = price
      next = k + 1
    } else {
      outside.set(sym, price)
    }
    symbols.push(sym)
    values.push(price)
  })
  return { ofItem, outside, symbols, values }
}

/** The positions joined to the items; zero positions count for duplicates, then drop out. */
interface PositionsRead {
  /** By item index: the non-zero position held in the item. */
  readonly held: Array<Dec.Decimal | undefined>
  /** Positions in symbols the items do not list, in row order, with their prices. */
  readonly heldOutside: Array<{ symbol: Symbol; quantity: Dec.Decimal; price: Dec.Decimal | undefined }>
  /** Non-zero positions in their row order, with the index of their item (-1: none). */
  readonly symbols: Array<Symbol>
  readonly quantities: Array<Dec.Decimal>
  readonly items: Array<number>
}

/** Found among the items by symbol. */
const readPositions = (source: string, rows: ReadonlyArray<PositionInput>, decision: ItemsRead, prices: PricesRead): PositionsRead => {
  const count = decision.symbols.length
  const held: Array<Dec.Decimal | undefined> = new Array(count).fill(undefined)
  const heldSeen: Array<boolean> = new Array(count).fill(false)
  const heldOutsideSeen = new Set<Symbol>()
  const heldOutside: PositionsRead["heldOutside"] = []
  const symbols: Array<Symbol> = []
  const quantities: Array<Dec.Decimal> = []
  const items: Array<number> = []
  const itemOfSymbol = itemLookup(decision)
  rowsOf(source, rows, (row, n, sym) => {
    const k = itemOfSymbol(sym)
    if (k !== undefined) {
      if (heldSeen[k]) duplicate(source, rows, row, n, sym)
      heldSeen[k] = true
    } else {
      const before = heldOutsideSeen.size
      heldOutsideSeen.add(sym)
      if (heldOutsideSeen.size === before) duplicate(source, rows, row, n, sym)
    }
    const quantity = optionalDecimal(source, n, "quantity", row.quantity) ?? reject(source, n, "quantity", row.quantity, "is empty")
    if (!Dec.isZero(quantity)) {
      if (k !== undefined) held[k] = quantity
      else heldOutside.push({ symbol: sym, quantity, price: prices.outside.get(sym) })
      symbols.push(sym)
      quantities.push(quantity)
      items.push(k ?? -1)
    }
  })
  return { held, heldOutside, symbols, quantities, items }
}

const readSecurities = (source: string, rows: ReadonlyArray<SecurityInput>): Map<Symbol, Security> =>
  table(source, rows, (row, n, sym): Security => {
    const sector = optionalText(row.sector)
    const lot = optionalDecimal(source, n, "lot_size", row.lotSize, positive)
    const tick = optionalDecimal(source, n, "tick_size", row.tickSize, positive)
    const minQuantity = optionalDecimal(source, n, "min_quantity", row.minQuantity, nonNegative)
    return {
      symbol: sym,
      ...(sector === undefined ? {} : { sector }),
      ...(lot === undefined ? {} : { lotSize: lot }),
      ...(tick === undefined ? {} : { tickSize: tick }),
      ...(minQuantity === undefined ? {} : { minQuantity })
    }
  })

/**
 * Cash, when not given: the portfolio value less the positions' market value, each at the price its table
 * gives it, else its item's own price.
 */
const derivedCash = (
  params: string,
  portfolioValue: Dec.Decimal,
  decision: ItemsRead,
  prices: PricesRead,
  positions: PositionsRead
): Dec.Decimal => {
  const marketValue = Dec.total()
  for (let p = 0; p < positions.symbols.length; p++) {
    const sym = positions.symbols[p]!
    const k = positions.items[p]!
    const price = k >= 0 ? prices.ofItem[k] ?? decision.items[k]!.price : prices.outside.get(sym)
    if (price === undefined) {
      reject(params, undefined, "cash", undefined, `cannot be derived: no price for the held symbol ${sym}; give the cash explicitly`)
    }
    Dec.addProduct(marketValue, positions.quantities[p]!, price!)
  }
  return Dec.sub(portfolioValue, Dec.valueOf(marketValue))
}

const validateUnsafe = (input: BuildInput): BuildPlan => {
  const src = sourcesOf(input)
  const params = readParams(input, src.params)
  const decision = readItems(src.items, input.items)
  const prices = readPrices(src.prices, input.prices ?? [], decision)
  const positions = readPositions(src.positions, input.positions ?? [], decision, prices)
  const securities = readSecurities(src.securities, input.securities ?? [])
  const cash = params.cash ?? derivedCash(src.params, params.settings.portfolioValue, decision, prices, positions)

  // The tables by symbol, made only if asked for (the builder walks the join).
  const { items } = decision
  const { portfolioValue, ...settings } = params.settings
  let itemsBySymbol: Map<Symbol, SnapshotItem> | undefined
  let priceTable: Map<Symbol, Dec.Decimal> | undefined
  let positionTable: Map<Symbol, Dec.Decimal> | undefined

  return {
    runId: input.runId.trim() as RunId,
    settings: { portfolioValue, cash, ...settings },
    items,
    joined: { ascending: decision.index === undefined, price: prices.ofItem, held: positions.held, heldOutside: positions.heldOutside },
    securities,
    get itemsBySymbol() {
      return itemsBySymbol ??= new Map(items.map((item) => [item.symbol, item] as const))
    },
    get prices() {
      return priceTable ??= new Map(prices.symbols.map((sym, i) => [sym, prices.values[i]!] as const))
    },
    get positions() {
      return positionTable ??= new Map(positions.symbols.map((sym, i) => [sym, positions.quantities[i]!] as const))
    }
  }
}

/** Validates a build input; the first bad value is reported. */
export const validate = (input: BuildInput): Either.Either<BuildPlan, InvalidInput> => untilRejected(() => validateUnsafe(input))
