/**
 * Fitting a decision to its risk limits (policy `fit`): the decision's targets are moved onto the limits
 * before its orders are built, and every move is recorded `{ rule, symbol?, from, to }`.
 *
 * The rules, in the order they apply:
 * 1. a restricted symbol keeps the position held;
 * 2. `longOnly` turns a short target into 0;
 * 3. `maxNameWeight` (a decided weight) and `maxPositionRatio` (a position's value over portfolio value)
 *    clip each name to the smaller of the two;
 * 4. `maxSectorWeight` scales the names of a sector above its cap pro rata, onto the cap;
 * 5. `maxGrossExposure` scales every name, `maxNetExposure` the side of the book (longs or shorts) that
 *    carries the net exposure past its cap;
 * 6. `maxTurnover` (Σ|target − held| over portfolio value) moves every trade toward the position held by
 *    one factor (a trade inside the no-trade band, which is not sent, takes no share of it).
 * Positions the fit does not move (restricted names, held symbols the decision does not mention) count in
 * every exposure; what they alone break is reported in `unmet`, never hidden.
 *
 * Exposures are measured as the risk engine measures them: position values over portfolio value. A target
 * is an amount of money, `weight × portfolio value × (1 − cash buffer)`, and a scale applies to it as
 * `target × cap / total`: products first, one division, at the lot (`Fraction`). Names scaled to a round
 * amount land on it, to the share.
 *
 * After the lots are rounded (and the no-trade band, minimums and the cash trim have had their say), the
 * builder hands the orders back to `repairLots`: rounding a reducing trade toward zero can add turnover,
 * a trade left unsent can leave a sector or the book above its cap, and these are undone a lot at a time,
 * by trimming trades toward the position held, never breaking another limit to meet one.
 *
 * Pure and deterministic: the same input gives the same fit, byte for byte.
 */
import { Either } from "effect"
import * as BuildInput from "./BuildInput.js"
import * as Dec from "./domain/Decimal.js"
import type { InvalidInput } from "./domain/errors.js"
import type { Symbol } from "./domain/Ids.js"
import type { FitAdjustment, FitOutcome, FitRule, RiskLimits, RiskRule, RiskViolation } from "./domain/Risk.js"
import * as F from "./internal/Fraction.js"

/** A name's fitted target: `hold` keeps the position held; otherwise an amount of money and its weight. */
export type FittedTarget =
  | { readonly hold: true }
  | { readonly hold: false; readonly value: F.Fraction; readonly weight: Dec.Decimal }

export interface Fitted extends FitOutcome {
  /** By index into the plan's items: the fitted target of each name the fit moved, else undefined. */
  readonly items: ReadonlyArray<FittedTarget | undefined>
  /** Held symbols outside the decision that a fit keeps (restricted ones, when missing names are sold). */
  readonly keep: ReadonlySet<Symbol>
}

/** A name while it is fitted. `target` and `held` are amounts of money. */
interface Name {
  readonly symbol: Symbol
  /** Its place in the fit's list (symbol order). */
  index: number
  /** Index into the plan's items, or -1 for a held symbol the decision does not mention. */
  readonly item: number
  readonly sector: string | undefined
  readonly weight: Dec.Decimal
  readonly held: F.Fraction
  free: boolean
  target: F.Fraction
  moved: boolean
}

const bySymbol = (a: { readonly symbol: string }, b: { readonly symbol: string }) =>
  a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0

const ratioText = (value: Dec.Decimal, base: Dec.Decimal) => Dec.toString(Dec.divideForReport(value, base))

const violation = (rule: RiskRule, limit: string, actual: string, at: { symbol?: Symbol; sector?: string } = {}): RiskViolation => {
  const v: { -readonly [K in keyof RiskViolation]: RiskViolation[K] } = {
    rule,
    limit,
    actual,
    reason: at.symbol === undefined ? rule : `${rule}:${at.symbol}`
  }
  if (at.symbol !== undefined) v.symbol = at.symbol
  if (at.sector !== undefined) v.sector = at.sector
  return v
}

