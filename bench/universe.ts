/**
 * A deterministic synthetic universe for the benchmarks: N names with weights, prices, volumes and
 * sectors, half of them already held; and risk limits that enable every rule (loose enough that the run
 * goes through, so execution is measured too).
 */
import * as Dec from "../src/domain/Decimal.js"
import type { Symbol } from "../src/domain/Ids.js"
import type { Position, Quote } from "../src/domain/Market.js"
import type { RiskLimits } from "../src/domain/Risk.js"
import type { RunParams } from "../src/domain/Run.js"
import type { SnapshotItem } from "../src/domain/Snapshot.js"

const SECTORS = ["Tech", "Health", "Financials", "Industrials", "Energy", "Utilities", "Materials", "Staples", "Discretionary", "Communication", "RealEstate"]

export const PORTFOLIO_VALUE = Dec.unsafe("1000000000")
/**
 * When the universe's quotes were taken: two seconds before the benchmark started, so the staleness rule
 * (`maxPriceAgeSeconds`), which the runs judge against the real clock, passes on any day.
 */
export const AS_OF = new Date(Math.floor(Date.now() / 1000) * 1000 - 2000).toISOString()

export interface Universe {
  readonly items: ReadonlyArray<SnapshotItem>
  readonly quotes: ReadonlyArray<Quote>
  readonly positions: ReadonlyArray<Position>
  readonly limits: RiskLimits
  readonly params: RunParams
}

export const universe = (n: number): Universe => {
  let state = 42
  const random = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const raw = Array.from({ length: n }, () => 0.5 + random())
  const total = raw.reduce((a, b) => a + b, 0)
  const items: Array<SnapshotItem> = []
  const quotes: Array<Quote> = []
  const positions: Array<Position> = []
  for (let i = 0; i < n; i++) {
    const symbol = `S${String(i).padStart(6, "0")}` as Symbol
    const price = Dec.unsafe((5 + random() * 495).toFixed(2))
    const weight = Dec.unsafe(((raw[i]! / total) * 0.97).toFixed(8))
    items.push({ symbol, weight, score: Dec.unsafe(raw[i]!.toFixed(4)), rank: i + 1, sector: SECTORS[i % SECTORS.length]! })
    quotes.push({ symbol, price, volume: Dec.unsafe(String(Math.round(1e5 + random() * 1e7))), time: AS_OF })
    if (i % 2 === 0) {
      // Held at roughly the target, off by a few percent either way: most names trade, both directions.
      const target = Number(weight.value) / 10 ** weight.scale * Number(PORTFOLIO_VALUE.value) / (Number(price.value) / 10 ** price.scale)
      positions.push({ symbol, quantity: Dec.unsafe(String(Math.max(1, Math.round(target * (0.9 + random() * 0.2))))) })
    }
  }
  const limits: RiskLimits = {
    maxOrderNotional: Dec.unsafe("50000000"),
    maxOrderQuantity: Dec.unsafe("100000000"),
    maxPositionRatio: Dec.unsafe("0.05"),
    maxNameWeight: Dec.unsafe("0.05"),
    maxSectorWeight: Dec.unsafe("0.5"),
    maxGrossExposure: Dec.unsafe("1.5"),
    maxNetExposure: Dec.unsafe("1.5"),
    maxOrdersPerRun: 10_000_000,
    minOrderNotional: Dec.unsafe("1"),
    restrictedSymbols: ["ZZZZZZ" as Symbol],
    longOnly: true,
    priceCollarBps: Dec.unsafe("500"),
    cashSufficiency: true,
    maxPriceAgeSeconds: Dec.unsafe("86400")
  }
  const params: RunParams = {
    portfolioValue: PORTFOLIO_VALUE,
    cashBufferRatio: Dec.unsafe("0.02"),
    positions,
    risk: limits
  }
  return { items, quotes, positions, limits, params }
}

/** The universe as the CLI reads it: items, prices and positions files, CSV with a header row. */
export const csvFiles = (u: Universe) => ({
  items: [
    "symbol,weight,score,rank,sector",
    ...u.items.map((i) => `${i.symbol},${Dec.toString(i.weight)},${Dec.toString(i.score!)},${i.rank},${i.sector}`)
  ].join("\n"),
  prices: [
    "symbol,price,volume,time",
    ...u.quotes.map((q) => `${q.symbol},${Dec.toString(q.price)},${Dec.toString(q.volume!)},${q.time}`)
  ].join("\n"),
  positions: ["symbol,quantity", ...u.positions.map((p) => `${p.symbol},${Dec.toString(p.quantity)}`)].join("\n")
})
