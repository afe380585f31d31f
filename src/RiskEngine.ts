/**
 * Pre-trade risk: pure rules over the orders of a run and the account they trade.
 *
 * Each rule yields structured violations `{ rule, symbol?, limit, actual }` with the stable reason
 * `rule:SYMBOL` (or just `rule` for a rule over the whole run). Orders that only reduce an existing
 * position (towards zero, never through it) lower risk, so they are exempt from the size minimum, the
 * cash check and the rules that cap exposure; they still obey the hard limits on size, restricted
 * symbols, collars and stale prices.
 *
 * Policies: `block_run` (default) blocks the whole run on any violation; `drop_orders` drops the orders
 * that break a rule of their own and then judges the run-wide rules on what remains, and blocks the run
 * when no order remains; `fit` judges orders already fitted to the limits as `block_run` does, and reports
 * besides what the fit could not meet (`unmet`: positions it may not move), which no order of the run can
 * cure and so blocks nothing.
 */
import * as Dec from "./domain/Decimal.js"
import type { ClientOrderId, Symbol } from "./domain/Ids.js"
import type { Position, Quote } from "./domain/Market.js"
import type { OrderDraft } from "./domain/Order.js"
import type { RiskLimits, RiskPolicy, RiskRule, RiskVerdict, RiskViolation } from "./domain/Risk.js"
import * as SymbolIndex from "./internal/SymbolIndex.js"

export interface RiskInput {
  readonly orders: ReadonlyArray<OrderDraft>
  readonly limits: RiskLimits
  readonly policy?: RiskPolicy
  readonly portfolioValue: Dec.Decimal
  readonly cash: Dec.Decimal
  /** Current signed positions, before the orders. */
  readonly positions: ReadonlyArray<Position>
  /**
   * Prices (with their times) for valuing held symbols and for the staleness rule: a list (a later quote
   * of a symbol wins) or a table by symbol.
   */
  readonly quotes?: ReadonlyArray<Quote> | ReadonlyMap<Symbol, Quote>
  /** Sectors of held symbols that have no order (orders carry their own). */
  readonly sectors?: ReadonlyMap<Symbol, string>
  /** The moment of the check, in epoch milliseconds; needed by `maxPriceAgeSeconds`. */
  readonly asOf?: number
  /** Under `fit`: the limits the fit could not meet, reported with the violations (see `Fit.ts`). */
  readonly unmet?: ReadonlyArray<RiskViolation>
}

const decimalText = Dec.toString
const ratio = (value: Dec.Decimal, base: Dec.Decimal) => decimalText(Dec.divideForReport(value, base))

const violation = (
  rule: RiskRule,
  symbol: Symbol | undefined,
  limit: string,
  actual: string,
  sector?: string
): RiskViolation => {
  const v: { -readonly [K in keyof RiskViolation]: RiskViolation[K] } = {
    rule,
    limit,
    actual,
    reason: symbol === undefined ? rule : `${rule}:${symbol}`
  }
  if (symbol !== undefined) v.symbol = symbol
  if (sector !== undefined) v.sector = sector
  return v
}

/** True when the order only moves an existing position towards zero. */
export const reducesPosition = (order: OrderDraft): boolean => {
  const current = order.currentQuantity
  if (Dec.isZero(current)) return false
  const sellsLong = order.side === "SELL" && Dec.isPositive(current)
  const coversShort = order.side === "BUY" && Dec.isNegative(current)
  return (sellsLong || coversShort) && Dec.lte(order.quantity, Dec.abs(current))
}

/**
 * The symbols the rules look at (held, traded, or both), by slot index: each one's position before the
 * orders (an order's own `currentQuantity` is the position it was built from, so the first order of a
 * symbol wins over the positions list), what it is valued at, and whether it is restricted. Every symbol
 * is placed once, when the book is set up; the rules then walk arrays, which at tens of thousands of names
 * is most of the difference (a hash lookup on a large table costs more than the arithmetic of a rule).
 * Columns, not an object a symbol: at 50,000 names those were 75,000 more objects for the young
 * generation's collector to copy, where arrays this long are allocated in a space it does not copy.
 */
interface Slots {
  readonly symbol: Array<Symbol>
  readonly pre: Array<Dec.Decimal>
  readonly order: Array<OrderDraft | undefined>
  readonly avgCost: Array<Dec.Decimal | undefined>
  readonly quote: Array<Quote | undefined>
  readonly restricted: Uint8Array
  /** The slot of `input.orders[i]`. */
  readonly ofOrder: Int32Array
}