/** Σ of fractions, added by denominator first: a fit's targets share a handful of them. */
const total = (values: Iterable<F.Fraction>): F.Fraction => {
  const byDen = new Map<bigint, bigint>()
  for (const v of values) if (v.num !== 0n) byDen.set(v.den, (byDen.get(v.den) ?? 0n) + v.num)
  let sum = F.ZERO
  for (const [den, num] of byDen) sum = F.add(sum, { num, den })
  return sum
}

/** Fits a validated plan to `limits`. */
export const fitPlan = (plan: BuildInput.BuildPlan, limits: RiskLimits): Fitted => {
  const { settings, items, joined } = plan
  const pv = settings.portfolioValue
  const invested = Dec.mul(pv, Dec.sub(Dec.ONE, settings.cashBufferRatio))
  const ev = F.fromDecimal(invested)
  const restricted = new Set<string>(limits.restrictedSymbols ?? [])
  const adjustments: Array<FitAdjustment> = []
  const unmet: Array<RiskViolation> = []

  // Every amount at one scale, so that names scaled by one factor share one denominator.
  const names: Array<Name> = []
  const raw: Array<{ symbol: Symbol; item: number; sector: string | undefined; weight: Dec.Decimal; desired: Dec.Decimal; held: Dec.Decimal; free: boolean }> = []
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!
    const price = joined.price[k] ?? item.price
    if (price === undefined) continue // not traded, and not valued: the builder skips it as missing_price
    const heldValue = Dec.mul(joined.held[k] ?? Dec.ZERO, price)
    const sector = item.sector ?? plan.securities.get(item.symbol)?.sector
    raw.push({ symbol: item.symbol, item: k, sector, weight: item.weight, desired: Dec.mul(item.weight, invested), held: heldValue, free: true })
  }
  for (const h of joined.heldOutside) {
    if (h.price === undefined) continue
    const sector = plan.securities.get(h.symbol)?.sector
    const desired = Dec.ZERO
    raw.push({ symbol: h.symbol, item: -1, sector, weight: Dec.ZERO, desired, held: Dec.mul(h.quantity, h.price), free: settings.liquidateMissing })
  }
  let scale = 0
  for (const r of raw) scale = Math.max(scale, r.desired.scale, r.held.scale)
  const atScale = (d: Dec.Decimal): F.Fraction => F.fromDecimal(Dec.make(d.value * 10n ** BigInt(scale - d.scale), scale))
  for (const r of raw) {
    names.push({
      symbol: r.symbol,
      index: 0,
      item: r.item,
      sector: r.sector,
      weight: r.weight,
      held: atScale(r.held),
      free: r.free,
      target: r.free ? atScale(r.desired) : atScale(r.held),
      moved: false
    })
  }
  if (!joined.ascending || joined.heldOutside.length > 0) names.sort(bySymbol)
  for (let i = 0; i < names.length; i++) names[i]!.index = i

  const weightOf = (n: Name): string => (n.moved ? F.toString(F.div(n.target, ev)) : Dec.toString(n.weight))
  const move = (n: Name, rule: FitRule, to: F.Fraction, extra: { sector?: string } = {}) => {
    const from = weightOf(n)
    n.target = to
    n.moved = true
    adjustments.push({ rule, symbol: n.symbol, ...(extra.sector === undefined ? {} : { sector: extra.sector }), from, to: weightOf(n) })
  }
  const money = (ratio: Dec.Decimal) => F.fromDecimal(Dec.mul(ratio, pv))
  const asRatio = (value: F.Fraction) => F.toString(F.div(value, F.fromDecimal(pv)))
  // Violations state their figures as the risk engine does, to ten decimals.
  const reported = (value: F.Fraction, base: F.Fraction = F.fromDecimal(pv)) => ratioText(F.toDecimal(F.div(value, base)), Dec.ONE)
  const fixed = (n: Name) => !n.free

  // 1. Restricted symbols keep the position held.
  for (const n of names) {
    if (!restricted.has(n.symbol)) continue
    const wanted = n.target
    n.free = false
    n.target = n.held
    if (n.item === -1 && !settings.liquidateMissing) continue // left alone anyway
    if (!F.eq(wanted, n.held)) {
      adjustments.push({ rule: "restricted_symbol", symbol: n.symbol, from: Dec.toString(n.weight), to: F.toString(F.div(n.held, ev)) })
      n.moved = true
    }
  }

  // 2. Long only: no short target.
  if (limits.longOnly === true) {
    for (const n of names) if (n.free && F.sign(n.target) < 0) move(n, "long_only", F.ZERO)
  }

  // 3. One name: the smaller of the name cap (of a decided weight) and the position cap (of a value).
  const nameCap = limits.maxNameWeight === undefined ? undefined : F.fromDecimal(Dec.mul(limits.maxNameWeight, invested))
  const positionCap = limits.maxPositionRatio === undefined ? undefined : money(limits.maxPositionRatio)
  if (nameCap !== undefined || positionCap !== undefined) {
    const [cap, rule] = nameCap !== undefined && (positionCap === undefined || !F.gt(nameCap, positionCap))
      ? [nameCap, "max_name_weight" as const]
      : [positionCap!, "max_position_ratio" as const]
    for (const n of names) if (n.free && F.gt(F.abs(n.target), cap)) move(n, rule, F.sign(n.target) < 0 ? F.negate(cap) : cap)
  }

  // 4. Sectors above their cap: their free names scaled pro rata onto what the fixed ones leave.
  const sectorCap = limits.maxSectorWeight === undefined ? undefined : money(limits.maxSectorWeight)
  const sectors = new Map<string, Array<Name>>()
  if (sectorCap !== undefined) {
    for (const n of names) {
      if (n.sector === undefined) continue
      let members = sectors.get(n.sector)
      if (members === undefined) sectors.set(n.sector, members = [])
      members.push(n)
    }
    for (const sector of [...sectors.keys()].sort()) {
      const members = sectors.get(sector)!
      const held = total(members.filter(fixed).map((n) => F.abs(n.held)))
      const free = total(members.filter((n) => n.free).map((n) => F.abs(n.target)))
      if (!F.gt(F.add(held, free), sectorCap) || F.isZero(free)) continue
      const room = F.max(F.sub(sectorCap, held), F.ZERO)
      for (const n of members) if (n.free && !F.isZero(n.target)) move(n, "max_sector_weight", F.scale(n.target, room, free), { sector })
    }
  }

  /** Scales the free names `which` selects by `room / amount` (both positive), recorded once with the factor. */
  const scaleBook = (rule: FitRule, which: (n: Name) => boolean, room: F.Fraction, amount: F.Fraction, before: F.Fraction, after: () => F.Fraction) => {
    for (const n of names) {
      if (n.free && which(n) && !F.isZero(n.target)) {
        n.target = F.scale(n.target, room, amount)
        n.moved = true
      }
    }
    adjustments.push({ rule, from: asRatio(before), to: asRatio(after()), factor: F.toString(F.div(room, amount)) })
  }

  // 5. The book: gross, then net.
  const gross = () => total(names.map((n) => F.abs(n.target)))
  const net = () => total(names.map((n) => n.target))
  if (limits.maxGrossExposure !== undefined) {
    const cap = money(limits.maxGrossExposure)
    const before = gross()
    const free = total(names.filter((n) => n.free).map((n) => F.abs(n.target)))
    if (F.gt(before, cap) && !F.isZero(free)) {
      const room = F.max(F.sub(cap, F.sub(before, free)), F.ZERO)
      scaleBook("max_gross_exposure", () => true, room, free, before, gross)
    }
  }
  if (limits.maxNetExposure !== undefined) {
    const cap = money(limits.maxNetExposure)
    const before = net()
    const side = F.sign(before)
    if (F.gt(F.abs(before), cap)) {
      // Only the side that carries the book past its cap: scaling the other down would add to the excess.
      const onSide = (n: Name) => F.sign(n.target) === side
      const carried = F.abs(total(names.filter((n) => n.free && onSide(n)).map((n) => n.target)))
      if (!F.isZero(carried)) {
        const excess = F.sub(F.abs(before), cap)
        const room = F.max(F.sub(carried, excess), F.ZERO)
        scaleBook("max_net_exposure", onSide, room, carried, before, net)
      }
    }
  }

  // 6. Turnover: every trade toward the position held, by one factor. Moving back toward the held book can
  // leave a sector that was above its cap still above it; a name that would add to such a sector keeps
  // its position instead, and the factor is found again for the rest.
  if (limits.maxTurnover !== undefined) {
    const cap = money(limits.maxTurnover)
    const wanted = names.map((n) => n.target)
    const trades = names.map((n, i) => F.sub(wanted[i]!, n.held))
    const kept = new Set<number>()
    // A trade inside the no-trade band is not sent whatever the factor (scaling only makes it smaller): it
    // takes no share of the turnover.
    const band = limits.minTradeWeight === undefined ? undefined : money(limits.minTradeWeight)
    const unsent = trades.map((t) => band !== undefined && F.lt(F.abs(t), band))
    const moving = (i: number) => names[i]!.free && !kept.has(i) && !F.isZero(trades[i]!) && !unsent[i]
    const amountOf = () => total(trades.map((t, i) => (moving(i) ? F.abs(t) : F.ZERO)))
    const before = amountOf()
    if (F.gt(before, cap)) {
      let amount = before
      for (;;) {
        const whole = !F.gt(amount, cap)
        for (let i = 0; i < names.length; i++) {
          if (moving(i)) names[i]!.target = whole ? wanted[i]! : F.add(names[i]!.held, F.scale(trades[i]!, cap, amount))
        }
        const adding: Array<number> = []
        if (sectorCap !== undefined) {
          for (const members of sectorsAbove(sectors, sectorCap)) {
            for (const n of members) if (moving(n.index) && adds(n)) adding.push(n.index)
          }
        }
        if (adding.length === 0) break
        for (const i of adding) {
          kept.add(i)
          names[i]!.target = names[i]!.held
        }
        amount = amountOf()
      }
      const factor = F.gt(amount, cap) ? F.div(cap, amount) : { num: 1n, den: 1n }
      if (F.gt(amount, cap)) for (let i = 0; i < names.length; i++) if (moving(i)) names[i]!.moved = true
      adjustments.push({ rule: "max_turnover", from: asRatio(before), to: asRatio(F.min(amount, cap)), factor: F.toString(factor) })
      for (const i of [...kept].sort((a, b) => a - b)) {
        const n = names[i]!
        // From where the final factor would have taken it, to the position held.
        n.target = F.add(n.held, F.mul(trades[i]!, factor))
        n.moved = true
        move(n, "max_sector_weight", n.held, { sector: n.sector! })
      }
    }
  }

  // What the fit leaves beyond a limit: positions it may not move, and trades the turnover cap held back.
  for (const n of names) {
    const value = F.abs(n.target)
    const at = { symbol: n.symbol }
    if (limits.longOnly === true && F.sign(n.target) < 0) unmet.push(violation("long_only", "0", reported(n.target), at))
    if (nameCap !== undefined && n.item >= 0 && F.gt(value, nameCap)) {
      unmet.push(violation("max_name_weight", Dec.toString(limits.maxNameWeight!), reported(value, ev), at))
    }
    if (positionCap !== undefined && F.gt(value, positionCap)) {
      unmet.push(violation("max_position_ratio", Dec.toString(limits.maxPositionRatio!), reported(value), at))
    }
  }
  if (sectorCap !== undefined) {
    for (const sector of [...sectors.keys()].sort()) {
      const value = total(sectors.get(sector)!.map((n) => F.abs(n.target)))
      if (F.gt(value, sectorCap)) unmet.push(violation("max_sector_weight", Dec.toString(limits.maxSectorWeight!), reported(value), { sector }))
    }
  }
  if (limits.maxGrossExposure !== undefined && F.gt(gross(), money(limits.maxGrossExposure))) {
    unmet.push(violation("max_gross_exposure", Dec.toString(limits.maxGrossExposure), reported(gross())))
  }
  if (limits.maxNetExposure !== undefined && F.gt(F.abs(net()), money(limits.maxNetExposure))) {
    unmet.push(violation("max_net_exposure", Dec.toString(limits.maxNetExposure), reported(F.abs(net()))))
  }

  const fittedItems: Array<FittedTarget | undefined> = new Array(items.length).fill(undefined)
  const keep = new Set<Symbol>()
  for (const n of names) {
    if (restricted.has(n.symbol)) {
      if (n.item >= 0) fittedItems[n.item] = { hold: true }
      else keep.add(n.symbol)
    } else if (n.moved && n.item >= 0) {
      fittedItems[n.item] = { hold: false, value: n.target, weight: F.toDecimal(F.div(n.target, ev)) }
    } else if (n.moved) {
      // A held symbol outside the decision, sold by liquidateMissing, kept back by a limit.
      if (F.eq(n.target, n.held)) keep.add(n.symbol)
    }
  }
  return { items: fittedItems, keep, adjustments, unmet }
}

