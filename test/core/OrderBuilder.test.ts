import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { BuildInput } from "../../src/BuildInput.js"
import * as Dec from "../../src/domain/Decimal.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"

const build = (input: Omit<BuildInput, "runId"> & { runId?: string }) => {
  const result = OrderBuilder.build({ runId: "run-1", ...input })
  if (Either.isLeft(result)) throw new Error(`unexpected invalid input: ${result.left.message}`)
  return result.right
}

/** Orders as `SYMBOL SIDE QTY`, in output order. */
const summary = (input: Parameters<typeof build>[0]) =>
  build(input).orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)

const skips = (input: Parameters<typeof build>[0]) =>
  Object.fromEntries(build(input).skipped.map((s) => [s.symbol, s.reason]))

describe("OrderBuilder", () => {
  it("buys AAA 36 then BBB 27 in the origin reference case", () => {
    const result = build({
      items: [{ symbol: "AAA", weight: 0.2 }, { symbol: "BBB", weight: 0.1 }],
      prices: [{ symbol: "AAA", price: 50 }, { symbol: "BBB", price: 33 }],
      portfolioValue: 10000,
      cashBufferRatio: 0.1,
      lotSize: 1
    })
    expect(result.orders.map((o) => [o.symbol, o.side, Dec.toString(o.quantity)])).toEqual([
      ["AAA", "BUY", "36"],
      ["BBB", "BUY", "27"]
    ])
    expect(result.orders[0]!.orderType).toBe("MKT")
    expect(result.orders[0]!.limitPrice).toBeUndefined()
    expect(Dec.toString(result.orders[0]!.referencePrice)).toBe("50")
  })

  describe("rebalancing from current positions", () => {
    const prices = [{ symbol: "AAA", price: "100" }]

    it("sells the excess when a position is above target", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "0.5" }], prices, positions: [{ symbol: "AAA", quantity: 80 }], portfolioValue: 10000 }))
        .toEqual(["AAA SELL 30"])
    })

    it("buys the difference when a position is below target", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "0.5" }], prices, positions: [{ symbol: "AAA", quantity: 20 }], portfolioValue: 10000 }))
        .toEqual(["AAA BUY 30"])
    })

    it("sells the whole position when the weight is 0", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "0" }], prices, positions: [{ symbol: "AAA", quantity: 37 }], portfolioValue: 10000 }))
        .toEqual(["AAA SELL 37"])
    })

    it("produces no order and says why when the position is already at target", () => {
      const input = { items: [{ symbol: "AAA", weight: "0.5" }], prices, positions: [{ symbol: "AAA", quantity: 50 }], portfolioValue: 10000 }
      expect(summary(input)).toEqual([])
      expect(skips(input)).toEqual({ AAA: "at_target" })
    })

    it("sells short to a negative weight from flat", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "-0.25" }], prices, portfolioValue: 10000 }))
        .toEqual(["AAA SELL 25"])
    })

    it("flips a long position into the short target in one sell", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "-0.25" }], prices, positions: [{ symbol: "AAA", quantity: 10 }], portfolioValue: 10000 }))
        .toEqual(["AAA SELL 35"])
    })

    it("covers part of a short when the short target is smaller", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "-0.1" }], prices, positions: [{ symbol: "AAA", quantity: -25 }], portfolioValue: 10000 }))
        .toEqual(["AAA BUY 15"])
    })

    it("rounds a short target toward zero, never shorting more than the weight allows", () => {
      // -0.255 × 10000 / 100 = -25.5 → -25
      expect(summary({ items: [{ symbol: "AAA", weight: "-0.255" }], prices, portfolioValue: 10000 }))
        .toEqual(["AAA SELL 25"])
    })
  })

  describe("lot sizes", () => {
    const prices = [{ symbol: "AAA", price: "7" }]
    it.each([
      ["1", "142"], // 0.1 × 10000 / 7 = 142.86
      ["10", "140"],
      ["100", "100"],
      ["0.001", "142.857"]
    ])("rounds toward zero to whole lots of %s", (lotSize, quantity) => {
      expect(summary({ items: [{ symbol: "AAA", weight: "0.1" }], prices, portfolioValue: 10000, lotSize }))
        .toEqual([`AAA BUY ${quantity}`])
    })

    it("uses the securities table's lot size over the global default", () => {
      expect(summary({
        items: [{ symbol: "AAA", weight: "0.1" }, { symbol: "BBB", weight: "0.1" }],
        prices: [...prices, { symbol: "BBB", price: "7" }],
        securities: [{ symbol: "BBB", lotSize: "100" }],
        portfolioValue: 10000,
        lotSize: 10
      })).toEqual(["AAA BUY 140", "BBB BUY 100"])
    })

    it("reports a target below one lot as a skip", () => {
      const input = { items: [{ symbol: "AAA", weight: "0.01" }], prices, portfolioValue: 10000, lotSize: 100 }
      expect(summary(input)).toEqual([])
      expect(skips(input)).toEqual({ AAA: "below_one_lot" })
    })

    it("adds only whole lots to an odd-lot position, staying at or under target", () => {
      // target 140 (lot 10), holding 15: buy 120 → 135, not 125 → 140 by an odd order
      expect(summary({ items: [{ symbol: "AAA", weight: "0.1" }], prices, positions: [{ symbol: "AAA", quantity: 15 }], portfolioValue: 10000, lotSize: 10 }))
        .toEqual(["AAA BUY 120"])
    })

    it("reduces an odd-lot position by whole lots to at most the target", () => {
      // target 140, holding 155: sell 20 → 135
      expect(summary({ items: [{ symbol: "AAA", weight: "0.1" }], prices, positions: [{ symbol: "AAA", quantity: 155 }], portfolioValue: 10000, lotSize: 10 }))
        .toEqual(["AAA SELL 20"])
    })

    it("sells an odd-lot position completely when the target is zero", () => {
      expect(summary({ items: [{ symbol: "AAA", weight: "0" }], prices, positions: [{ symbol: "AAA", quantity: 155 }], portfolioValue: 10000, lotSize: 100 }))
        .toEqual(["AAA SELL 155"])
    })
  })

  describe("cash", () => {
    it("trims buys pro rata to the cash available and re-rounds them to lots", () => {
      const result = build({
        items: [{ symbol: "AAA", weight: "0.5" }, { symbol: "BBB", weight: "0.5" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "BBB", price: "20" }],
        portfolioValue: 10000,
        cash: 4000
      })
      // wanted 500 AAA + 250 BBB = 10000; cash 4000 → factor 0.4 → 200 AAA, 100 BBB
      expect(result.orders.map((o) => `${o.symbol} ${Dec.toString(o.quantity)}`)).toEqual(["AAA 200", "BBB 100"])
      expect(result.trimmed.map((t) => [t.symbol, Dec.toString(t.requested), Dec.toString(t.quantity)])).toEqual([
        ["AAA", "500", "200"],
        ["BBB", "250", "100"]
      ])
    })

    it("counts the proceeds of the run's sells and keeps the buffer", () => {
      // holding 100 AAA @ 100 = 10000, no cash; move half into BBB with a 10% buffer
      const result = build({
        items: [{ symbol: "AAA", weight: "0.45" }, { symbol: "BBB", weight: "0.55" }],
        prices: [{ symbol: "AAA", price: "100" }, { symbol: "BBB", price: "10" }],
        positions: [{ symbol: "AAA", quantity: 100 }],
        portfolioValue: 10000,
        cashBufferRatio: "0.1"
      })
      // AAA target 40 → sell 60 = 6000 proceeds; budget 0 + 6000 − 1000 = 5000; BBB wants 495 × 10 = 4950 → fits
      expect(result.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)).toEqual([
        "AAA SELL 60",
        "BBB BUY 495"
      ])
      expect(result.trimmed).toEqual([])
    })

    it("counts no proceeds from a sell skipped below the minimum notional, and trims the buys to the cash there is", () => {
      // holding 100 AAA @ 10 with 1000 cash; AAA target 90 → sell 10 = 100 < 150, skipped; BBB wants 110 × 10 = 1100
      const result = build({
        items: [{ symbol: "AAA", weight: "0.45" }, { symbol: "BBB", weight: "0.55" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "BBB", price: "10" }],
        positions: [{ symbol: "AAA", quantity: 100 }],
        portfolioValue: 2000,
        cashBufferRatio: 0,
        minOrderNotional: 150,
        lotSize: 1
      })
      expect(result.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)).toEqual(["BBB BUY 100"])
      expect(result.skipped.map((s) => [s.symbol, s.reason])).toEqual([["AAA", "below_min_notional"]])
      expect(result.trimmed.map((t) => [t.symbol, Dec.toString(t.requested), Dec.toString(t.quantity)])).toEqual([["BBB", "110", "100"]])
    })

    it("skips a buy that the cash cannot pay for at all", () => {
      const input = {
        items: [{ symbol: "AAA", weight: "0.5" }],
        prices: [{ symbol: "AAA", price: "10" }],
        portfolioValue: 10000,
        cash: 5,
        lotSize: 1
      }
      expect(summary(input)).toEqual([])
      expect(skips(input)).toEqual({ AAA: "insufficient_cash" })
    })

    it("derives cash as portfolio value less the market value of the positions", () => {
      const result = build({
        items: [{ symbol: "AAA", weight: "0.5" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "ZZZ", price: "50" }],
        positions: [{ symbol: "ZZZ", quantity: 100 }],
        portfolioValue: 10000
      })
      expect(Dec.toString(result.plan.settings.cash)).toBe("5000")
      expect(summary({
        items: [{ symbol: "AAA", weight: "0.8" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "ZZZ", price: "50" }],
        positions: [{ symbol: "ZZZ", quantity: 100 }],
        portfolioValue: 10000
      })).toEqual(["AAA BUY 500"])
    })

    it("pays for covering shorts before opening new longs", () => {
      const result = build({
        items: [{ symbol: "AAA", weight: "0" }, { symbol: "BBB", weight: "0.5" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "BBB", price: "10" }],
        positions: [{ symbol: "AAA", quantity: -100 }],
        portfolioValue: 10000,
        cash: 1500
      })
      expect(result.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)).toEqual([
        "AAA BUY 100",
        "BBB BUY 50"
      ])
    })
  })

  it("puts sells before buys, each side in symbol order", () => {
    expect(summary({
      items: [
        { symbol: "DDD", weight: "0.1" },
        { symbol: "CCC", weight: "0" },
        { symbol: "BBB", weight: "0.1" },
        { symbol: "AAA", weight: "0" }
      ],
      prices: ["AAA", "BBB", "CCC", "DDD"].map((symbol) => ({ symbol, price: "10" })),
      positions: [{ symbol: "AAA", quantity: 5 }, { symbol: "CCC", quantity: 5 }],
      portfolioValue: 10000
    })).toEqual(["AAA SELL 5", "CCC SELL 5", "BBB BUY 100", "DDD BUY 100"])
  })

  describe("held symbols the decision does not mention", () => {
    const input = {
      items: [{ symbol: "AAA", weight: "0.1" }],
      prices: [{ symbol: "AAA", price: "10" }, { symbol: "OLD", price: "10" }],
      positions: [{ symbol: "OLD", quantity: 30 }],
      portfolioValue: 10000
    }
    it("are left alone by default, with a skip that says so", () => {
      expect(summary(input)).toEqual(["AAA BUY 100"])
      expect(skips(input)).toEqual({ OLD: "not_in_snapshot" })
    })
    it("are sold in full with liquidateMissing", () => {
      expect(summary({ ...input, liquidateMissing: true })).toEqual(["OLD SELL 30", "AAA BUY 100"])
    })
    it("are reported missing_price when liquidateMissing has no price to sell at", () => {
      const noPrice = { ...input, prices: [{ symbol: "AAA", price: "10" }], cash: 9700, liquidateMissing: true }
      expect(summary(noPrice)).toEqual(["AAA BUY 100"])
      expect(skips(noPrice)).toEqual({ OLD: "missing_price" })
    })
  })

  describe("minimum order size", () => {
    it("skips orders under the minimum notional", () => {
      const input = {
        items: [{ symbol: "AAA", weight: "0.01" }, { symbol: "BBB", weight: "0.1" }],
        prices: [{ symbol: "AAA", price: "10" }, { symbol: "BBB", price: "10" }],
        portfolioValue: 10000,
        minOrderNotional: 500
      }
      expect(summary(input)).toEqual(["BBB BUY 100"])
      expect(build(input).skipped).toEqual([{ symbol: "AAA", reason: "below_min_notional", detail: "100 < 500" }])
    })
    it("still closes a position whatever its size", () => {
      expect(summary({
        items: [{ symbol: "AAA", weight: "0" }],
        prices: [{ symbol: "AAA", price: "10" }],
        positions: [{ symbol: "AAA", quantity: 3 }],
        portfolioValue: 10000,
        minOrderNotional: 500
      })).toEqual(["AAA SELL 3"])
    })
    it("skips orders under the securities table's minimum quantity", () => {
      const input = {
        items: [{ symbol: "AAA", weight: "0.01" }],
        prices: [{ symbol: "AAA", price: "10" }],
        securities: [{ symbol: "AAA", minQuantity: "50" }],
        portfolioValue: 10000
      }
      expect(skips(input)).toEqual({ AAA: "below_min_quantity" })
    })
  })

  describe("limit orders", () => {
    const base = {
      items: [{ symbol: "AAA", weight: "0.1" }, { symbol: "BBB", weight: "0" }],
      prices: [{ symbol: "AAA", price: "33.33" }, { symbol: "BBB", price: "20" }],
      positions: [{ symbol: "BBB", quantity: 10 }],
      portfolioValue: 10000,
      orderType: "LMT"
    }
    const limits = (input: Parameters<typeof build>[0]) =>
      Object.fromEntries(build(input).orders.map((o) => [o.symbol, o.limitPrice && Dec.toString(o.limitPrice)]))

    it("uses an explicit limit price", () => {
      expect(limits({ ...base, limitPrice: "33" })).toEqual({ AAA: "33", BBB: "33" })
    })
    it("offsets buys above and sells below the reference price, exactly", () => {
      expect(limits({ ...base, limitOffsetBps: 25 })).toEqual({ AAA: "33.413325", BBB: "19.95" })
    })
    it("rounds offset limits to the tick toward the passive side", () => {
      expect(limits({ ...base, limitOffsetBps: 25, tickSize: "0.01" })).toEqual({ AAA: "33.41", BBB: "19.95" })
      expect(limits({ ...base, limitOffsetBps: 30, tickSize: "0.05" })).toEqual({ AAA: "33.4", BBB: "19.95" })
    })
    it("uses a symbol's own tick size from the securities table", () => {
      expect(limits({ ...base, limitOffsetBps: 25, tickSize: "0.01", securities: [{ symbol: "AAA", tickSize: "0.1" }] }))
        .toEqual({ AAA: "33.4", BBB: "19.95" })
    })
    it("sizes limit buys against cash at their limit price", () => {
      const result = build({
        items: [{ symbol: "AAA", weight: "1" }],
        prices: [{ symbol: "AAA", price: "100" }],
        portfolioValue: 10000,
        orderType: "LMT",
        limitOffsetBps: 100
      })
      // target 100 at 100, but each costs up to 101 → cash 10000 buys 99
      expect(result.orders.map((o) => Dec.toString(o.quantity))).toEqual(["99"])
    })
  })

  it("reports a symbol with no price anywhere as missing_price and uses the item price as a fallback", () => {
    const input = {
      items: [{ symbol: "AAA", weight: "0.1" }, { symbol: "BBB", weight: "0.1", price: "20" }],
      prices: [],
      portfolioValue: 10000
    }
    expect(summary(input)).toEqual(["BBB BUY 50"])
    expect(skips(input)).toEqual({ AAA: "missing_price" })
  })

  it("normalizes symbols (trim, upper case) and accounts for every one with an order or a skip", () => {
    const result = build({
      items: [{ symbol: " aaa ", weight: "0.1" }, { symbol: "bbb", weight: "0" }, { symbol: "ccc", weight: "0.1" }],
      prices: [{ symbol: "AAA", price: "10" }, { symbol: "bbb", price: "10" }],
      positions: [{ symbol: "Zzz", quantity: 1 }],
      portfolioValue: 10000,
      cash: 10000
    })
    const seen = [...result.orders.map((o) => o.symbol), ...result.skipped.map((s) => s.symbol)].sort()
    expect(seen).toEqual(["AAA", "BBB", "CCC", "ZZZ"])
  })

  it("derives client order ids from run, symbol, side and model version", () => {
    const once = build({ items: [{ symbol: "AAA", weight: "0.1" }], prices: [{ symbol: "AAA", price: "10" }], portfolioValue: 1000, modelVersion: "m1" })
    const again = build({ items: [{ symbol: "AAA", weight: "0.2" }], prices: [{ symbol: "AAA", price: "10" }], portfolioValue: 1000, modelVersion: "m1" })
    const otherModel = build({ items: [{ symbol: "AAA", weight: "0.1" }], prices: [{ symbol: "AAA", price: "10" }], portfolioValue: 1000, modelVersion: "m2" })
    const otherRun = build({ runId: "run-2", items: [{ symbol: "AAA", weight: "0.1" }], prices: [{ symbol: "AAA", price: "10" }], portfolioValue: 1000, modelVersion: "m1" })
    expect(once.orders[0]!.clientOrderId).toBe(again.orders[0]!.clientOrderId)
    expect(once.orders[0]!.clientOrderId).not.toBe(otherModel.orders[0]!.clientOrderId)
    expect(once.orders[0]!.clientOrderId).not.toBe(otherRun.orders[0]!.clientOrderId)
    expect(once.orders[0]!.clientOrderId).toMatch(/^AAA-B-[0-9a-f]{24}$/)
  })
})
