// As of commit 92e9b90, before this round of performance work: the reference the differential property
// tests hold the current code to. Kept as it was; not used by the library.
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
 * that break a rule of their own and then judges the run-wide rules on what remains.
 */
import * as Dec from "./Decimal.js"
import type { ClientOrderId, Symbol } from "../../../src/domain/Ids.js"
import type { Position, Quote } from "../../../src/domain/Market.js"
import { type OrderDraft, signedQuantity } from "../../../src/domain/Order.js"
import type { RiskLimits, RiskPolicy, RiskRule, RiskVerdict, RiskViolation } from "../../../src/domain/Risk.js"

export interface RiskInput {
  readonly orders: ReadonlyArray<OrderDraft>
  readonly limits: RiskLimits
  readonly policy?: RiskPolicy
  readonly portfolioValue: Dec.Decimal
  readonly cash: Dec.Decimal
  /** Current signed positions, before the orders. */
  readonly positions: ReadonlyArray<Position>
  /** Prices (with their times) for valuing held symbols and for the staleness rule. */
  readonly quotes?: ReadonlyMap<Symbol, Quote>
  /** Sectors of held symbols that have no order (orders carry their own). */
  readonly sectors?: ReadonlyMap<Symbol, string>
  /** The moment of the check, in epoch milliseconds; needed by `maxPriceAgeSeconds`. */
  readonly asOf?: number
}

const text = Dec.toString
const ratio = (value: Dec.Decimal, base: Dec.Decimal) => text(Dec.divideForReport(value, base))

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
 * What every rule needs, computed once: positions before the orders (an order's own `currentQuantity`
 * is the position it was built from, so it wins over the positions list), the price each symbol is
 * valued at, and each ratio limit turned into an amount of money (limit × portfolio value), so that a
 * check is one comparison and no division.
 */
interface Context {
  readonly input: RiskInput
  readonly pre: ReadonlyMap<Symbol, Dec.Decimal>
  readonly mark: (symbol: Symbol) => Dec.Decimal | undefined
  readonly sectorOf: (symbol: Symbol) => string | undefined
  readonly maxPositionValue: Dec.Decimal | undefined
  readonly maxSectorValue: Dec.Decimal | undefined
  readonly maxGrossValue: Dec.Decimal | undefined
  readonly maxNetValue: Dec.Decimal | undefined
}

const context = (input: RiskInput): Context => {
  const pre = new Map<Symbol, Dec.Decimal>()
  let avgCost: Map<Symbol, Dec.Decimal> | undefined
  for (const p of input.positions) {
    const held = pre.get(p.symbol)
    pre.set(p.symbol, held === undefined ? p.quantity : Dec.add(held, p.quantity))
    if (p.avgCost !== undefined) (avgCost ??= new Map()).set(p.symbol, p.avgCost)
  }
  // The first order of a symbol carries the position it was built from, its price and its sector.
  const orderOf = new Map<Symbol, OrderDraft>()
  for (const o of input.orders) {
    if (orderOf.has(o.symbol)) continue
    orderOf.set(o.symbol, o)
    pre.set(o.symbol, o.currentQuantity)
  }
  const pv = input.portfolioValue
  const money = (limit: Dec.Decimal | undefined) => (limit === undefined ? undefined : Dec.mul(limit, pv))
  return {
    input,
    pre,
    mark: (symbol) => orderOf.get(symbol)?.referencePrice ?? input.quotes?.get(symbol)?.price ?? avgCost?.get(symbol),
    sectorOf: (symbol) => orderOf.get(symbol)?.sector ?? input.sectors?.get(symbol),
    maxPositionValue: money(input.limits.maxPositionRatio),
    maxSectorValue: money(input.limits.maxSectorWeight),
    maxGrossValue: money(input.limits.maxGrossExposure),
    maxNetValue: money(input.limits.maxNetExposure)
  }
}

/**
 * The book after `orders`, valued in one pass: positions, gross and net value before and after, and the
 * gross value of each sector after (sectors only when a sector limit is set).
 */
interface Book {
  /** Positions after the orders, of the traded symbols. */
  readonly post: ReadonlyMap<Symbol, Dec.Decimal>
  readonly grossBefore: Dec.Decimal
  readonly grossAfter: Dec.Decimal
  readonly netBefore: Dec.Decimal
  readonly netAfter: Dec.Decimal
  readonly sectors: ReadonlyMap<string, Dec.Decimal>
}