/**
 * What every rule needs, computed once: the slots, and each ratio limit turned into an amount of money
 * (limit × portfolio value), so that a check is one comparison and no division.
 */
interface Context {
  readonly input: RiskInput
  readonly slots: Slots
  readonly maxPositionValue: Dec.Decimal | undefined
  readonly maxSectorValue: Dec.Decimal | undefined
  readonly maxGrossValue: Dec.Decimal | undefined
  readonly maxNetValue: Dec.Decimal | undefined
}

/** The slots while symbols are placed; quotes and restrictions are filled in once every symbol has one. */
class SlotColumns {
  readonly symbol: Array<Symbol> = []
  readonly pre: Array<Dec.Decimal> = []
  readonly order: Array<OrderDraft | undefined> = []
  readonly avgCost: Array<Dec.Decimal | undefined> = []
  readonly ofOrder: Int32Array
  constructor(orders: number) {
    this.ofOrder = new Int32Array(orders)
  }
  add(symbol: Symbol): number {
    this.symbol.push(symbol)
    this.pre.push(Dec.ZERO)
    this.order.push(undefined)
    this.avgCost.push(undefined)
    return this.symbol.length - 1
  }
  position(at: number, p: Position): void {
    this.pre[at] = Dec.add(this.pre[at]!, p.quantity)
    if (p.avgCost !== undefined) this.avgCost[at] = p.avgCost
  }
  orderAt(at: number, i: number, o: OrderDraft): void {
    this.ofOrder[i] = at
    if (this.order[at] === undefined) {
      this.order[at] = o
      this.pre[at] = o.currentQuantity
    }
  }
}

/** The slots placed, and how to find a symbol's slot among them. */
interface PlacedSlots {
  readonly columns: SlotColumns
  readonly find: (symbol: Symbol) => number | undefined
}

const isAscending = (rows: ReadonlyArray<{ readonly symbol: Symbol }>, from: number, to: number): boolean => {
  for (let i = from + 1; i < to; i++) if (rows[i]!.symbol < rows[i - 1]!.symbol) return false
  return true
}

/** Where the orders' second ascending run starts (their length for one run), or `undefined` for more runs. */
const secondRun = (orders: ReadonlyArray<OrderDraft>): number | undefined => {
  let split = orders.length
  for (let i = 1; i < orders.length; i++) {
    if (orders[i]!.symbol < orders[i - 1]!.symbol) {
      split = i
      break
    }
  }
  return isAscending(orders, split, orders.length) ? split : undefined
}

/**
 * The slots, placed by merging positions and orders that come in symbol order: the builder's orders are
 * two runs of it (sells, then buys), positions listed by symbol are one, and then no table of symbols is
 * made (at 50,000 names a table's lookups were a sixth of the core's time, mostly cache misses). The slots
 * are then in symbol order too, and a symbol's slot is found by a walk. `undefined` when the inputs are in
 * no such order.
 */
const slotsByMerge = (input: RiskInput): PlacedSlots | undefined => {
  const { positions, orders } = input
  if (!isAscending(positions, 0, positions.length)) return undefined
  const split = secondRun(orders)
  if (split === undefined) return undefined
  const columns = new SlotColumns(orders.length)
  let p = 0
  let a = 0
  let b = split
  while (p < positions.length || a < split || b < orders.length) {
    let symbol: Symbol | undefined = p < positions.length ? positions[p]!.symbol : undefined
    if (a < split && (symbol === undefined || orders[a]!.symbol < symbol)) symbol = orders[a]!.symbol
    if (b < orders.length && (symbol === undefined || orders[b]!.symbol < symbol)) symbol = orders[b]!.symbol
    const at = columns.add(symbol!)
    for (; p < positions.length && positions[p]!.symbol === symbol; p++) columns.position(at, positions[p]!)
    // The first run holds the lower indices, so the first order of a symbol is met first.
    for (; a < split && orders[a]!.symbol === symbol; a++) columns.orderAt(at, a, orders[a]!)
    for (; b < orders.length && orders[b]!.symbol === symbol; b++) columns.orderAt(at, b, orders[b]!)
  }
  return { columns, find: SymbolIndex.ascending(columns.symbol).indexOf }
}