/** True when a target adds to the position held (opens, grows it, or crosses zero). */
const adds = (n: Name): boolean => {
  const t = F.sign(n.target)
  if (t === 0) return false
  const h = F.sign(n.held)
  return h === 0 || h !== t || F.gt(F.abs(n.target), F.abs(n.held))
}

const sectorsAbove = (sectors: ReadonlyMap<string, ReadonlyArray<Name>>, cap: F.Fraction): Array<ReadonlyArray<Name>> =>
  [...sectors.keys()].sort().flatMap((s) => {
    const members = sectors.get(s)!
    return F.gt(total(members.map((n) => F.abs(n.target))), cap) ? [members] : []
  })

// ---------------------------------------------------------------------------------------------------------
// After the lots

/** A name as the builder leaves it: an order (`trade` ≠ 0, which the repair may trim) or a position. */
export interface LotName {
  readonly symbol: Symbol
  readonly sector: string | undefined
  /** What the position is valued at (the order's reference price). */
  readonly price: Dec.Decimal
  /** What a buy costs, and a sale brings (the limit price, if any). */
  readonly cost: Dec.Decimal
  readonly current: Dec.Decimal
  readonly lot: Dec.Decimal
  /** Signed; trimmed toward zero by the repair. */
  trade: Dec.Decimal
  /** The fitted target, an amount of money (absent for a position without an order). */
  readonly goal?: F.Fraction
}

