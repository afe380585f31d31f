/**
 * Where a run left the book: per symbol the decided weight, the weight before the run, the weight its
 * orders aimed at and the weight its fills reached; per sector the gross exposure before, targeted and
 * after, against the sector cap. Weights are fractions of the portfolio value the run was sized on.
 *
 * Every symbol is valued at one price for all three moments, so a difference is a difference in quantity,
 * never a price move: its order's reference price, else the price the run recorded, else the decision's,
 * else the position's average cost (the marks the risk engine uses). A sector's exposure is the gross
 * value of its symbols, Σ |quantity × price|, as the `max_sector_weight` rule measures it.
 */
import * as Dec from "./domain/Decimal.js"
import type { Symbol } from "./domain/Ids.js"
import type { Position, Quote, Security } from "./domain/Market.js"
import { signedQuantity, type TradeOrder } from "./domain/Order.js"
import type { SnapshotItem } from "./domain/Snapshot.js"

/** Weights are given to this many decimals. */
const WEIGHT_SCALE = 8

export interface ExposureInput {
  readonly portfolioValue: Dec.Decimal
  readonly items: ReadonlyArray<SnapshotItem>
  /** Signed positions before the run. */
  readonly positions: ReadonlyArray<Position>
  readonly prices: ReadonlyArray<Quote>
  readonly securities: ReadonlyArray<Security>
  readonly orders: ReadonlyArray<TradeOrder>
  /** The `max_sector_weight` limit, when the run had one. */
  readonly sectorCap?: Dec.Decimal
}

export interface SymbolWeights {
  readonly symbol: Symbol
  readonly sector?: string
  /** The decision's weight; absent for a held symbol the decision does not mention. */
  readonly decided?: Dec.Decimal
  readonly before: Dec.Decimal
  /** As if every order of the run had filled as built. */
  readonly targeted: Dec.Decimal
  /** With what did fill. */
  readonly after: Dec.Decimal
}

export interface SectorExposure {
  readonly sector: string
  readonly before: Dec.Decimal
  readonly targeted: Dec.Decimal
  readonly after: Dec.Decimal
  /** The exposure after is above the cap. */
  readonly overCap: boolean
}

export interface Exposure {
  /** By symbol, in symbol order; symbols with no price to value them at are left out (listed in `unpriced`). */
  readonly symbols: ReadonlyArray<SymbolWeights>
  /** By sector name; symbols without a sector are in no sector, as for the risk rule. */
  readonly sectors: ReadonlyArray<SectorExposure>
  readonly sectorCap?: Dec.Decimal
  readonly unpriced: ReadonlyArray<Symbol>
}

interface Line {
  symbol: Symbol
  sector: string | undefined
  decided: Dec.Decimal | undefined
  price: Dec.Decimal | undefined
  before: Dec.Decimal
  targeted: Dec.Decimal
  after: Dec.Decimal
}

export const analyze = (input: ExposureInput): Exposure => {
  const lines = new Map<Symbol, Line>()
  const line = (symbol: Symbol): Line => {
    let found = lines.get(symbol)
    if (found === undefined) {
      found = { symbol, sector: undefined, decided: undefined, price: undefined, before: Dec.ZERO, targeted: Dec.ZERO, after: Dec.ZERO }
      lines.set(symbol, found)
    }
    return found
  }
  for (const p of input.positions) {
    const l = line(p.symbol)
    l.before = l.targeted = l.after = p.quantity
    if (p.avgCost !== undefined) l.price = p.avgCost
  }
  for (const i of input.items) {
    const l = line(i.symbol)
    l.decided = i.weight
    if (i.sector !== undefined) l.sector = i.sector
    if (i.price !== undefined) l.price = i.price
  }
  // A later source of a price or a sector takes precedence over an earlier one; the securities table
  // (which may list far more symbols than the run trades) only gives a sector to a symbol without one.
  for (const q of input.prices) {
    const l = lines.get(q.symbol)
    if (l !== undefined) l.price = q.price
  }
  for (const s of input.securities) {
    const l = lines.get(s.symbol)
    if (l !== undefined && l.sector === undefined && s.sector !== undefined) l.sector = s.sector
  }
  for (const o of input.orders) {
    const l = line(o.symbol)
    if (o.sector !== undefined) l.sector = o.sector
    l.price = o.referencePrice
    l.targeted = Dec.add(l.targeted, signedQuantity(o.side, o.quantity))
    l.after = Dec.add(l.after, signedQuantity(o.side, o.filledQuantity))
  }

  const weight = (quantity: Dec.Decimal, price: Dec.Decimal) =>
    Dec.divideForReport(Dec.mul(quantity, price), input.portfolioValue, WEIGHT_SCALE)
  const symbols: Array<SymbolWeights> = []
  const unpriced: Array<Symbol> = []
  const sectors = new Map<string, { before: Dec.Total; targeted: Dec.Total; after: Dec.Total }>()
  for (const l of [...lines.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
    if (l.price === undefined) {
      unpriced.push(l.symbol)
      continue
    }
    symbols.push({
      symbol: l.symbol,
      ...(l.sector === undefined ? {} : { sector: l.sector }),
      ...(l.decided === undefined ? {} : { decided: l.decided }),
      before: weight(l.before, l.price),
      targeted: weight(l.targeted, l.price),
      after: weight(l.after, l.price)
    })
    if (l.sector === undefined) continue
    let sums = sectors.get(l.sector)
    if (sums === undefined) sectors.set(l.sector, sums = { before: Dec.total(), targeted: Dec.total(), after: Dec.total() })
    Dec.addAbsProduct(sums.before, l.before, l.price)
    Dec.addAbsProduct(sums.targeted, l.targeted, l.price)
    Dec.addAbsProduct(sums.after, l.after, l.price)
  }

  const share = (t: Dec.Total) => Dec.divideForReport(Dec.valueOf(t), input.portfolioValue, WEIGHT_SCALE)
  const cap = input.sectorCap
  return {
    symbols,
    sectors: [...sectors.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sector, sums]) => {
        const after = Dec.valueOf(sums.after)
        return {
          sector,
          before: share(sums.before),
          targeted: share(sums.targeted),
          after: share(sums.after),
          // Judged on the exact value, as the risk rule judges it, not on the rounded share.
          overCap: cap !== undefined && Dec.gt(after, Dec.mul(cap, input.portfolioValue))
        }
      }),
    ...(cap === undefined ? {} : { sectorCap: cap }),
    unpriced
  }
}
