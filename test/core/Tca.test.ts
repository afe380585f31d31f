import { describe, expect, it } from "@effect/vitest"
import * as Dec from "../../src/domain/Decimal.js"
import type { ExecutionId } from "../../src/domain/Ids.js"
import type { Fill, OrderSide, TradeOrder } from "../../src/domain/Order.js"
import * as Tca from "../../src/Tca.js"
import { filledOrder } from "../support/world.js"

const d = Dec.unsafe
const AT = "2026-11-25T21:00:00.000Z"

const order = (symbol: string, side: OrderSide, quantity: Dec.DecimalInput, reference: Dec.DecimalInput): TradeOrder =>
  filledOrder("tca", symbol, side, quantity, reference)

let executions = 0
const fill = (o: TradeOrder, quantity: Dec.DecimalInput, price: Dec.DecimalInput, commission: Dec.DecimalInput = 0): Fill => ({
  executionId: `x${++executions}` as ExecutionId,
  clientOrderId: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  quantity: d(quantity),
  price: d(price),
  commission: d(commission),
  time: AT
})

const text = (cost: Tca.OrderCost | Tca.CostTotals) =>
  Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, Dec.isDecimal(v) ? Dec.toString(v) : v]))

describe("Tca", () => {
  // One buy of AAA: its fills (quantity, price, commission) and what its cost must read.
  const buys: ReadonlyArray<{
    readonly name: string
    readonly quantity: number
    readonly reference: number
    readonly fills: ReadonlyArray<readonly [Dec.DecimalInput, Dec.DecimalInput, Dec.DecimalInput?]>
    readonly cost: Record<string, string>
  }> = [
    {
      name: "counts a buy filled above its reference as a cost, in money and in bps of the reference",
      quantity: 100,
      reference: 50,
      fills: [[100, "50.01", 1]],
      cost: { symbol: "AAA", side: "BUY", referencePrice: "50", filledQuantity: "100", filledNotional: "5001", avgFillPrice: "50.01", slippage: "1", slippageBps: "2", commission: "1", implementationShortfall: "2" }
    },
    {
      // Three fills whose average (100.0333…) has no finite decimal: the shortfall stays exact.
      name: "prices a partly filled order over its fills alone, without a rounded average",
      quantity: 500,
      reference: 100,
      fills: [[1, "100.01", "0.01"], [1, "100.04"], [1, "100.05"]],
      cost: { filledQuantity: "3", filledNotional: "300.1", avgFillPrice: "100.0333333333", slippage: "0.1", slippageBps: "3.3333", commission: "0.01", implementationShortfall: "0.11" }
    }
  ]

  for (const { name, quantity, reference, fills, cost } of buys) {
    it(name, () => {
      const buy = order("AAA", "BUY", quantity, reference)
      const [analyzed] = Tca.analyze([buy], fills.map(([q, price, commission]) => fill(buy, q, price, commission))).orders
      expect(text(analyzed!)).toMatchObject(cost)
    })
  }

  it("counts a sell filled below its reference as a cost too, and one filled above as a gain", () => {
    const low = order("AAA", "SELL", 10, 100)
    const high = order("BBB", "SELL", 10, 100)
    const { orders } = Tca.analyze([low, high], [fill(low, 10, "99.9"), fill(high, 10, "100.2", "0.35")])
    expect(orders.map((o) => [Dec.toString(o.slippage), Dec.toString(o.slippageBps), Dec.toString(o.implementationShortfall)]))
      .toEqual([["1", "10", "1"], ["-2", "-20", "-1.65"]])
  })

  it("totals money and gives each total in bps of the traded notional; unfilled orders are not listed", () => {
    const buy = order("AAA", "BUY", 100, 50)
    const sell = order("BBB", "SELL", 40, 25)
    const unfilled = order("CCC", "BUY", 10, 10)
    const costs = Tca.analyze([buy, sell, unfilled], [fill(buy, 100, "50.02", 1), fill(sell, 40, "24.99", 1)])
    expect(costs.orders.map((o) => o.symbol)).toEqual(["AAA", "BBB"])
    // traded 5002 + 999.6 = 6001.6; slippage 2 + 0.4 = 2.4; commission 2; shortfall 4.4
    expect(text(costs.totals)).toEqual({
      ordersFilled: 2,
      filledNotional: "6001.6",
      slippage: "2.4",
      commission: "2",
      implementationShortfall: "4.4",
      slippageBps: "3.9989",
      commissionBps: "3.3324",
      implementationShortfallBps: "7.3314"
    })
  })

  it("has zero totals and no bps when nothing traded", () => {
    const costs = Tca.analyze([order("AAA", "BUY", 1, 1)], [])
    expect(costs.orders).toEqual([])
    expect(text(costs.totals)).toEqual({ ordersFilled: 0, filledNotional: "0", slippage: "0", commission: "0", implementationShortfall: "0" })
  })
})