export interface LotLimits {
  readonly limits: RiskLimits
  readonly portfolioValue: Dec.Decimal
  /** Cash before the orders, and the part of the portfolio kept back: buys cost at most the rest. */
  readonly cash: Dec.Decimal
  readonly buffer: Dec.Decimal
  /** The invested value, for the weights the moves are recorded in. */
  readonly invested: Dec.Decimal
  /** True when a trade of this size may not be sent (below a minimum): it is then trimmed to zero. */
  readonly tooSmall: (name: LotName, trade: Dec.Decimal) => boolean
}

type Check = { readonly rule: "max_turnover" | "max_gross_exposure" | "max_net_exposure" } | { readonly rule: "max_sector_weight"; readonly sector: string }

/**
 * Trims the orders, a lot at a time toward the positions held, until the rounded book meets the limits the
 * weights met: turnover, gross, net (as the risk engine judges them: above the cap and above where the book
 * was) and each sector an order adds to. A trim is made only if it keeps every limit then met, and cash
 * for the buys. Returns the moves, one a name and rule, and whatever could not be met.
 */
export const repairLots = (orders: ReadonlyArray<LotName>, positions: ReadonlyArray<LotName>, at: LotLimits) => {
  const { limits } = at
  const pv = at.portfolioValue
  const capOf = (ratio: Dec.Decimal | undefined) => (ratio === undefined ? undefined : Dec.mul(ratio, pv))
  const turnoverCap = capOf(limits.maxTurnover)
  const grossCap = capOf(limits.maxGrossExposure)
  const netCap = capOf(limits.maxNetExposure)
  const sectorCap = capOf(limits.maxSectorWeight)
  const moves = new Map<string, FitAdjustment & { readonly name: LotName }>()
  const unmet: Array<RiskViolation> = []
  if (turnoverCap === undefined && grossCap === undefined && netCap === undefined && sectorCap === undefined) return { moves: [], unmet }

  const post = (n: LotName, trade = n.trade) => Dec.add(n.current, trade)
  const reduces = (n: LotName, trade = n.trade) =>
    !Dec.isZero(n.current) && Dec.sign(trade) === -Dec.sign(n.current) && Dec.lte(Dec.abs(trade), Dec.abs(n.current))
  const adding = (n: LotName, trade = n.trade) => !Dec.isZero(trade) && !reduces(n, trade)

  let turnover = Dec.ZERO
  let grossBefore = Dec.ZERO
  let grossAfter = Dec.ZERO
  let netBefore = Dec.ZERO
  let netAfter = Dec.ZERO
  let buys = Dec.ZERO
  let proceeds = Dec.ZERO
  const sectorAfter = new Map<string, Dec.Decimal>()
  const sectorAdding = new Map<string, number>()
  const proceedsOf = (n: LotName, trade: Dec.Decimal) =>
    Dec.isNegative(trade) && Dec.isPositive(n.current) ? Dec.mul(Dec.min(Dec.negate(trade), n.current), n.cost) : Dec.ZERO
  for (const n of [...orders, ...positions]) {
    const value = Dec.mul(post(n), n.price)
    turnover = Dec.add(turnover, Dec.abs(Dec.mul(n.trade, n.price)))
    grossBefore = Dec.add(grossBefore, Dec.abs(Dec.mul(n.current, n.price)))
    netBefore = Dec.add(netBefore, Dec.mul(n.current, n.price))
    grossAfter = Dec.add(grossAfter, Dec.abs(value))
    netAfter = Dec.add(netAfter, value)
    if (Dec.isPositive(n.trade)) buys = Dec.add(buys, Dec.mul(n.trade, n.cost))
    proceeds = Dec.add(proceeds, proceedsOf(n, n.trade))
    if (n.sector !== undefined && sectorCap !== undefined) {
      sectorAfter.set(n.sector, Dec.add(sectorAfter.get(n.sector) ?? Dec.ZERO, Dec.abs(value)))
      if (adding(n)) sectorAdding.set(n.sector, (sectorAdding.get(n.sector) ?? 0) + 1)
    }
  }
  const grossBound = grossCap === undefined ? undefined : Dec.max(grossCap, grossBefore)
  const netBound = netCap === undefined ? undefined : Dec.max(netCap, Dec.abs(netBefore))
  const budget = () => Dec.sub(Dec.add(at.cash, proceeds), Dec.mul(pv, at.buffer))

  /** How far a check is from met: positive when broken. */
  const excess = (c: Check): Dec.Decimal => {
    switch (c.rule) {
      case "max_turnover":
        return Dec.sub(turnover, turnoverCap!)
      case "max_gross_exposure":
        return Dec.sub(grossAfter, grossBound!)
      case "max_net_exposure":
        return Dec.sub(Dec.abs(netAfter), netBound!)
      case "max_sector_weight":
        return (sectorAdding.get(c.sector) ?? 0) === 0 ? Dec.negate(Dec.ONE) : Dec.sub(sectorAfter.get(c.sector)!, sectorCap!)
    }
  }
  const checks: Array<Check> = []
  if (sectorCap !== undefined) for (const sector of [...sectorAfter.keys()].sort()) checks.push({ rule: "max_sector_weight", sector })
  if (grossCap !== undefined) checks.push({ rule: "max_gross_exposure" })
  if (netCap !== undefined) checks.push({ rule: "max_net_exposure" })
  if (turnoverCap !== undefined) checks.push({ rule: "max_turnover" })
  const cashMet = () => Dec.lte(buys, budget())

  /** Applies `trade` to `n` (updating every total); returns the change to undo it. */
  const apply = (n: LotName, trade: Dec.Decimal) => {
    const before = n.trade
    const was = Dec.mul(post(n), n.price)
    const will = Dec.mul(post(n, trade), n.price)
    turnover = Dec.add(turnover, Dec.mul(Dec.sub(Dec.abs(trade), Dec.abs(before)), n.price))
    grossAfter = Dec.add(grossAfter, Dec.sub(Dec.abs(will), Dec.abs(was)))
    netAfter = Dec.add(netAfter, Dec.sub(will, was))
    if (Dec.isPositive(before)) buys = Dec.sub(buys, Dec.mul(before, n.cost))
    if (Dec.isPositive(trade)) buys = Dec.add(buys, Dec.mul(trade, n.cost))
    proceeds = Dec.add(proceeds, Dec.sub(proceedsOf(n, trade), proceedsOf(n, before)))
    if (n.sector !== undefined && sectorCap !== undefined) {
      sectorAfter.set(n.sector, Dec.add(sectorAfter.get(n.sector)!, Dec.sub(Dec.abs(will), Dec.abs(was))))
      const count = (adding(n, trade) ? 1 : 0) - (adding(n, before) ? 1 : 0)
      if (count !== 0) sectorAdding.set(n.sector, (sectorAdding.get(n.sector) ?? 0) + count)
    }
    n.trade = trade
    return before
  }

  /** `lots` lots less of `n`'s trade, toward the position held; zero when what is left may not be sent. */
  const trimmed = (n: LotName, lots: bigint): Dec.Decimal => {
    const size = Dec.sub(Dec.abs(n.trade), Dec.times(lots, n.lot))
    if (!Dec.isPositive(size)) return Dec.ZERO
    const trade = Dec.isNegative(n.trade) ? Dec.negate(size) : size
    return at.tooSmall(n, trade) ? Dec.ZERO : trade
  }

  /** Trims `n` by `lots` if that lowers `target` and keeps every other check, and cash, as met as before. */
  const attempt = (n: LotName, target: Check, lots: bigint): boolean => {
    const met = checks.map((c) => !Dec.isPositive(excess(c)))
    const cash = cashMet()
    const was = excess(target)
    const from = n.trade
    apply(n, trimmed(n, lots))
    const ok = Dec.lt(excess(target), was) && checks.every((c, i) => !met[i] || !Dec.isPositive(excess(c))) && (!cash || cashMet())
    if (!ok) apply(n, from)
    else record(n, target, from)
    return ok
  }

  /** Trims `n` by up to `lots` lots: as many as another check allows, halving until one does. */
  const trim = (n: LotName, target: Check, lots: bigint): boolean => {
    if (Dec.isZero(n.trade)) return false
    for (let k = lots < 1n ? 1n : lots; k >= 1n; k /= 2n) if (attempt(n, target, k)) return true
    return false
  }

  /** The lots of `n`'s trade that would take `amount` off a check (each lot moves it by at most lot × price). */
  const lotsFor = (n: LotName, amount: Dec.Decimal): bigint => {
    const all = Dec.quotientCeil(Dec.abs(n.trade), n.lot)
    const wanted = Dec.quotientCeil(amount, Dec.mul(n.lot, n.price))
    return wanted < all ? (wanted < 1n ? 1n : wanted) : all
  }

  const weight = (n: LotName, trade: Dec.Decimal) => F.toString(F.div(F.fromDecimal(Dec.mul(post(n, trade), n.price)), F.fromDecimal(at.invested)))
  const record = (n: LotName, c: Check, from: Dec.Decimal) => {
    const key = `${c.rule}\u0000${n.symbol}`
    const first = moves.get(key)
    const move = {
      name: n,
      rule: c.rule,
      symbol: n.symbol,
      ...(c.rule === "max_sector_weight" ? { sector: c.sector } : {}),
      from: first?.from ?? weight(n, from),
      to: weight(n, n.trade),
      lots: true as const
    }
    moves.set(key, move)
  }

  /** By how much a reduction went past its fitted target (rounded toward zero): the turnover it added. */
  const overshoot = (n: LotName): Dec.Decimal => {
    if (n.goal === undefined || !reduces(n)) return Dec.ZERO
    const goal = F.abs(n.goal)
    const value = F.fromDecimal(Dec.abs(Dec.mul(post(n), n.price)))
    if (!F.lt(value, goal)) return Dec.ZERO
    return F.toDecimal(F.sub(goal, value))
  }

  /** Trades that, trimmed, lower a check. */
  const candidates = (c: Check): Array<LotName> => {
    const live = orders.filter((n) => !Dec.isZero(n.trade))
    switch (c.rule) {
      case "max_turnover":
        return [...live.filter((n) => adding(n)), ...live.filter((n) => !adding(n))]
      case "max_gross_exposure":
        return live.filter((n) => adding(n))
      case "max_net_exposure": {
        const side = Dec.sign(netAfter)
        const onSide = live.filter((n) => Dec.sign(n.trade) === side)
        return [...onSide.filter((n) => adding(n)), ...onSide.filter((n) => !adding(n))]
      }
      case "max_sector_weight":
        return live.filter((n) => n.sector === c.sector && adding(n))
    }
  }

  /**
   * Meets a check if trims can: for turnover, the reductions a rounding took past their target are brought
   * back to it first; then every candidate gives its share, pro rata to its trade; then, in turn, whatever
   * is still needed.
   */
  const meet = (c: Check) => {
    const broken = () => Dec.isPositive(excess(c))
    if (c.rule === "max_turnover") {
      for (const n of orders) {
        if (!broken()) return
        const past = overshoot(n)
        if (!Dec.isPositive(past)) continue
        // Back to the lot on the near side of the target, or as far as the excess needs.
        const back = Dec.quotientCeil(past, Dec.mul(n.lot, n.price))
        const needed = lotsFor(n, excess(c))
        trim(n, c, back < needed ? back : needed)
      }
    }
    if (!broken()) return
    const list = candidates(c)
    const share = excess(c)
    const sized = Dec.sum(list.map((n) => Dec.abs(Dec.mul(n.trade, n.price))))
    if (Dec.isPositive(sized)) {
      for (const n of list) {
        if (!broken()) return
        const part = Dec.mul(share, Dec.abs(Dec.mul(n.trade, n.price)))
        trim(n, c, Dec.quotientCeil(part, Dec.mul(sized, Dec.mul(n.lot, n.price))))
      }
    }
    for (const n of candidates(c)) {
      if (!broken()) return
      trim(n, c, lotsFor(n, excess(c)))
    }
  }

  const given = new Set<Check>()
  for (;;) {
    const broken = checks.find((c) => !given.has(c) && Dec.isPositive(excess(c)))
    if (broken === undefined) break
    meet(broken)
    if (Dec.isPositive(excess(broken))) given.add(broken)
  }
  for (const c of given) {
    const [limit, actual] = "sector" in c
      ? [limits.maxSectorWeight!, sectorAfter.get(c.sector)!]
      : c.rule === "max_turnover"
      ? [limits.maxTurnover!, turnover]
      : c.rule === "max_gross_exposure"
      ? [limits.maxGrossExposure!, grossAfter]
      : [limits.maxNetExposure!, Dec.abs(netAfter)]
    unmet.push(violation(c.rule, Dec.toString(limit), ratioText(actual, pv), "sector" in c ? { sector: c.sector } : {}))
  }
  return { moves: [...moves.values()].map(({ name: _, ...move }) => move as FitAdjustment), unmet }
}

