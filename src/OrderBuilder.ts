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
 * - The no-trade band (`minTradeWeight` of the risk limits, under every policy): a trade smaller than that part
 *   of the portfolio value, `|target value − held value|` before the lots, is not sent (`within_band`).
 * - Under the risk policy `fit` the targets are first moved onto the limits (`Fit.ts`), and after the lots the
 *   orders are trimmed where rounding would break a limit the targets met.
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
import type { FitOutcome, RiskLimits, RiskPolicy } from "./domain/Risk.js"
import type { Skip } from "./domain/Run.js"
import * as Fit from "./Fit.js"
import * as F from "./internal/Fraction.js"

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
  /** Under the policy `fit`: every move made to meet the limits, and what could not be met. */
  readonly fit?: FitOutcome
}

/** The run's risk limits and policy, as far as they shape the orders (the band; the fit under `fit`). */
export interface BuildRisk {
  readonly limits: RiskLimits
  readonly policy?: RiskPolicy
}

/** A run's risk limits and policy as the builder takes them. */
export const riskOf = (params: { readonly risk?: RiskLimits; readonly riskPolicy?: RiskPolicy }): BuildRisk =>
  params.riskPolicy === undefined ? { limits: params.risk ?? {} } : { limits: params.risk ?? {}, policy: params.riskPolicy }

/** An order in the making: `trade` is signed (+ buy, − sell). Under `fit` the repair after the lots takes it as it is. */
interface Candidate extends Fit.LotName {
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
  /** The target as an amount of money, under `fit` only (the repair after the lots compares with it). */
  readonly goal: Dec.Decimal | undefined
  trade: Dec.Decimal
  limitPrice: Dec.Decimal | undefined
  /** What a buy costs, and a sale brings: the limit price, if any, else the price. */
  cost: Dec.Decimal
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
const belowMinimum = (plan: BuildInput.BuildPlan, c: Candidate, trade = c.trade): Skip | undefined => {
  const minQuantity = c.security?.minQuantity
  if (minQuantity === undefined && plan.settings.minOrderNotional === undefined) return undefined
  if (Dec.isZero(Dec.add(c.current, trade))) return undefined
  const size = Dec.abs(trade)
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
  const cost = (c: Candidate) => c.cost
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

/**
 * Builds the orders of a validated plan; fails only if two of them would share a client order id. With
 * `risk`, its no-trade band applies, and under the policy `fit` the targets are fitted to its limits first.
 */
export const buildPlan = (plan: BuildInput.BuildPlan, risk?: BuildRisk): Either.Either<BuildResult, ClientOrderIdCollision> => {
  const { settings } = plan
  const effectiveValue = Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio))
  const candidates: Array<Candidate> = []
  const skipped: Array<Skip> = []
  const limits = risk?.limits ?? {}
  const fitted = risk?.policy === "fit" ? Fit.fitPlan(plan, limits) : undefined
  const bandWeight = limits.minTradeWeight !== undefined && Dec.isPositive(limits.minTradeWeight) ? limits.minTradeWeight : undefined
  // Compared with every trade: its integer at the trades' scale is worked out once, not a trade.
  const band = bandWeight === undefined ? undefined : Dec.bound(Dec.mul(bandWeight, settings.portfolioValue))
  // Under `fit`, the positions that end without an order: the repair after the lots counts them in every exposure.
  const resting: Array<Fit.LotName> = []
  const rest = (symbol: Symbol, current: Dec.Decimal, price: Dec.Decimal, sector: string | undefined) => {
    if (fitted === undefined || Dec.isZero(current)) return
    const security = plan.securities.size === 0 ? undefined : plan.securities.get(symbol)
    resting.push({ symbol, sector: sector ?? security?.sector, price, cost: price, current, lot: security?.lotSize ?? settings.lotSize, trade: Dec.ZERO })
  }