const bookAfter = (ctx: Context, orders: ReadonlyArray<OrderDraft>): Book => {
  // Only the traded symbols change; every other position is its own `pre`.
  const changed = new Map<Symbol, Dec.Decimal>()
  for (const o of orders) {
    const before = changed.get(o.symbol) ?? ctx.pre.get(o.symbol) ?? Dec.ZERO
    changed.set(o.symbol, Dec.add(before, signedQuantity(o.side, o.quantity)))
  }
  const wantsExposure = ctx.maxGrossValue !== undefined || ctx.maxNetValue !== undefined
  const wantsSectors = ctx.maxSectorValue !== undefined
  let grossBefore = Dec.ZERO
  let grossAfter = Dec.ZERO
  let netBefore = Dec.ZERO
  let netAfter = Dec.ZERO
  const sectors = new Map<string, Dec.Decimal>()
  if (wantsExposure || wantsSectors) {
    // `pre` holds every held symbol and every traded one.
    for (const [symbol, before] of ctx.pre) {
      const mark = ctx.mark(symbol)
      if (mark === undefined) continue
      const after = changed.get(symbol) ?? before
      const valueAfter = Dec.mul(after, mark)
      const grossValueAfter = Dec.abs(valueAfter)
      if (wantsExposure) {
        const valueBefore = before === after ? valueAfter : Dec.mul(before, mark)
        grossBefore = Dec.add(grossBefore, before === after ? grossValueAfter : Dec.abs(valueBefore))
        netBefore = Dec.add(netBefore, valueBefore)
        grossAfter = Dec.add(grossAfter, grossValueAfter)
        netAfter = Dec.add(netAfter, valueAfter)
      }
      const sector = wantsSectors ? ctx.sectorOf(symbol) : undefined
      if (sector !== undefined) sectors.set(sector, Dec.add(sectors.get(sector) ?? Dec.ZERO, grossValueAfter))
    }
  }
  return { post: changed, grossBefore, grossAfter, netBefore, netAfter, sectors }
}

/** Age limit in whole milliseconds (prices carry millisecond times). */
const ageLimitMillis = (seconds: Dec.Decimal): number => Number(Dec.quotientFloor(Dec.mul(seconds, Dec.unsafe(1000)), Dec.ONE))