/** A fitted decision, for a host to show before any run exists: each name's weight before and after. */
export interface FittedDecision extends FitOutcome {
  readonly weights: ReadonlyArray<{ readonly symbol: Symbol; readonly decided: Dec.Decimal; readonly fitted: Dec.Decimal; readonly hold: boolean }>
}

/**
 * Fits a decision alone (no orders): validates it as the builder would, then moves its weights onto the
 * limits. A name kept at its position (`hold`) has the weight of what is held. Lot rounding is not part of
 * this: `OrderBuilder.build` with policy `fit` gives the orders, and the moves it made after the lots.
 */
export const fitDecision = (input: BuildInput.BuildInput, limits: RiskLimits): Either.Either<FittedDecision, InvalidInput> =>
  Either.map(BuildInput.validate(input), (plan) => {
    const fitted = fitPlan(plan, limits)
    const invested = Dec.mul(plan.settings.portfolioValue, Dec.sub(Dec.ONE, plan.settings.cashBufferRatio))
    const weights = plan.items.map((item, k) => {
      const target = fitted.items[k]
      if (target === undefined) return { symbol: item.symbol, decided: item.weight, fitted: item.weight, hold: false }
      if (!target.hold) return { symbol: item.symbol, decided: item.weight, fitted: target.weight, hold: false }
      const price = plan.joined.price[k] ?? item.price ?? Dec.ONE
      const value = F.fromDecimal(Dec.mul(plan.joined.held[k] ?? Dec.ZERO, price))
      return { symbol: item.symbol, decided: item.weight, fitted: F.toDecimal(F.div(value, F.fromDecimal(invested))), hold: true }
    })
    return { weights, adjustments: fitted.adjustments, unmet: fitted.unmet }
  })
