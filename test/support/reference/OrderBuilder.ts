// As of commit 92e9b90, before this round of performance work: the reference the differential property
// tests hold the current code to. Kept as it was; not used by the library.
/**
 * Targets + current positions + prices → orders. Pure and deterministic: the same input gives the same
 * output, byte for byte.
 *
 * The rules (docs/ARCHITECTURE.md and the README, "Order building rules"):
 * - `target = round_toward_zero(weight × portfolio_value × (1 − cash_buffer) / (price × lot)) × lot`, signed,
 *   computed exactly: decimal inputs as written, one integer division, no floating point.
 * - `order = target − current`, and an order is whole lots: a trade that adds exposure rounds down (never past
 *   the target), one that reduces exposure rounds up (never leaves more than the target). Closing a position
 *   (target 0) or flipping it through zero sells exactly what is held, odd lot included.
 * - Buys are trimmed to the cash available (cash + proceeds of the run's long sells − buffer) and re-rounded to
 *   lots; buys that cover shorts are paid for before buys that open or add.
 * - Every symbol of the decision, and every held symbol it does not mention, ends as an order or a skip with
 *   its reason. Sells come before buys; each side is in symbol order.
 */
import { Either } from "effect"
import * as BuildInput from "./BuildInput.js"
import * as ClientOrderId from "./ClientOrderId.js"
import * as Dec from "./Decimal.js"
import type { InvalidInput } from "../../../src/domain/errors.js"
import type { Symbol } from "../../../src/domain/Ids.js"
import type { Security } from "../../../src/domain/Market.js"
import type { OrderDraft, OrderSide } from "../../../src/domain/Order.js"
import type { Skip } from "../../../src/domain/Run.js"

export interface TrimmedOrder {
  readonly symbol: Symbol
  readonly requested: Dec.Decimal
  readonly quantity: Dec.Decimal
}

export interface BuildResult {
  readonly plan: BuildInput.BuildPlan
  readonly orders: ReadonlyArray<OrderDraft>
  readonly skipped: ReadonlyArray<Skip>
  /** Buys reduced (not to zero) to fit the cash; those cut to zero are skips. */
  readonly trimmed: ReadonlyArray<TrimmedOrder>
}

