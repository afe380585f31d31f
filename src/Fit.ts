/**
 * Fitting a decision to its risk limits (policy `fit`): the decision's targets are moved onto the limits
 * before its orders are built, and every move is recorded `{ rule, symbol?, from, to }`: a rule of one name
 * once for that name; a sector's scale once for the sector and once for each of its names, with its factor;
 * a book-wide scale (gross, net, turnover) once with its factor.
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
 * `target × cap / total`: the factors are exact fractions, multiplied together, and a name's target is
 * divided out once, kept to 18 decimals more than the money it came from (toward zero). Lots counted from
 * it are exactly those of the exact value, so names scaled to a round amount land on it, to the share.
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

/**
 * A name's fitted target: `hold` keeps the position held (a restricted symbol; or one that would add to a
 * sector the turnover cap keeps above its cap); otherwise an amount of money and its weight. The amount
 * keeps 18 decimals more than the amounts it came from (and at least those of price × lot), toward zero:
 * lots counted from it are those of the exact value.
 */
export type FittedTarget =
  | { readonly hold: true; readonly rule: "restricted_symbol" | "max_sector_weight" }
  | { readonly hold: false; readonly value: Dec.Decimal; readonly weight: Dec.Decimal }

export interface Fitted extends FitOutcome {
  /** By index into the plan's items: the fitted target of each name the fit moved, else undefined. */
  readonly items: ReadonlyArray<FittedTarget | undefined>
  /** Held symbols outside the decision, sold when missing names are: where the fit moved their target. */
  readonly outside: ReadonlyMap<Symbol, FittedTarget>
}

/**
 * A name while it is fitted. Amounts are integers in units of 10^-scale of money (one scale for the whole
 * fit). A free name's target is `base × group.num / group.den`: the rules of one name move its base, the
 * scales of a sector or of the book move its group's factor, and a name costs arithmetic of its own only
 * at the end (a division for its target, one for its weight) and under a turnover cap.
 */
interface Name {
  readonly symbol: Symbol
  /** Index into the plan's items, or -1 for a held symbol the decision does not mention. */
  readonly item: number
  /** Index into the fit's sectors, or -1. */
  readonly sector: number
  readonly weight: Dec.Decimal
  readonly quantity: Dec.Decimal
  readonly price: Dec.Decimal
  /** What it holds, `quantity × price` in units. */
  held: bigint
  free: boolean
  base: bigint
  group: Group | undefined
  moved: boolean
  /** Under a turnover cap: its trade, `(target − held) × den`, over its group's denominator. */
  trade: bigint
  /** Under a turnover cap: its trade takes part (not inside the band, not held back). */
  moving: boolean
  /** Held back by the turnover cap (it would add to a sector left above its cap). */
  kept: boolean
  /** A restricted symbol: it keeps the position held. */
  restricted: boolean
  /** The weight its last move recorded (where the next one starts from). */
  recorded: Dec.Decimal | undefined
  /** The target once fitted, in units at the target scale (see `EXTRA_DIGITS`). */
  t: bigint
}

/** The free names of one sector (or none) on one side of the book, and the factor they are scaled by. */
interface Group {
  readonly index: number
  readonly sector: number
  readonly side: 1 | -1
  readonly names: Array<Name>
  /** Σ|base|. */
  sum: bigint
  num: bigint
  den: bigint
}