/** The slots placed through a table of symbols, for inputs in any order. */
const slotsByTable = (input: RiskInput): PlacedSlots => {
  const bySymbol = new Map<Symbol, number>()
  const columns = new SlotColumns(input.orders.length)
  const slotOf = (symbol: Symbol): number => {
    let at = bySymbol.get(symbol)
    if (at === undefined) bySymbol.set(symbol, at = columns.add(symbol))
    return at
  }
  for (const p of input.positions) columns.position(slotOf(p.symbol), p)
  const orders = input.orders
  for (let i = 0; i < orders.length; i++) columns.orderAt(slotOf(orders[i]!.symbol), i, orders[i]!)
  return { columns, find: (symbol) => bySymbol.get(symbol) }
}

const context = (input: RiskInput): Context => {
  const { columns, find } = slotsByMerge(input) ?? slotsByTable(input)
  // Quotes and restricted symbols join the symbols already there (held or traded); any other plays no
  // part. Merged slots are in symbol order, and a feed's quotes usually are too: then a walk, not a table.
  const count = columns.symbol.length
  const quote: Array<Quote | undefined> = new Array(count).fill(undefined)
  const restricted = new Uint8Array(count)
  const join = (q: Quote, symbol: Symbol) => {
    const at = find(symbol)
    if (at !== undefined) quote[at] = q
  }
  const quotes = input.quotes
  if (Array.isArray(quotes)) for (const q of quotes as ReadonlyArray<Quote>) join(q, q.symbol)
  else (quotes as ReadonlyMap<Symbol, Quote> | undefined)?.forEach(join)
  for (const symbol of input.limits.restrictedSymbols ?? []) {
    const at = find(symbol)
    if (at !== undefined) restricted[at] = 1
  }
  const { symbol, pre, order, avgCost, ofOrder } = columns
  const slots: Slots = { symbol, pre, order, avgCost, quote, restricted, ofOrder }
  const pv = input.portfolioValue
  const money = (limit: Dec.Decimal | undefined) => (limit === undefined ? undefined : Dec.mul(limit, pv))
  return {
    input,
    slots,
    maxPositionValue: money(input.limits.maxPositionRatio),
    maxSectorValue: money(input.limits.maxSectorWeight),
    maxGrossValue: money(input.limits.maxGrossExposure),
    maxNetValue: money(input.limits.maxNetExposure)
  }
}

/** The price a slot is valued at: its order's reference price, else the feed's, else its average cost. */
const markOf = (slots: Slots, at: number): Dec.Decimal | undefined =>
  slots.order[at]?.referencePrice ?? slots.quote[at]?.price ?? slots.avgCost[at]

const sectorOf = (input: RiskInput, slots: Slots, at: number): string | undefined =>
  slots.order[at]?.sector ?? input.sectors?.get(slots.symbol[at]!)

/**
 * The book after `orders`, valued in one pass: positions, gross and net value before and after, and the
 * gross value of each sector after (sectors only when a sector limit is set).
 */
interface Book {
  /** Positions after the orders, by slot index. */
  readonly post: ReadonlyArray<Dec.Decimal>
  readonly grossBefore: Dec.Decimal
  readonly grossAfter: Dec.Decimal
  readonly netBefore: Dec.Decimal
  readonly netAfter: Dec.Decimal
  /** By slot index: its sector's gross value after, when that breaks the sector limit (else undefined). */
  readonly sectorBreach: ReadonlyArray<Dec.Decimal | undefined>
}

