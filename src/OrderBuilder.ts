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
import * as Dec from "./domain/Decimal.js"
import { ClientOrderIdCollision, type InvalidInput } from "./domain/errors.js"
import type { ClientOrderId as OrderId, Symbol } from "./domain/Ids.js"
import type { Security } from "./domain/Market.js"
import type { OrderDraft, OrderSide, OrderType } from "./domain/Order.js"
import type { Skip } from "./domain/Run.js"

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
  const minQuantity = c.security?.minQuantity
  if (minQuantity === undefined && plan.settings.minOrderNotional === undefined) return undefined
  if (Dec.isZero(Dec.add(c.current, c.trade))) return undefined
  const size = Dec.abs(c.trade)
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
  const proceeds = Dec.total()
  const buys = Dec.total()
  for (const c of candidates) {
    if (Dec.isPositive(c.trade)) {
      Dec.addProduct(buys, c.trade, cost(c))
    } else if (Dec.isPositive(c.current)) {
      Dec.addProduct(proceeds, Dec.min(Dec.negate(c.trade), c.current), cost(c))
    }
  }
  const { settings } = plan
  const buffer = Dec.mul(settings.portfolioValue, settings.cashBufferRatio)
  const budget = Dec.sub(Dec.add(settings.cash, Dec.valueOf(proceeds)), buffer)
  if (Dec.lte(Dec.valueOf(buys), budget)) return

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

/**
 * The draft of a candidate, written as one literal per combination of its optional members: an object
 * that gets its members after it is made costs a second allocation and a change of shape, thousands of
 * times a run.
 */
const draft = (clientOrderId: OrderId, c: Candidate, side: OrderSide, orderType: OrderType): OrderDraft => {
  const quantity = Dec.abs(c.trade)
  const { symbol, price: referencePrice, current: currentQuantity, target: targetQuantity, weight: targetWeight } = c
  const { limitPrice, sector } = c
  return limitPrice === undefined
    ? sector === undefined
      ? { clientOrderId, symbol, side, quantity, orderType, referencePrice, currentQuantity, targetQuantity, targetWeight }
      : { clientOrderId, symbol, side, quantity, orderType, referencePrice, currentQuantity, targetQuantity, targetWeight, sector }
    : sector === undefined
    ? { clientOrderId, symbol, side, quantity, orderType, limitPrice, referencePrice, currentQuantity, targetQuantity, targetWeight }
    : {
      clientOrderId,
      symbol,
      side,
      quantity,
      orderType,
      limitPrice,
      referencePrice,
      currentQuantity,
      targetQuantity,
      targetWeight,
      sector
    }
}

/** Builds the orders of a validated plan; fails only if two of them would share a client order id. */
export const buildPlan = (plan: BuildInput.BuildPlan): Either.Either<BuildResult, ClientOrderIdCollision> => {
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
    const security = plan.securities.size === 0 ? undefined : plan.securities.get(symbol)
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

  // The items in symbol order, by index into the join: a decision already in symbol order is taken as it
  // is, with no list of indices made and sorted.
  const { items, joined } = plan
  const order = joined.ascending
    ? undefined
    : Array.from({ length: items.length }, (_, k) => k).sort((a, b) => bySymbol(items[a]!, items[b]!))
  for (let n = 0; n < items.length; n++) {
    const k = order === undefined ? n : order[n]!
    const item = items[k]!
    const price = joined.price[k] ?? item.price
    if (price === undefined) {
      skipped.push({ symbol: item.symbol, reason: "missing_price" })
      continue
    }
    consider(item.symbol, joined.held[k] ?? Dec.ZERO, item.weight, price, item.sector, Dec.mul(item.weight, effectiveValue))
  }

  const held = [...joined.heldOutside].sort(bySymbol)
  for (const { symbol, quantity, price } of held) {
    if (!settings.liquidateMissing) {
      skipped.push({ symbol, reason: "not_in_snapshot" })
      continue
    }
    if (price === undefined) {
      skipped.push({ symbol, reason: "missing_price" })
      continue
    }
    consider(symbol, quantity, Dec.ZERO, price, undefined, Dec.ZERO)
  }

  trimToCash(plan, candidates)

  const trimmed: Array<TrimmedOrder> = []
  const sells: Array<Candidate> = []
  const buys: Array<Candidate> = []
  for (const c of candidates) {
    if (c.trade !== c.requested) {
      if (Dec.isZero(c.trade) || belowMinimum(plan, c) !== undefined) {
        skipped.push({
          symbol: c.symbol,
          reason: "insufficient_cash",
          detail: `wanted ${Dec.toString(c.requested)}, cash allows ${Dec.toString(c.trade)}`
        })
        continue
      }
      trimmed.push({ symbol: c.symbol, requested: c.requested, quantity: c.trade })
    }
    ;(Dec.isNegative(c.trade) ? sells : buys).push(c)
  }
  // Candidates come in symbol order, held symbols outside the decision last: only those need a sort.
  if (held.length > 0) {
    sells.sort(bySymbol)
    buys.sort(bySymbol)
  }
  const orders: Array<OrderDraft> = []
  const scheme = settings.clientOrderIdScheme
  // Which symbol took each id: two orders under one id would be one order to the broker.
  const taken = new Map<OrderId, Symbol>()
  for (const side of [sells, buys]) {
    for (const c of side) {
      const s = sideOf(c.trade)
      const id = ClientOrderId.derive({ runId: plan.runId, symbol: c.symbol, side: s, modelVersion: settings.modelVersion, scheme })
      const other = taken.get(id)
      if (other !== undefined) {
        return Either.left(
          new ClientOrderIdCollision({ runId: plan.runId, clientOrderId: id, symbols: [other, c.symbol], scheme: scheme ?? ClientOrderId.CURRENT_SCHEME })
        )
      }
      taken.set(id, c.symbol)
      orders.push(draft(id, c, s, settings.orderType))
    }
  }
  skipped.sort(bySymbol)
  return Either.right({ plan, orders, skipped, trimmed })
}

/** Validates the input, then builds its orders. */
export const build = (input: BuildInput.BuildInput): Either.Either<BuildResult, InvalidInput | ClientOrderIdCollision> =>
  Either.flatMap(BuildInput.validate(input), buildPlan)