interface Sector {
  readonly name: string
  /** Σ|held| of its names the fit does not move. */
  fixed: bigint
  readonly groups: Array<Group>
  readonly names: Array<Name>
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

const abs = (x: bigint) => (x < 0n ? -x : x)

/**
 * Σ of fractions, added over the product of their denominators (a handful: one a group) and reduced once:
 * a sector scaled onto its cap sums back to the cap, a short number again.
 */
const total = (values: Iterable<F.Fraction>): F.Fraction => {
  let sum = F.ZERO
  for (const v of values) if (v.num !== 0n) sum = F.add(sum, v)
  return F.reduce(sum)
}

/** `room / amount` as one reduced factor. */
const factorOf = (room: F.Fraction, amount: F.Fraction): F.Fraction => F.reduce(F.div(room, amount))

const whole = (num: bigint): F.Fraction => ({ num, den: 1n })

/** Fits a validated plan to `limits`. */
export const fitPlan = (plan: BuildInput.BuildPlan, limits: RiskLimits): Fitted => {
  const { settings, items, joined } = plan
  const pv = settings.portfolioValue
  const invested = Dec.mul(pv, Dec.sub(Dec.ONE, settings.cashBufferRatio))
  const restricted = new Set<string>(limits.restrictedSymbols ?? [])
  const adjustments: Array<FitAdjustment> = []
  const unmet: Array<RiskViolation> = []
  const moneyOf = (ratio: Dec.Decimal | undefined, base = pv) => (ratio === undefined ? undefined : Dec.mul(ratio, base))
  const caps = [
    moneyOf(limits.maxNameWeight, invested),
    moneyOf(limits.maxPositionRatio),
    moneyOf(limits.maxSectorWeight),
    moneyOf(limits.maxGrossExposure),
    moneyOf(limits.maxNetExposure),
    moneyOf(limits.maxTurnover),
    moneyOf(limits.minTradeWeight)
  ] as const

  // What each name wants (weight × invested) and holds (quantity × price), as integers of money at one
  // scale: the names first, and the scale from the operands' own, then each amount by one product.
  const names: Array<Name> = []
  const sectors: Array<Sector> = []
  const sectorIndex = new Map<string, number>()
  let scale = Math.max(pv.scale, invested.scale, 0)
  for (let i = 0; i < caps.length; i++) {
    const c = caps[i]
    if (c !== undefined && c.scale > scale) scale = c.scale
  }
  const securities = plan.securities.size === 0 ? undefined : plan.securities
  const take = (symbol: Symbol, item: number, sectorName: string | undefined, weight: Dec.Decimal, quantity: Dec.Decimal, price: Dec.Decimal, free: boolean) => {
    let sector = -1
    if (sectorName !== undefined) {
      const known = sectorIndex.get(sectorName)
      if (known !== undefined) sector = known
      else {
        sector = sectors.length
        sectorIndex.set(sectorName, sector)
        sectors.push({ name: sectorName, fixed: 0n, groups: [], names: [] })
      }
    }
    names.push({ symbol, item, sector, weight, quantity, price, held: 0n, free, base: 0n, group: undefined, moved: false, trade: 0n, moving: false, kept: false, restricted: false, recorded: undefined, t: 0n })
    // The targets keep at least the decimals of price × lot (see below).
    const lot = securities?.get(symbol)?.lotSize ?? settings.lotSize
    const needed = Math.max(weight.scale + invested.scale, quantity.scale + price.scale, price.scale + lot.scale - EXTRA_DIGITS)
    if (needed > scale) scale = needed
  }
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!
    const price = joined.price[k] ?? item.price
    if (price === undefined) continue // not traded, and not valued: the builder skips it as missing_price
    const sector = item.sector ?? securities?.get(item.symbol)?.sector
    take(item.symbol, k, sector, item.weight, joined.held[k] ?? Dec.ZERO, price, true)
  }
  for (let k = 0; k < joined.heldOutside.length; k++) {
    const h = joined.heldOutside[k]!
    if (h.price !== undefined) take(h.symbol, -1, plan.securities.get(h.symbol)?.sector, Dec.ZERO, h.quantity, h.price, settings.liquidateMissing)
  }
  const units = (d: Dec.Decimal): bigint => (d.scale === scale ? d.value : d.value * F.pow10(scale - d.scale))
  /** `a × b` in units (the scale is at least theirs), without the decimal between. */
  const product = (a: Dec.Decimal, b: Dec.Decimal): bigint => {
    const value = a.value * b.value
    const at = a.scale + b.scale
    return at === scale ? value : value * F.pow10(scale - at)
  }
  const [nameCap, positionCap, sectorCap, grossCap, netCap, turnoverCap, band] = caps.map((c) => (c === undefined ? undefined : units(c)))
  const ev = units(invested)
  const pvUnits = units(pv)
  // invested × 10^k once for each scale of weight met (a decision's weights mostly share one): a name's
  // base is then one product.
  const investedBy: Array<bigint | undefined> = []
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!
    n.held = product(n.quantity, n.price)
    if (!n.free) n.base = n.held
    else if (n.weight.value === 0n) n.base = 0n
    else {
      const k = scale - n.weight.scale - invested.scale
      const by = investedBy[k] ?? (investedBy[k] = invested.value * F.pow10(k))
      n.base = n.weight.value * by
    }
  }
  if (!joined.ascending || joined.heldOutside.length > 0) names.sort(bySymbol)
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!
    if (n.sector >= 0) sectors[n.sector]!.names.push(n)
  }

  /** A weight (of the invested value) from an amount `num / den` of units. */
  const weightOf = (num: bigint, den = 1n) => F.toDecimal({ num, den: den * ev })
  /** A ratio of portfolio value, as the records state exposures. */
  const ratioOf = (value: F.Fraction) => F.toDecimal(F.div(value, whole(pvUnits)))
  // Violations state their figures as the risk engine does: ten decimals, half to even.
  const reported = (value: F.Fraction, base = pvUnits) => Dec.toString(F.toReport(F.div(value, whole(base))))
  const move = (n: Name, rule: FitRule, to: Dec.Decimal, sector?: string) => {
    const from = n.recorded ?? n.weight
    adjustments.push(sector === undefined ? { rule, symbol: n.symbol, from, to } : { rule, symbol: n.symbol, sector, from, to })
    n.recorded = to
    n.moved = true
  }

  // 1. Restricted symbols keep the position held.
  for (let i = 0; restricted.size > 0 && i < names.length; i++) {
    const n = names[i]!
    if (!restricted.has(n.symbol)) continue
    n.restricted = true
    const wanted = n.base
    n.free = false
    n.base = n.held
    if (n.item === -1 && !settings.liquidateMissing) continue // left alone anyway
    if (wanted !== n.held) move(n, "restricted_symbol", weightOf(n.held))
  }

  // 2. Long only: no short target.
  if (limits.longOnly === true) {
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!
      if (n.free && n.base < 0n) {
        n.base = 0n
        move(n, "long_only", Dec.ZERO)
      }
    }
  }

  // 3. One name: the smaller of the name cap (of a decided weight) and the position cap (of a value).
  if (nameCap !== undefined || positionCap !== undefined) {
    const byName = nameCap !== undefined && (positionCap === undefined || nameCap <= positionCap)
    const limit = byName ? nameCap! : positionCap!
    const rule = byName ? "max_name_weight" : "max_position_ratio"
    const to = byName ? limits.maxNameWeight! : weightOf(limit)
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!
      if (!n.free || abs(n.base) <= limit) continue
      n.base = n.base < 0n ? -limit : limit
      move(n, rule, n.base < 0n ? Dec.negate(to) : to)
    }
  }

  // The free names in groups, one a sector (or none) and side; what the others hold, by sector and in all.
  const groups: Array<Group> = []
  const groupOf: Array<Group | undefined> = []
  let fixedGross = 0n
  let fixedNet = 0n
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!
    if (!n.free) {
      fixedGross += abs(n.held)
      fixedNet += n.held
      if (n.sector >= 0) sectors[n.sector]!.fixed += abs(n.held)
      continue
    }
    const side = n.base < 0n ? -1 : 1
    const key = (n.sector + 1) * 2 + (side < 0 ? 1 : 0)
    let g = groupOf[key]
    if (g === undefined) {
      groupOf[key] = g = { index: groups.length, sector: n.sector, side, names: [], sum: 0n, num: 1n, den: 1n }
      groups.push(g)
      if (n.sector >= 0) sectors[n.sector]!.groups.push(g)
    }
    g.names.push(n)
    g.sum += abs(n.base)
    n.group = g
  }
  const valueOf = (g: Group): F.Fraction => ({ num: g.sum * g.num, den: g.den })
  const scaleGroup = (g: Group, factor: F.Fraction) => {
    // The product reduced too (a sector's factor and the book's share a third of their digits): every
    // name's trade and target is worked out over this denominator, thousands of times.
    const product = F.reduce({ num: g.num * factor.num, den: g.den * factor.den })
    g.num = product.num
    g.den = product.den
    for (let i = 0; i < g.names.length; i++) {
      const n = g.names[i]!
      if (n.base !== 0n) n.moved = true
    }
  }
  const bySectorName = sectors.map((_, i) => i).sort((a, b) => (sectors[a]!.name < sectors[b]!.name ? -1 : 1))

  /**
   * Scales the groups given by `room / amount`, recorded with the factor: a book-wide scale once; a sector's
   * once for the sector, then for each of its names that moved, from its weight to the weight scaled.
   */
  const scaleBy = (rule: FitRule, which: ReadonlyArray<Group>, room: F.Fraction, amount: F.Fraction, before: F.Fraction, after: () => F.Fraction, sector?: string) => {
    const factor = factorOf(room, amount)
    for (const g of which) if (g.sum !== 0n) scaleGroup(g, factor)
    const to = ratioOf(after())
    const factorText = F.toDecimal(factor)
    if (sector === undefined) {
      adjustments.push({ rule, from: ratioOf(before), to, factor: factorText })
      return
    }
    adjustments.push({ rule, sector, from: ratioOf(before), to, factor: factorText })
    for (const g of which) {
      // A name's weight is `base × num / (den × invested)`: what all its names share, multiplied once.
      const scaleUp = F.digitsUp(g.num)
      const over = g.den * ev
      for (let i = 0; i < g.names.length; i++) {
        const n = g.names[i]!
        if (n.base === 0n) continue
        const scaled = F.scaledToDecimal(n.base, scaleUp, over)
        adjustments.push({ rule, symbol: n.symbol, sector, from: n.recorded ?? n.weight, to: scaled, factor: factorText })
        n.recorded = scaled
      }
    }
  }

  // 4. Sectors above their cap: their free names scaled pro rata onto what the fixed ones leave.
  if (sectorCap !== undefined) {
    for (const i of bySectorName) {
      const s = sectors[i]!
      let free = 0n
      for (const g of s.groups) free += g.sum
      if (free === 0n || s.fixed + free <= sectorCap) continue
      const room = whole(sectorCap > s.fixed ? sectorCap - s.fixed : 0n)
      const value = () => F.add(whole(s.fixed), total(s.groups.map(valueOf)))
      scaleBy("max_sector_weight", s.groups, room, whole(free), whole(s.fixed + free), value, s.name)
    }
  }

  // 5. The book: gross, then net.
  const freeGross = () => total(groups.map(valueOf))
  const gross = () => F.add(freeGross(), whole(fixedGross))
  const net = () => F.add(total(groups.map((g) => (g.side < 0 ? F.negate(valueOf(g)) : valueOf(g)))), whole(fixedNet))
  if (grossCap !== undefined) {
    const before = gross()
    const free = freeGross()
    if (F.gt(before, whole(grossCap)) && !F.isZero(free)) {
      scaleBy("max_gross_exposure", groups, whole(grossCap > fixedGross ? grossCap - fixedGross : 0n), free, before, gross)
    }
  }
  if (netCap !== undefined) {
    const before = net()
    if (F.gt(F.abs(before), whole(netCap))) {
      // Only the side that carries the book past its cap: scaling the other down would add to the excess.
      const side = F.sign(before)
      const carrying = groups.filter((g) => g.side === side)
      const carried = total(carrying.map(valueOf))
      if (!F.isZero(carried)) {
        const room = F.max(F.sub(carried, F.sub(F.abs(before), whole(netCap))), F.ZERO)
        scaleBy("max_net_exposure", carrying, room, carried, before, net)
      }
    }
  }

  // Each name's target from here on: an integer of units at the target scale (18 decimals more, and at
  // least those of price × lot), from its exact value by one division toward zero. A lot count computed
  // from it is the one the exact value gives: `q × price × lot ≤ target` holds for the one exactly when it
  // holds for the other, since `q × price × lot` has no more decimals than the target keeps.
  const extra = F.pow10(EXTRA_DIGITS)
  const at = (x: bigint) => x * extra
  const settle = (n: Name) => {
    const g = n.group
    n.t = g === undefined ? at(n.held) : g.num === g.den ? at(n.base) : (n.base * g.num * extra) / g.den
  }

  // 6. Turnover: every trade toward the position held, by one factor. Moving back toward the held book can
  // leave a sector that was above its cap still above it; a name that would add to such a sector keeps
  // its position instead, and the factor is found again for the rest.
  let turnoverApplied = false
  if (turnoverCap !== undefined) {
    const limit = whole(turnoverCap)
    // A trade, exactly: `trade / group.den`. One inside the no-trade band is not sent whatever the factor
    // (scaling only makes it smaller), and takes no share of the turnover.
    const moving: Array<F.Fraction> = []
    for (let k = 0; k < groups.length; k++) {
      const g = groups[k]!
      const floor = band === undefined ? 0n : band * g.den
      let sum = 0n
      for (let j = 0; j < g.names.length; j++) {
        const n = g.names[j]!
        const trade = g.den === 1n ? (g.num === 1n ? n.base : n.base * g.num) - n.held : n.base * g.num - n.held * g.den
        const size = trade < 0n ? -trade : trade
        n.trade = trade
        n.moving = trade !== 0n && size >= floor
        if (n.moving) sum += size
      }
      moving.push({ num: sum, den: g.den })
    }
    const amountOf = () =>
      total(groups.map((g) => {
        let sum = 0n
        for (let j = 0; j < g.names.length; j++) {
          const n = g.names[j]!
          if (n.moving) sum += abs(n.trade)
        }
        return { num: sum, den: g.den }
      }))
    const before = total(moving)
    if (F.gt(before, limit)) {
      turnoverApplied = true
      let amount = before
      let factor = F.ONE
      // Only a sector whose held positions alone are above its cap can end above it (each name ends between
      // its target and what it holds).
      const atRisk = sectorCap === undefined ? [] : bySectorName.filter((i) => {
        let held = 0n
        for (const n of sectors[i]!.names) held += abs(n.held)
        return held > sectorCap
      })
      for (;;) {
        factor = F.gt(amount, limit) ? factorOf(limit, amount) : F.ONE
        if (atRisk.length === 0) break
        // held + trade × factor over den × Q: compared, not divided, until the factor is final.
        const exact = (n: Name): F.Fraction => {
          const den = n.group!.den * factor.den
          return { num: n.held * den + n.trade * factor.num, den }
        }
        const adding: Array<Name> = []
        for (const i of atRisk) {
          // Summed by group (its moving names share one denominator, the others another), then the groups.
          const sector = sectors[i]!
          let value = whole(sector.fixed)
          for (const g of sector.groups) {
            let moving = 0n
            let still = 0n
            let kept = 0n
            for (const n of g.names) {
              if (n.moving) moving += abs(n.held * g.den * factor.den + n.trade * factor.num)
              else if (n.kept) kept += abs(n.held)
              else still += abs(n.base)
            }
            value = F.add(value, F.add({ num: moving, den: g.den * factor.den }, { num: still * g.num + kept * g.den, den: g.den }))
          }
          if (!F.gt(value, whole(sectorCap!))) continue
          for (const n of sectors[i]!.names) if (n.moving && adds(n.held, exact(n))) adding.push(n)
        }
        if (adding.length === 0) break
        for (const n of adding) {
          n.moving = false
          n.kept = true
        }
        amount = amountOf()
      }
      // Every target once, at the target scale: held + trade × P / (den × Q), toward zero. The factor's
      // numerator holds most of a group's denominator (it sums the groups' trades over their common
      // denominator), so P / den is reduced first, once a group: p / d, and the target is
      // (held × d × Q + trade × p) / (d × Q), a sixth shorter in every name's products.
      for (let k = 0; k < groups.length; k++) {
        const g = groups[k]!
        const share = F.reduce({ num: factor.num, den: g.den })
        const den = share.den * factor.den
        const heldBy = den * extra
        const tradeBy = share.num * extra
        for (let j = 0; j < g.names.length; j++) {
          const n = g.names[j]!
          if (n.moving) n.t = (n.held * heldBy + n.trade * tradeBy) / den
          else if (n.kept) n.t = at(n.held)
          else settle(n)
        }
      }
      const scaled = factor.num !== factor.den
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!
        if (!n.free) settle(n)
        else if (scaled && n.moving) n.moved = true
      }
      adjustments.push({ rule: "max_turnover", from: ratioOf(before), to: ratioOf(F.min(amount, limit)), factor: F.toDecimal(factor) })
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!
        if (!n.kept) continue
        // From where the final factor would have taken it, to the position held.
        const den = n.group!.den * factor.den
        n.recorded = weightOf(n.held * den + n.trade * factor.num, den)
        move(n, "max_sector_weight", weightOf(n.held), sectors[n.sector]!.name)
      }
    }
  }

  // What the fit leaves beyond a limit: positions it may not move, and trades the turnover cap held back.
  // A free name is within every cap of its own otherwise (clipped, then only scaled down), and a trade the
  // turnover cap holds back ends between its target and the position held. One pass over the names: each
  // target settled (unless the turnover did), its own limits checked, the sums of its sector and of the
  // book taken, and its fitted target written.
  const targetOf = (n: Name): F.Fraction => ({ num: n.t, den: extra })
  const nameLimit = nameCap === undefined ? undefined : at(nameCap)
  const positionLimit = positionCap === undefined ? undefined : at(positionCap)
  // Σ of the long targets and of the short ones, by sector (the last slot for names of none): one addition
  // a name gives each sector's value and the book's gross and net.
  const longs = new Array<bigint>(sectors.length + 1).fill(0n)
  const shorts = new Array<bigint>(sectors.length + 1).fill(0n)
  const fittedItems: Array<FittedTarget | undefined> = new Array(items.length).fill(undefined)
  const outside = new Map<Symbol, FittedTarget>()
  const valueScale = scale + EXTRA_DIGITS
  // The target keeps EXTRA_DIGITS decimals more than the invested value: their quotient is the weight to
  // that many decimals, toward zero.
  const weightOfTarget = (t: bigint) => Dec.make(t / ev, EXTRA_DIGITS)
  // The limits as violations state them, written once (hundreds of names may break one).
  let limitText: { readonly name: string; readonly position: string } | undefined
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!
    if (!turnoverApplied) settle(n)
    const t = n.t
    const size = t < 0n ? -t : t
    const slot = n.sector >= 0 ? n.sector : sectors.length
    if (t > 0n) longs[slot]! += t
    else if (t < 0n) shorts[slot]! += size
    const mayBreak = !n.free || (turnoverApplied && (n.held < 0n || (nameCap !== undefined && abs(n.held) > nameCap) || (positionCap !== undefined && abs(n.held) > positionCap)))
    if (mayBreak) {
      const place = { symbol: n.symbol }
      limitText ??= {
        name: limits.maxNameWeight === undefined ? "" : Dec.toString(limits.maxNameWeight),
        position: limits.maxPositionRatio === undefined ? "" : Dec.toString(limits.maxPositionRatio)
      }
      const value = F.abs(targetOf(n))
      if (limits.longOnly === true && t < 0n) unmet.push(violation("long_only", "0", reported(targetOf(n)), place))
      if (nameLimit !== undefined && n.item >= 0 && size > nameLimit) {
        unmet.push(violation("max_name_weight", limitText.name, reported(value, ev), place))
      }
      if (positionLimit !== undefined && size > positionLimit) {
        unmet.push(violation("max_position_ratio", limitText.position, reported(value), place))
      }
    }
    const rule = n.restricted ? "restricted_symbol" : n.kept ? "max_sector_weight" : undefined
    let target: FittedTarget | undefined
    if (rule !== undefined) target = { hold: true, rule }
    else if (n.moved) {
      // A name moved by rules of its own only has the weight they recorded; any other is worked out.
      const own = n.group === undefined || (n.group.num === n.group.den && !(turnoverApplied && n.moving))
      const weight = (own ? n.recorded : undefined) ?? weightOfTarget(t)
      target = { hold: false, value: Dec.make(t, valueScale), weight }
    }
    if (target === undefined) continue
    if (n.item >= 0) fittedItems[n.item] = target
    else outside.set(n.symbol, target)
  }
  if (sectorCap !== undefined) {
    const limit = at(sectorCap)
    for (let k = 0; k < bySectorName.length; k++) {
      const i = bySectorName[k]!
      const value = longs[i]! + shorts[i]!
      if (value > limit) {
        unmet.push(violation("max_sector_weight", Dec.toString(limits.maxSectorWeight!), reported({ num: value, den: extra }), { sector: sectors[i]!.name }))
      }
    }
  }
  let long = 0n
  let short = 0n
  for (let i = 0; i < longs.length; i++) {
    long += longs[i]!
    short += shorts[i]!
  }
  const grossAfter = long + short
  const netAfter = long - short
  if (grossCap !== undefined && grossAfter > at(grossCap)) {
    unmet.push(violation("max_gross_exposure", Dec.toString(limits.maxGrossExposure!), reported({ num: grossAfter, den: extra })))
  }
  if (netCap !== undefined && abs(netAfter) > at(netCap)) {
    unmet.push(violation("max_net_exposure", Dec.toString(limits.maxNetExposure!), reported({ num: abs(netAfter), den: extra })))
  }
  return { items: fittedItems, outside, adjustments, unmet }
}