/** An order in the making: `trade` is signed (+ buy, − sell). */
interface Candidate {
  readonly symbol: Symbol
  readonly current: Dec.Decimal
  readonly target: Dec.Decimal
  readonly weight: Dec.Decimal
  readonly price: Dec.Decimal
  readonly lot: Dec.Decimal
  readonly security: Security | undefined
  readonly sector: string | undefined
  /** What the decision asked for, before any cash trim. */
  readonly requested: Dec.Decimal
  trade: Dec.Decimal
  limitPrice: Dec.Decimal | undefined
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const bySymbol = (a: { readonly symbol: string }, b: { readonly symbol: string }) =>
  a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0

/**
 * The signed whole-lot trade from `current` toward `target` (itself a whole number of lots): see the
 * module comment for why adding rounds down and reducing rounds up.
 */
export const tradeQuantity = (current: Dec.Decimal, target: Dec.Decimal, lot: Dec.Decimal): Dec.Decimal => {
  const delta = Dec.sub(target, current)
  if (Dec.isZero(delta)) return Dec.ZERO
  // Whole lots already (the usual case: positions held in whole lots): every rule below gives the delta.
  if (Dec.isMultipleOf(delta, lot)) return delta
  const targetSign = Dec.sign(target)
  const currentSign = Dec.sign(current)
  if (targetSign === 0 || (currentSign !== 0 && currentSign !== targetSign)) return delta
  const adding = Dec.gt(Dec.abs(target), Dec.abs(current))
  const lots = adding ? Dec.quotientFloor(Dec.abs(delta), lot) : Dec.quotientCeil(Dec.abs(delta), lot)
  const size = Dec.times(lots, lot)
  return Dec.sign(delta) < 0 ? Dec.negate(size) : size
}

const sideOf = (trade: Dec.Decimal): OrderSide => (Dec.isNegative(trade) ? "SELL" : "BUY")

const limitPriceFor = (plan: BuildInput.BuildPlan, c: Candidate, side: OrderSide): Dec.Decimal | undefined => {
  const { settings } = plan
  if (settings.orderType !== "LMT") return undefined
  if (settings.limitPrice !== undefined) return settings.limitPrice
  const offset = Dec.fromBps(settings.limitOffsetBps ?? Dec.ZERO)
  const raw = Dec.mul(c.price, side === "BUY" ? Dec.add(Dec.ONE, offset) : Dec.sub(Dec.ONE, offset))
  const tick = c.security?.tickSize ?? settings.tickSize
  if (tick === undefined) return raw
  // Rounded toward the passive side: never pay more, or accept less, than the offset allows.
  const rounded = Dec.roundToIncrement(raw, tick, side === "BUY" ? "floor" : "ceil")
  return Dec.isPositive(rounded) ? rounded : tick
}

/** Why an order of this size may not be sent, or `undefined`. Closing a position is never too small. */
const belowMinimum = (plan: BuildInput.BuildPlan, c: Candidate): Skip | undefined => {
  if (Dec.isZero(Dec.add(c.current, c.trade))) return undefined
  const size = Dec.abs(c.trade)
  const minQuantity = c.security?.minQuantity
  if (minQuantity !== undefined && Dec.lt(size, minQuantity)) {
    return { symbol: c.symbol, reason: "below_min_quantity", detail: `${Dec.toString(size)} < ${Dec.toString(minQuantity)}` }
  }
  const minNotional = plan.settings.minOrderNotional
  if (minNotional !== undefined) {
    const notional = Dec.mul(size, c.price)
    if (Dec.lt(notional, minNotional)) {
      return {
        symbol: c.symbol,
        reason: "below_min_notional",
        detail: `${Dec.toString(notional)} < ${Dec.toString(minNotional)}`
      }
    }
  }
  return undefined
}

/** Splits a buy into the part that covers a short and the part that opens or adds to a long. */
const coverPart = (c: Candidate): Dec.Decimal =>
  Dec.isNegative(c.current) ? Dec.min(c.trade, Dec.negate(c.current)) : Dec.ZERO

/**
 * Scales buys down to the budget and re-rounds them to lots. Covering buys are paid first; the opening
 * parts share what is left pro rata. `Σ quantity × cost ≤ budget` holds after each step because every
 * scaled quantity is rounded toward zero.
 */
const trimToCash = (plan: BuildInput.BuildPlan, candidates: ReadonlyArray<Candidate>): void => {
  const cost = (c: Candidate) => c.limitPrice ?? c.price
  let proceeds = Dec.ZERO
  let buyCost = Dec.ZERO
  for (const c of candidates) {
    if (Dec.isPositive(c.trade)) {
      buyCost = Dec.add(buyCost, Dec.mul(c.trade, cost(c)))
    } else if (Dec.isPositive(c.current)) {
      proceeds = Dec.add(proceeds, Dec.mul(Dec.min(Dec.negate(c.trade), c.current), cost(c)))
    }
  }
  const { settings } = plan
  const buffer = Dec.mul(settings.portfolioValue, settings.cashBufferRatio)
  const budget = Dec.sub(Dec.add(settings.cash, proceeds), buffer)
  if (Dec.lte(buyCost, budget)) return

  let coverCost = Dec.ZERO
  let openCost = Dec.ZERO
  const parts = candidates.filter((c) => Dec.isPositive(c.trade)).map((c) => {
    const cover = coverPart(c)
    const open = Dec.sub(c.trade, cover)
    coverCost = Dec.add(coverCost, Dec.mul(cover, cost(c)))
    openCost = Dec.add(openCost, Dec.mul(open, cost(c)))
    return { c, cover, open }
  })
  const scaled = (quantity: Dec.Decimal, c: Candidate, available: Dec.Decimal, total: Dec.Decimal) =>
    Dec.isPositive(available)
      ? Dec.times(Dec.quotientTowardZero(Dec.mul(quantity, available), Dec.mul(total, c.lot)), c.lot)
      : Dec.ZERO
  const coversFit = Dec.lte(coverCost, budget)
  const openBudget = coversFit ? Dec.sub(budget, coverCost) : Dec.ZERO
  for (const { c, cover, open } of parts) {
    const keptCover = coversFit || Dec.isZero(cover) ? cover : scaled(cover, c, budget, coverCost)
    const keptOpen = Dec.isZero(open) ? open : scaled(open, c, openBudget, openCost)
    c.trade = Dec.add(keptCover, keptOpen)
  }
}

/** Builds the orders of a validated plan. */
export const buildPlan = (plan: BuildInput.BuildPlan): BuildResult => {
  const { settings } = plan
  const effectiveValue = Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio))
  const candidates: Array<Candidate> = []
  const skipped: Array<Skip> = []

  const consider = (
    symbol: Symbol,
    current: Dec.Decimal,
    weight: Dec.Decimal,
    price: Dec.Decimal,
    sector: string | undefined,
    /** What the decision wants held, as an amount of money (signed); zero to close. */
    desired: Dec.Decimal
  ) => {
    const security = plan.securities.get(symbol)
    const lot = security?.lotSize ?? settings.lotSize
    const target = Dec.isZero(desired) ? Dec.ZERO : Dec.times(Dec.quotientTowardZero(desired, Dec.mul(price, lot)), lot)
    const trade = tradeQuantity(current, target, lot)
    if (Dec.isZero(trade)) {
      // A wanted exposure smaller than one lot is not "at target", even when nothing is held.
      const atTarget = Dec.eq(current, target) && !(Dec.isZero(target) && !Dec.isZero(weight))
      skipped.push({ symbol, reason: atTarget ? "at_target" : "below_one_lot" })
      return
    }
    const candidate: Candidate = {
      symbol,
      current,
      target,
      weight,
      price,
      lot,
      security,
      sector: sector ?? security?.sector,
      requested: trade,
      trade,
      limitPrice: undefined
    }
    const small = belowMinimum(plan, candidate)
    if (small !== undefined) {
      skipped.push(small)
      return
    }
    candidate.limitPrice = limitPriceFor(plan, candidate, sideOf(trade))
    candidates.push(candidate)
  }

  const items = [...plan.items].sort(bySymbol)
  const inDecision = new Set<Symbol>()
  for (const item of items) {
    inDecision.add(item.symbol)
    const price = plan.prices.get(item.symbol) ?? item.price
    if (price === undefined) {
      skipped.push({ symbol: item.symbol, reason: "missing_price" })
      continue
    }
    const current = plan.positions.get(item.symbol) ?? Dec.ZERO
    consider(item.symbol, current, item.weight, price, item.sector, Dec.mul(item.weight, effectiveValue))
  }

  const held = [...plan.positions.keys()].filter((s) => !inDecision.has(s)).sort()
  for (const symbol of held) {
    if (!settings.liquidateMissing) {
      skipped.push({ symbol, reason: "not_in_snapshot" })
      continue
    }
    const price = plan.prices.get(symbol)
    if (price === undefined) {
      skipped.push({ symbol, reason: "missing_price" })
      continue
    }
    consider(symbol, plan.positions.get(symbol)!, Dec.ZERO, price, undefined, Dec.ZERO)
  }

  trimToCash(plan, candidates)

  const trimmed: Array<TrimmedOrder> = []
  const kept: Array<Candidate> = []
  for (const c of candidates) {
    if (c.trade === c.requested) {
      kept.push(c)
      continue
    }
    if (Dec.isZero(c.trade) || belowMinimum(plan, c) !== undefined) {
      skipped.push({
        symbol: c.symbol,
        reason: "insufficient_cash",
        detail: `wanted ${Dec.toString(c.requested)}, cash allows ${Dec.toString(c.trade)}`
      })
      continue
    }
    trimmed.push({ symbol: c.symbol, requested: c.requested, quantity: c.trade })
    kept.push(c)
  }

  const sells = kept.filter((c) => Dec.isNegative(c.trade)).sort(bySymbol)
  const buys = kept.filter((c) => Dec.isPositive(c.trade)).sort(bySymbol)
  const orders = [...sells, ...buys].map((c): OrderDraft => {
    const side = sideOf(c.trade)
    const order: Mutable<OrderDraft> = {
      clientOrderId: ClientOrderId.derive({
        runId: plan.runId,
        symbol: c.symbol,
        side,
        modelVersion: settings.modelVersion
      }),
      symbol: c.symbol,
      side,
      quantity: Dec.abs(c.trade),
      orderType: settings.orderType,
      referencePrice: c.price,
      currentQuantity: c.current,
      targetQuantity: c.target,
      targetWeight: c.weight
    }
    if (c.limitPrice !== undefined) order.limitPrice = c.limitPrice
    if (c.sector !== undefined) order.sector = c.sector
    return order
  })
  skipped.sort(bySymbol)
  return { plan, orders, skipped, trimmed }
}

/** Validates the input, then builds its orders. */
export const build = (input: BuildInput.BuildInput): Either.Either<BuildResult, InvalidInput> =>
  Either.map(BuildInput.validate(input), buildPlan)