/** The violations each order commits on its own (including its share of a sector breach). */
const orderViolations = (ctx: Context, book: Book): Map<ClientOrderId, Array<RiskViolation>> => {
  const { input } = ctx
  const { limits } = input
  const out = new Map<ClientOrderId, Array<RiskViolation>>()
  const restricted = new Set(limits.restrictedSymbols ?? [])
  const maxAge = limits.maxPriceAgeSeconds === undefined ? undefined : ageLimitMillis(limits.maxPriceAgeSeconds)

  for (const o of input.orders) {
    const found: Array<RiskViolation> = []
    const reduces = reducesPosition(o)
    const notional = Dec.mul(o.quantity, o.referencePrice)
    const after = book.post.get(o.symbol) ?? Dec.ZERO

    if (limits.maxOrderNotional !== undefined && Dec.gt(notional, limits.maxOrderNotional)) {
      found.push(violation("max_order_notional", o.symbol, text(limits.maxOrderNotional), text(notional)))
    }
    if (limits.maxOrderQuantity !== undefined && Dec.gt(o.quantity, limits.maxOrderQuantity)) {
      found.push(violation("max_order_quantity", o.symbol, text(limits.maxOrderQuantity), text(o.quantity)))
    }
    if (!reduces && ctx.maxPositionValue !== undefined) {
      const value = Dec.abs(Dec.mul(after, o.referencePrice))
      if (Dec.gt(value, ctx.maxPositionValue)) {
        found.push(violation("max_position_ratio", o.symbol, text(limits.maxPositionRatio!), ratio(value, input.portfolioValue)))
      }
    }
    if (!reduces && limits.maxNameWeight !== undefined && Dec.gt(Dec.abs(o.targetWeight), limits.maxNameWeight)) {
      found.push(violation("max_name_weight", o.symbol, text(limits.maxNameWeight), text(Dec.abs(o.targetWeight))))
    }
    if (!reduces && ctx.maxSectorValue !== undefined) {
      const sector = ctx.sectorOf(o.symbol)
      const gross = sector === undefined ? undefined : book.sectors.get(sector)
      if (gross !== undefined && Dec.gt(gross, ctx.maxSectorValue!)) {
        found.push(violation("max_sector_weight", o.symbol, text(limits.maxSectorWeight!), ratio(gross, input.portfolioValue), sector))
      }
    }
    if (!reduces && limits.minOrderNotional !== undefined && Dec.lt(notional, limits.minOrderNotional)) {
      found.push(violation("min_order_notional", o.symbol, text(limits.minOrderNotional), text(notional)))
    }
    if (restricted.has(o.symbol)) {
      found.push(violation("restricted_symbol", o.symbol, "restricted", `${o.side} ${text(o.quantity)}`))
    }
    if (!reduces && limits.longOnly === true && Dec.isNegative(after)) {
      found.push(violation("long_only", o.symbol, "0", text(after)))
    }
    if (limits.priceCollarBps !== undefined && o.limitPrice !== undefined) {
      const distance = Dec.mul(Dec.abs(Dec.sub(o.limitPrice, o.referencePrice)), Dec.BPS_PER_UNIT)
      if (Dec.gt(distance, Dec.mul(limits.priceCollarBps, o.referencePrice))) {
        const bps = Dec.divideForReport(distance, o.referencePrice, 4)
        found.push(violation("price_collar", o.symbol, text(limits.priceCollarBps), text(bps)))
      }
    }
    if (maxAge !== undefined) {
      const time = input.quotes?.get(o.symbol)?.time
      const age = time === undefined || input.asOf === undefined ? undefined : input.asOf - Date.parse(time)
      // Stamped more than 5 s ahead of the check (the clock skew allowed): the time is wrong, not fresh.
      if (age === undefined || Number.isNaN(age) || age > maxAge || age < -5000) {
        found.push(violation(
          "price_staleness",
          o.symbol,
          text(limits.maxPriceAgeSeconds!),
          age === undefined || Number.isNaN(age) ? "unknown" : String(age / 1000)
        ))
      }
    }
    if (found.length > 0) out.set(o.clientOrderId, found)
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
    found.push(violation("max_gross_exposure", undefined, text(limits.maxGrossExposure!), ratio(book.grossAfter, pv)))
  }
  const netAfter = Dec.abs(book.netAfter)
  if (ctx.maxNetValue !== undefined && Dec.gt(netAfter, ctx.maxNetValue) && Dec.gt(netAfter, Dec.abs(book.netBefore))) {
    found.push(violation("max_net_exposure", undefined, text(limits.maxNetExposure!), ratio(netAfter, pv)))
  }
  if (limits.cashSufficiency === true) {
    let needed = Dec.ZERO
    let available = ctx.input.cash
    for (const o of orders) {
      const price = o.limitPrice ?? o.referencePrice
      if (o.side === "BUY" && !reducesPosition(o)) needed = Dec.add(needed, Dec.mul(o.quantity, price))
      if (o.side === "SELL" && Dec.isPositive(o.currentQuantity)) {
        available = Dec.add(available, Dec.mul(Dec.min(o.quantity, o.currentQuantity), price))
      }
    }
    if (Dec.gt(needed, available)) {
      found.push(violation("cash_sufficiency", undefined, text(available), text(needed)))
    }
  }
  return found
}

/** Judges the orders of a run against the limits. */
export const evaluate = (input: RiskInput): RiskVerdict => {
  const policy = input.policy ?? "block_run"
  const ctx = context(input)
  const book = bookAfter(ctx, input.orders)
  const perOrder = orderViolations(ctx, book)
  const dropping = policy === "drop_orders" && perOrder.size > 0
  const survivors = dropping ? input.orders.filter((o) => !perOrder.has(o.clientOrderId)) : input.orders
  const runWide = runViolations(ctx, survivors, dropping ? bookAfter(ctx, survivors) : book)

  const violations: Array<RiskViolation> = []
  const rejected: Array<{ clientOrderId: ClientOrderId; reason: string }> = []
  for (const o of input.orders) {
    const found = perOrder.get(o.clientOrderId)
    if (found === undefined) continue
    violations.push(...found)
    rejected.push({ clientOrderId: o.clientOrderId, reason: found[0]!.reason })
  }
  violations.push(...runWide)
  const passed = policy === "drop_orders"
    ? runWide.length === 0 && (survivors.length > 0 || input.orders.length === 0)
    : violations.length === 0
  return {
    passed,
    policy,
    violations,
    reasons: [...new Set(violations.map((v) => v.reason))],
    accepted: passed ? survivors.map((o) => o.clientOrderId) : [],
    rejected
  }
}
