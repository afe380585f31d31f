import { describe, expect, it } from "@effect/vitest"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { OrderSide, TradeOrder } from "../../src/domain/Order.js"
import * as Exposure from "../../src/Exposure.js"
import { filledOrder, item, quote } from "../support/world.js"

const d = Dec.unsafe

const order = (symbol: string, side: OrderSide, quantity: Dec.DecimalInput, reference: Dec.DecimalInput, filled: Dec.DecimalInput, sector?: string): TradeOrder =>
  filledOrder("exp", symbol, side, quantity, reference, { filled, sector })

const show = (x: Exposure.SymbolWeights | Exposure.SectorExposure) =>
  Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Dec.isDecimal(v) ? Dec.toString(v) : v]))

describe("Exposure", () => {
  // Portfolio 10,000: AAA held 20 @ 50 and bought up to 40 (30 of the 20 filled... see each case), BBB sold out.
  const input: Exposure.ExposureInput = {
    portfolioValue: d(10000),
    items: [item("AAA", "0.2", { sector: "Tech" }), item("BBB", "0", { sector: "Health" }), item("CCC", "0.1", { sector: "Tech" })],
    positions: [{ symbol: "AAA" as Symbol, quantity: d(20) }, { symbol: "BBB" as Symbol, quantity: d(30), avgCost: d(20) }],
    prices: [quote("AAA", 50), quote("BBB", 33), quote("CCC", 10)],
    securities: [],
    orders: [order("BBB", "SELL", 30, 33, 30), order("AAA", "BUY", 20, 50, 10, "Tech"), order("CCC", "BUY", 100, 10, 0, "Tech")],
    sectorCap: d("0.2")
  }

  it("gives each symbol its decided weight and its weight before, targeted and after, at one price", () => {
    expect(Exposure.analyze(input).symbols.map(show)).toEqual([
      { symbol: "AAA", sector: "Tech", decided: "0.2", before: "0.1", targeted: "0.2", after: "0.15" },
      { symbol: "BBB", sector: "Health", decided: "0", before: "0.099", targeted: "0", after: "0" },
      { symbol: "CCC", sector: "Tech", decided: "0.1", before: "0", targeted: "0.1", after: "0" }
    ])
  })

  it("sums each sector's gross exposure before, targeted and after, and flags a sector above the cap", () => {
    const exposure = Exposure.analyze(input)
    expect(exposure.sectors.map(show)).toEqual([
      { sector: "Health", before: "0.099", targeted: "0", after: "0", overCap: false },
      { sector: "Tech", before: "0.1", targeted: "0.3", after: "0.15", overCap: false }
    ])
    const tighter = Exposure.analyze({ ...input, sectorCap: d("0.12") })
    expect(tighter.sectors.map((s) => [s.sector, s.overCap])).toEqual([["Health", false], ["Tech", true]])
    expect(tighter.sectorCap).toEqual(d("0.12"))
  })

  it("counts shorts as gross exposure of their sector, and leaves out symbols it cannot value", () => {
    const exposure = Exposure.analyze({
      portfolioValue: d(1000),
      items: [item("SHRT", "-0.1", { sector: "Energy" }), item("NOPX", "0.1", { sector: "Energy" })],
      positions: [],
      prices: [quote("SHRT", 10)],
      securities: [{ symbol: "SHRT" as Symbol, sector: "Materials" }],
      orders: [order("SHRT", "SELL", 10, 10, 10)]
    })
    // The decision's sector wins over the securities table's, as it does when orders are built.
    expect(exposure.symbols.map(show)).toEqual([{ symbol: "SHRT", sector: "Energy", decided: "-0.1", before: "0", targeted: "-0.1", after: "-0.1" }])
    expect(exposure.sectors.map(show)).toEqual([{ sector: "Energy", before: "0", targeted: "0.1", after: "0.1", overCap: false }])
    expect(exposure.unpriced).toEqual(["NOPX"])
  })

  it("takes a held symbol's sector from the securities table, and lists no symbol the run neither holds nor decides", () => {
    const exposure = Exposure.analyze({
      portfolioValue: d(1000),
      items: [],
      positions: [{ symbol: "HELD" as Symbol, quantity: d(10) }],
      prices: [quote("HELD", 10), quote("ELSE", 10)],
      securities: [{ symbol: "HELD" as Symbol, sector: "Utilities" }, { symbol: "ELSE" as Symbol, sector: "Energy" }],
      orders: []
    })
    expect(exposure.symbols.map(show)).toEqual([{ symbol: "HELD", sector: "Utilities", before: "0.1", targeted: "0.1", after: "0.1" }])
    expect(exposure.sectors.map((s) => s.sector)).toEqual(["Utilities"])
    expect(exposure.unpriced).toEqual([])
  })
})