/** How many decimals a fitted target keeps beyond the scale of the amounts it was fitted from. */
const EXTRA_DIGITS = 18

/** True when a target adds to the position held (opens, grows it, or crosses zero). */
const adds = (held: bigint, target: F.Fraction): boolean => {
  if (target.num === 0n) return false
  if (held === 0n || (held < 0n) !== (target.num < 0n)) return true
  return abs(target.num) > abs(held) * target.den
}

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
  readonly goal?: Dec.Decimal | undefined
}

/** `N`: the caller's own orders, handed to `tooSmall` as they were given (no copy of thousands of them). */
export interface LotLimits<N extends LotName = LotName> {
  readonly limits: RiskLimits
  readonly portfolioValue: Dec.Decimal
  /** Cash before the orders, and the part of the portfolio kept back: buys cost at most the rest. */
  readonly cash: Dec.Decimal
  readonly buffer: Dec.Decimal
  /** The invested value, for the weights the moves are recorded in. */
  readonly invested: Dec.Decimal
  /** True when a trade of this size may not be sent (below a minimum): it is then trimmed to zero. */
  readonly tooSmall: (name: N, trade: Dec.Decimal) => boolean
}

type Check = { readonly rule: "max_turnover" | "max_gross_exposure" | "max_net_exposure" } | { readonly rule: "max_sector_weight"; readonly sector: string }