/** `orders` are given by their index in `ctx.input.orders`, or all of them. */
const bookAfter = (ctx: Context, included?: ReadonlyArray<boolean>): Book => {
  const { input, slots } = ctx
  const post: Array<Dec.Decimal> = slots.pre.slice()
  const orders = input.orders
  for (let i = 0; i < orders.length; i++) {
    if (included !== undefined && !included[i]) continue
    const o = orders[i]!
    const index = slots.ofOrder[i]!
    post[index] = o.side === "BUY" ? Dec.add(post[index]!, o.quantity) : Dec.sub(post[index]!, o.quantity)
  }
  const wantsExposure = ctx.maxGrossValue !== undefined || ctx.maxNetValue !== undefined
  const wantsSectors = ctx.maxSectorValue !== undefined
  const grossBefore = Dec.total()
  const grossAfter = Dec.total()
  const netBefore = Dec.total()
  const netAfter = Dec.total()
  const sectorBreach: Array<Dec.Decimal | undefined> = []
  if (wantsExposure || wantsSectors) {
    const sectors = new Map<string, Dec.Total>()
    const sectorOfSlot: Array<string | undefined> = []
    for (let at = 0; at < slots.symbol.length; at++) {
      const mark = markOf(slots, at)
      const sector = wantsSectors ? sectorOf(input, slots, at) : undefined
      sectorOfSlot.push(sector)
      if (mark === undefined) continue
      const before = slots.pre[at]!
      const after = post[at]!
      if (wantsExposure) {
        Dec.addProduct(netBefore, before, mark)
        Dec.addAbsProduct(grossBefore, before, mark)
        Dec.addProduct(netAfter, after, mark)
        Dec.addAbsProduct(grossAfter, after, mark)
      }
      if (sector !== undefined) {
        let sum = sectors.get(sector)
        if (sum === undefined) sectors.set(sector, sum = Dec.total())
        Dec.addAbsProduct(sum, after, mark)
      }
    }
    if (wantsSectors) {
      // Judged once a sector, not once an order.
      const breached = new Map<string, Dec.Decimal>()
      for (const [sector, sum] of sectors) {
        const gross = Dec.valueOf(sum)
        if (Dec.gt(gross, ctx.maxSectorValue!)) breached.set(sector, gross)
      }
      for (const sector of sectorOfSlot) sectorBreach.push(sector === undefined || breached.size === 0 ? undefined : breached.get(sector))
    }
  }
  return {
    post,
    grossBefore: Dec.valueOf(grossBefore),
    grossAfter: Dec.valueOf(grossAfter),
    netBefore: Dec.valueOf(netBefore),
    netAfter: Dec.valueOf(netAfter),
    sectorBreach
  }
}

/** Age limit in whole milliseconds (prices carry millisecond times). */
/**
 * How far ahead of the check a quote's time may be under `maxPriceAgeSeconds`: the feed's clock and this
 * host's may disagree by a little (NTP keeps them within milliseconds; a few seconds covers a clock that
 * drifts between syncs). Further ahead, the time is wrong and says nothing about the price's age, so the
 * price is rejected as stale, with its (negative) age as what was found.
 */
export const FUTURE_TOLERANCE_SECONDS = 5
const FUTURE_TOLERANCE_MILLIS = FUTURE_TOLERANCE_SECONDS * 1000

const ageLimitMillis = (seconds: Dec.Decimal): number => Number(Dec.quotientFloor(Dec.mul(seconds, Dec.unsafe(1000)), Dec.ONE))

/** `Date.parse` for quote times, remembering the last one: a feed stamps most quotes alike. */
const timeReader = () => {
  let lastTime: string | undefined
  let lastMillis = Number.NaN
  return (time: string): number => {
    if (time !== lastTime) {
      lastTime = time
      lastMillis = Date.parse(time)
    }
    return lastMillis
  }
}

/** Adds a violation to an order's list, which is made only for an order that has one. */
const flag = (found: Array<RiskViolation> | undefined, v: RiskViolation): Array<RiskViolation> => {
  if (found === undefined) return [v]
  found.push(v)
  return found
}