  const consider = (
    symbol: Symbol,
    current: Dec.Decimal,
    weight: Dec.Decimal,
    price: Dec.Decimal,
    sector: string | undefined,
    /** What the decision wants held, as an amount of money (signed); zero to close. */
    desired: Dec.Decimal,
    /** Under `fit`: where the fit put the target, if it moved it. */
    fit?: Fit.FittedTarget
  ) => {
    if (fit?.hold === true) {
      skipped.push(
        fit.rule === "restricted_symbol"
          ? { symbol, reason: "restricted", detail: "a restricted symbol keeps the position held" }
          : { symbol, reason: "trimmed_to_limit", detail: "kept as held: it would add to a sector the turnover cap leaves above its cap" }
      )
      rest(symbol, current, price, sector)
      return
    }
    const security = plan.securities.size === 0 ? undefined : plan.securities.get(symbol)
    const lot = security?.lotSize ?? settings.lotSize
    const goal = fit !== undefined ? fit.value : fitted !== undefined ? desired : undefined
    const wanted = goal ?? desired
    const target = Dec.isZero(wanted) ? Dec.ZERO : Dec.times(Dec.quotientTowardZero(wanted, Dec.mul(price, lot)), lot)
    if (fit !== undefined) weight = fit.weight
    const trade = tradeQuantity(current, target, lot)
    if (Dec.isZero(trade)) {
      // A wanted exposure smaller than one lot is not "at target", even when nothing is held.
      const atTarget = Dec.eq(current, target) && !(Dec.isZero(target) && !Dec.isZero(weight))
      skipped.push({ symbol, reason: atTarget ? "at_target" : "below_one_lot" })
      rest(symbol, current, price, sector)
      return
    }
    if (band !== undefined) {
      // |wanted − held value| as one integer at the larger scale: a fitted target keeps 18 more decimals,
      // and a decimal a step would cost thousands a run.
      const held = current.value * price.value
      const heldScale = current.scale + price.scale
      const gapScale = wanted.scale > heldScale ? wanted.scale : heldScale
      let gap = (wanted.scale === gapScale ? wanted.value : wanted.value * F.pow10(gapScale - wanted.scale)) -
        (heldScale === gapScale ? held : held * F.pow10(gapScale - heldScale))
      if (gap < 0n) gap = -gap
      const within = Dec.make(gap, gapScale)
      if (band.compare(within) < 0) {
        const moved = Dec.toString(F.toReport(F.div(F.fromDecimal(within), F.fromDecimal(settings.portfolioValue))))
        skipped.push({ symbol, reason: "within_band", detail: `${moved} < ${Dec.toString(bandWeight!)} of the portfolio` })
        rest(symbol, current, price, sector)
        return
      }
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
      goal,
      trade,
      limitPrice: undefined,
      cost: price
    }
    const small = belowMinimum(plan, candidate)
    if (small !== undefined) {
      skipped.push(small)
      rest(symbol, current, price, sector)
      return
    }
    candidate.limitPrice = limitPriceFor(plan, candidate, sideOf(trade))
    if (candidate.limitPrice !== undefined) candidate.cost = candidate.limitPrice
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
    // A name the fit moved wants its fitted target: the decided amount is not worked out for it.
    const fit = fitted?.items[k]
    const desired = fit === undefined ? Dec.mul(item.weight, effectiveValue) : fit.hold ? Dec.ZERO : fit.value
    consider(item.symbol, joined.held[k] ?? Dec.ZERO, item.weight, price, item.sector, desired, fit)
  }

  const held = [...joined.heldOutside].sort(bySymbol)
  for (const { symbol, quantity, price } of held) {
    if (!settings.liquidateMissing) {
      skipped.push({ symbol, reason: "not_in_snapshot" })
      if (price !== undefined) rest(symbol, quantity, price, undefined)
      continue
    }
    if (price === undefined) {
      skipped.push({ symbol, reason: "missing_price" })
      continue
    }
    consider(symbol, quantity, Dec.ZERO, price, undefined, Dec.ZERO, fitted?.outside.get(symbol))
  }

  trimToCash(plan, candidates)

  const kept: Array<Candidate> = []
  const cashTrimmed = new Set<Candidate>()
  for (const c of candidates) {
    if (c.trade !== c.requested) {
      if (Dec.isZero(c.trade) || belowMinimum(plan, c) !== undefined) {
        skipped.push({
          symbol: c.symbol,
          reason: "insufficient_cash",
          detail: `wanted ${Dec.toString(c.requested)}, cash allows ${Dec.toString(c.trade)}`
        })
        rest(c.symbol, c.current, c.price, c.sector)
        continue
      }
      cashTrimmed.add(c)
    }
    kept.push(c)
  }
  const fit = fitted === undefined ? undefined : repairLots(plan, fitted, kept, resting, limits)

  const trimmed: Array<TrimmedOrder> = []
  const sells: Array<Candidate> = []
  const buys: Array<Candidate> = []
  for (const c of kept) {
    if (Dec.isZero(c.trade)) {
      skipped.push({ symbol: c.symbol, reason: "trimmed_to_limit", detail: `wanted ${Dec.toString(c.requested)}, the limits allow 0` })
      continue
    }
    if (cashTrimmed.has(c)) trimmed.push({ symbol: c.symbol, requested: c.requested, quantity: c.trade })
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
  return Either.right(fit === undefined ? { plan, orders, skipped, trimmed } : { plan, orders, skipped, trimmed, fit })
}

/** The fit's repair after the lots, on the orders about to be sent; their trades are trimmed in place. */
const repairLots = (
  plan: BuildInput.BuildPlan,
  fitted: Fit.Fitted,
  kept: ReadonlyArray<Candidate>,
  resting: ReadonlyArray<Fit.LotName>,
  limits: RiskLimits
): FitOutcome => {
  const { settings } = plan
  const repaired = Fit.repairLots(kept, resting, {
    limits,
    portfolioValue: settings.portfolioValue,
    cash: settings.cash,
    buffer: settings.cashBufferRatio,
    invested: Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio)),
    tooSmall: (c, trade) => belowMinimum(plan, c, trade) !== undefined
  })
  return { adjustments: [...fitted.adjustments, ...repaired.moves], unmet: [...fitted.unmet, ...repaired.unmet] }
}

/**
 * Validates the input, then builds its orders. `risk` brings the run's limits and policy: the no-trade band
 * applies under every policy, and under `fit` the targets are fitted to the limits first.
 */
export const build = (input: BuildInput.BuildInput, risk?: BuildRisk): Either.Either<BuildResult, InvalidInput | ClientOrderIdCollision> =>
  Either.flatMap(BuildInput.validate(input), (plan) => buildPlan(plan, risk))