/**
 * Trims the orders, a lot at a time toward the positions held, until the rounded book meets the limits the
 * weights met: turnover, gross, net (as the risk engine judges them: above the cap and above where the book
 * was) and each sector an order adds to. A trim is made only if it keeps every limit then met, and cash
 * for the buys. Returns the moves, one a name and rule, and whatever could not be met.
 */
export const repairLots = <N extends LotName>(orders: ReadonlyArray<N>, positions: ReadonlyArray<LotName>, at: LotLimits<N>) => {
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
  // A trade on the side of the position (or opening one) adds; only one against it may reduce.
  const adding = (n: LotName, trade = n.trade) =>
    trade.value !== 0n && (n.current.value === 0n || (trade.value < 0n) === (n.current.value < 0n) || !reduces(n, trade))

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
  // Running totals that make no decimal per name: this runs over every order of a large run.
  // The long and the short values apart (one addition a position), gross and net from them at the end.
  const totals = { turnover: Dec.total(), longBefore: Dec.total(), shortBefore: Dec.total(), longAfter: Dec.total(), shortAfter: Dec.total(), buys: Dec.total(), proceeds: Dec.total() }
  const sectorTotals = new Map<string, Dec.Total>()
  const tally = (n: LotName) => {
    // The position's value before and after, and the trade's, each one product.
    const price = n.price
    const before = n.current.value * price.value
    const beforeScale = n.current.scale + price.scale
    let after = before
    let afterScale = beforeScale
    if (n.trade.value !== 0n) {
      const traded = n.trade.value * price.value
      const tradedScale = n.trade.scale + price.scale
      Dec.addUnits(totals.turnover, traded < 0n ? -traded : traded, tradedScale)
      if (tradedScale === beforeScale) after = before + traded
      else if (tradedScale < beforeScale) after = before + traded * F.pow10(beforeScale - tradedScale)
      else {
        after = before * F.pow10(tradedScale - beforeScale) + traded
        afterScale = tradedScale
      }
    }
    if (before > 0n) Dec.addUnits(totals.longBefore, before, beforeScale)
    else if (before < 0n) Dec.addUnits(totals.shortBefore, -before, beforeScale)
    if (after > 0n) Dec.addUnits(totals.longAfter, after, afterScale)
    else if (after < 0n) Dec.addUnits(totals.shortAfter, -after, afterScale)
    if (n.trade.value > 0n) Dec.addProduct(totals.buys, n.trade, n.cost)
    else if (n.trade.value < 0n && n.current.value > 0n) Dec.addProduct(totals.proceeds, Dec.min(Dec.negate(n.trade), n.current), n.cost)
    if (n.sector !== undefined && sectorCap !== undefined) {
      let sum = sectorTotals.get(n.sector)
      if (sum === undefined) sectorTotals.set(n.sector, sum = Dec.total())
      Dec.addUnits(sum, after < 0n ? -after : after, afterScale)
      if (adding(n)) sectorAdding.set(n.sector, (sectorAdding.get(n.sector) ?? 0) + 1)
    }
  }
  for (let i = 0; i < orders.length; i++) tally(orders[i]!)
  for (let i = 0; i < positions.length; i++) tally(positions[i]!)
  turnover = Dec.valueOf(totals.turnover)
  grossBefore = Dec.add(Dec.valueOf(totals.longBefore), Dec.valueOf(totals.shortBefore))
  netBefore = Dec.sub(Dec.valueOf(totals.longBefore), Dec.valueOf(totals.shortBefore))
  grossAfter = Dec.add(Dec.valueOf(totals.longAfter), Dec.valueOf(totals.shortAfter))
  netAfter = Dec.sub(Dec.valueOf(totals.longAfter), Dec.valueOf(totals.shortAfter))
  buys = Dec.valueOf(totals.buys)
  proceeds = Dec.valueOf(totals.proceeds)
  for (const [sector, sum] of sectorTotals) sectorAfter.set(sector, Dec.valueOf(sum))
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
  const sectorCheck = new Map<string, Check>()
  if (sectorCap !== undefined) {
    for (const sector of [...sectorAfter.keys()].sort()) {
      const check = { rule: "max_sector_weight", sector } as const
      sectorCheck.set(sector, check)
      checks.push(check)
    }
  }
  const bookChecks: Array<Check> = []
  if (grossCap !== undefined) bookChecks.push({ rule: "max_gross_exposure" })
  if (netCap !== undefined) bookChecks.push({ rule: "max_net_exposure" })
  if (turnoverCap !== undefined) bookChecks.push({ rule: "max_turnover" })
  checks.push(...bookChecks)
  /** The checks a trim of `n` can change: the book's, and its sector's. */
  const touchedBy = (n: LotName): ReadonlyArray<Check> => {
    const sector = n.sector === undefined ? undefined : sectorCheck.get(n.sector)
    return sector === undefined ? bookChecks : [...bookChecks, sector]
  }
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
  const trimmed = (n: N, lots: bigint): Dec.Decimal => {
    const size = Dec.sub(Dec.abs(n.trade), Dec.times(lots, n.lot))
    if (!Dec.isPositive(size)) return Dec.ZERO
    const trade = Dec.isNegative(n.trade) ? Dec.negate(size) : size
    return at.tooSmall(n, trade) ? Dec.ZERO : trade
  }

  /** Trims `n` by `lots` if that lowers `target` and keeps every other check, and cash, as met as before. */
  const attempt = (n: N, target: Check, lots: bigint): boolean => {
    const touched = touchedBy(n)
    const met = touched.map((c) => !Dec.isPositive(excess(c)))
    const cash = cashMet()
    const was = excess(target)
    const from = n.trade
    apply(n, trimmed(n, lots))
    const ok = Dec.lt(excess(target), was) && touched.every((c, i) => !met[i] || !Dec.isPositive(excess(c))) && (!cash || cashMet())
    if (!ok) apply(n, from)
    else record(n, target, from)
    return ok
  }

  /** Trims `n` by up to `lots` lots: as many as another check allows, halving until one does. */
  const trim = (n: N, target: Check, lots: bigint): boolean => {
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

  const weight = (n: LotName, trade: Dec.Decimal) => F.toDecimal(F.div(F.fromDecimal(Dec.mul(post(n, trade), n.price)), F.fromDecimal(at.invested)))
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
    if (n.goal === undefined || n.trade.value === 0n || !reduces(n)) return Dec.ZERO
    const past = Dec.sub(Dec.abs(n.goal), Dec.abs(Dec.mul(post(n), n.price)))
    return Dec.isPositive(past) ? past : Dec.ZERO
  }

  /** Trades that, trimmed, lower a check. */
  const candidates = (c: Check): Array<N> => {
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
        const past = overshoot(n)
        if (!Dec.isPositive(past)) continue
        if (!broken()) return
        // Back to the lot on the near side of the target, or as far as the excess needs.
        const back = Dec.quotientCeil(past, Dec.mul(n.lot, n.price))
        const needed = lotsFor(n, excess(c))
        trim(n, c, back < needed ? back : needed)
      }
    }
    if (!broken()) return
    const list = candidates(c)
    const share = excess(c)
    // Σ|trade × price| of every candidate (thousands), as a running total: no decimal a candidate.
    const trades = Dec.total()
    for (let i = 0; i < list.length; i++) Dec.addAbsProduct(trades, list[i]!.trade, list[i]!.price)
    const sized = Dec.valueOf(trades)
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