/** The violations each order commits on its own (including its share of a sector breach), by order index. */
const orderViolations = (ctx: Context, book: Book): Array<Array<RiskViolation> | undefined> => {
  const { input, slots } = ctx
  const { limits } = input
  const out: Array<Array<RiskViolation> | undefined> = []
  const maxAge = limits.maxPriceAgeSeconds === undefined ? undefined : ageLimitMillis(limits.maxPriceAgeSeconds)
  const parseTime = timeReader()
  // Each limit against thousands of orders: compared as bounds, decimals made only for a violation.
  const bound = (limit: Dec.Decimal | undefined) => (limit === undefined ? undefined : Dec.bound(limit))
  const maxNotional = bound(limits.maxOrderNotional)
  const minNotional = bound(limits.minOrderNotional)
  const maxQuantity = bound(limits.maxOrderQuantity)
  const maxPosition = bound(ctx.maxPositionValue)
  const maxName = bound(limits.maxNameWeight)

  for (let i = 0; i < input.orders.length; i++) {
    const o = input.orders[i]!
    const slot = slots.ofOrder[i]!
    let found: Array<RiskViolation> | undefined
    const reduces = reducesPosition(o)
    const after = book.post[slot]!

    if (maxNotional !== undefined && maxNotional.compareProduct(o.quantity, o.referencePrice) > 0) {
      found = flag(found, violation("max_order_notional", o.symbol, decimalText(maxNotional.decimal), decimalText(Dec.mul(o.quantity, o.referencePrice))))
    }
    if (maxQuantity !== undefined && maxQuantity.compare(o.quantity) > 0) {
      found = flag(found, violation("max_order_quantity", o.symbol, decimalText(maxQuantity.decimal), decimalText(o.quantity)))
    }
    if (!reduces && maxPosition !== undefined && maxPosition.compareAbsProduct(after, o.referencePrice) > 0) {
      const value = Dec.abs(Dec.mul(after, o.referencePrice))
      found = flag(found, violation("max_position_ratio", o.symbol, decimalText(limits.maxPositionRatio!), ratio(value, input.portfolioValue)))
    }
    if (!reduces && maxName !== undefined && maxName.compareAbs(o.targetWeight) > 0) {
      found = flag(found, violation("max_name_weight", o.symbol, decimalText(maxName.decimal), decimalText(Dec.abs(o.targetWeight))))
    }
    if (!reduces && ctx.maxSectorValue !== undefined) {
      const gross = book.sectorBreach[slot]
      if (gross !== undefined) {
        const sector = sectorOf(input, slots, slot)
        found = flag(found, violation("max_sector_weight", o.symbol, decimalText(limits.maxSectorWeight!), ratio(gross, input.portfolioValue), sector))
      }
    }
    if (!reduces && minNotional !== undefined && minNotional.compareProduct(o.quantity, o.referencePrice) < 0) {
      found = flag(found, violation("min_order_notional", o.symbol, decimalText(minNotional.decimal), decimalText(Dec.mul(o.quantity, o.referencePrice))))
    }
    if (slots.restricted[slot] === 1) {
      found = flag(found, violation("restricted_symbol", o.symbol, "restricted", `${o.side} ${decimalText(o.quantity)}`))
    }
    if (!reduces && limits.longOnly === true && Dec.isNegative(after)) {
      found = flag(found, violation("long_only", o.symbol, "0", decimalText(after)))
    }
    if (limits.priceCollarBps !== undefined && o.limitPrice !== undefined) {
      const distance = Dec.mul(Dec.abs(Dec.sub(o.limitPrice, o.referencePrice)), Dec.BPS_PER_UNIT)
      if (Dec.gt(distance, Dec.mul(limits.priceCollarBps, o.referencePrice))) {
        const bps = Dec.divideForReport(distance, o.referencePrice, 4)
        found = flag(found, violation("price_collar", o.symbol, decimalText(limits.priceCollarBps), decimalText(bps)))
      }
    }
    if (maxAge !== undefined) {
      const time = slots.quote[slot]?.time
      const age = time === undefined || input.asOf === undefined ? undefined : input.asOf - parseTime(time)
      // A quote stamped ahead of the check by more than clocks disagree is not fresh: its time is wrong.
      if (age === undefined || Number.isNaN(age) || age > maxAge || age < -FUTURE_TOLERANCE_MILLIS) {
        found = flag(found, violation(
          "price_staleness",
          o.symbol,
          decimalText(limits.maxPriceAgeSeconds!),
          age === undefined || Number.isNaN(age) ? "unknown" : String(age / 1000)
        ))
      }
    }
    out.push(found)
  }
  return out
}

/** Violations of the rules over the whole run, judged on `orders` and the positions they lead to. */
const runViolations = (ctx: Context, orders: ReadonlyArray<OrderDraft>, book: Book): Array<RiskViolation> => {
  const { limits, portfolioValue: pv } = ctx.input
  const found: Array<RiskViolation> = []
  if (limits.maxOrdersPerRun !== undefined && orders.length > limits.maxOrdersPerRun) {
    found.push(violation("max_orders_per_run", undefined, String(limits.maxOrdersPerRun), String(orders.length)))
  }
  // A run that lowers an exposure already above its cap is what should happen next, not a breach.
  if (ctx.maxGrossValue !== undefined && Dec.gt(book.grossAfter, ctx.maxGrossValue) && Dec.gt(book.grossAfter, book.grossBefore)) {
    found.push(violation("max_gross_exposure", undefined, decimalText(limits.maxGrossExposure!), ratio(book.grossAfter, pv)))
  }
  const netAfter = Dec.abs(book.netAfter)
  if (ctx.maxNetValue !== undefined && Dec.gt(netAfter, ctx.maxNetValue) && Dec.gt(netAfter, Dec.abs(book.netBefore))) {
    found.push(violation("max_net_exposure", undefined, decimalText(limits.maxNetExposure!), ratio(netAfter, pv)))
  }
  if (limits.maxTurnover !== undefined) {
    const traded = Dec.total()
    for (const o of orders) Dec.addProduct(traded, o.quantity, o.referencePrice)
    const value = Dec.valueOf(traded)
    if (Dec.gt(value, Dec.mul(limits.maxTurnover, pv))) {
      found.push(violation("max_turnover", undefined, decimalText(limits.maxTurnover), ratio(value, pv)))
    }
  }
  if (limits.cashSufficiency === true) {
    const neededTotal = Dec.total()
    const availableTotal = Dec.total()
    Dec.addTo(availableTotal, ctx.input.cash)
    for (const o of orders) {
      const price = o.limitPrice ?? o.referencePrice
      if (o.side === "BUY" && !reducesPosition(o)) Dec.addProduct(neededTotal, o.quantity, price)
      if (o.side === "SELL" && Dec.isPositive(o.currentQuantity)) {
        Dec.addProduct(availableTotal, Dec.min(o.quantity, o.currentQuantity), price)
      }
    }
    const needed = Dec.valueOf(neededTotal)
    const available = Dec.valueOf(availableTotal)
    if (Dec.gt(needed, available)) {
      found.push(violation("cash_sufficiency", undefined, decimalText(available), decimalText(needed)))
    }
  }
  return found
}

/**
 * The verdict is about client order ids, which a provider and the flow go by: orders that share one (a
 * caller's mistake; the flow's ids are unique) share the violations of the last of them that has any, so
 * an id is never both accepted and rejected.
 */
const byClientOrderId = (
  orders: ReadonlyArray<OrderDraft>,
  perOrder: Array<Array<RiskViolation> | undefined>
): Array<Array<RiskViolation> | undefined> => {
  let flagged: Map<ClientOrderId, Array<RiskViolation>> | undefined
  for (let i = 0; i < orders.length; i++) {
    const found = perOrder[i]
    if (found !== undefined) (flagged ??= new Map()).set(orders[i]!.clientOrderId, found)
  }
  if (flagged === undefined) return perOrder
  return orders.map((o) => flagged.get(o.clientOrderId))
}

/** What makes two violations one: the same rule on the same symbol or sector. */
const identity = (v: RiskViolation) => `${v.rule}\u0000${v.symbol ?? ""}\u0000${v.sector ?? ""}`

/** Judges the orders of a run against the limits. */
export const evaluate = (input: RiskInput): RiskVerdict => {
  const policy = input.policy ?? "block_run"
  const ctx = context(input)
  const book = bookAfter(ctx)
  const perOrder = byClientOrderId(input.orders, orderViolations(ctx, book))
  const dropping = policy === "drop_orders" && perOrder.some((found) => found !== undefined)
  const survivors = dropping ? input.orders.filter((_, i) => perOrder[i] === undefined) : input.orders
  const runWide = runViolations(ctx, survivors, dropping ? bookAfter(ctx, perOrder.map((found) => found === undefined)) : book)

  const violations: Array<RiskViolation> = []
  const rejected: Array<{ clientOrderId: ClientOrderId; reason: string }> = []
  for (let i = 0; i < input.orders.length; i++) {
    const found = perOrder[i]
    if (found === undefined) continue
    violations.push(...found)
    rejected.push({ clientOrderId: input.orders[i]!.clientOrderId, reason: found[0]!.reason })
  }
  for (const violation of runWide) violations.push(violation)
  // A run whose every order was dropped has nothing left to do: it is blocked, not a success.
  const passed = policy === "drop_orders"
    ? runWide.length === 0 && (survivors.length > 0 || input.orders.length === 0)
    : violations.length === 0
  if (policy === "fit" && input.unmet !== undefined) {
    const seen = new Set(violations.map(identity))
    for (const v of input.unmet) if (!seen.has(identity(v))) violations.push(v)
  }
  return {
    passed,
    policy,
    violations,
    reasons: [...new Set(violations.map((v) => v.reason))],
    accepted: passed ? survivors.map((o) => o.clientOrderId) : [],
    rejected
  }
}
