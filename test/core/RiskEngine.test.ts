import { describe, expect, it } from "@effect/vitest"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { Position, Quote } from "../../src/domain/Market.js"
import type { OrderDraft, OrderSide } from "../../src/domain/Order.js"
import type { RiskLimits } from "../../src/domain/Risk.js"
import * as RiskEngine from "../../src/RiskEngine.js"

const d = Dec.unsafe

const order = (
  symbol: string,
  side: OrderSide,
  quantity: Dec.DecimalInput,
  price: Dec.DecimalInput,
  extra: { current?: Dec.DecimalInput; weight?: Dec.DecimalInput; limit?: Dec.DecimalInput; sector?: string } = {}
): OrderDraft => {
  const current = d(extra.current ?? 0)
  const signed = side === "BUY" ? d(quantity) : Dec.negate(d(quantity))
  return {
    clientOrderId: ClientOrderId.derive({ runId: "risk", symbol, side, modelVersion: "m" }),
    symbol: symbol as Symbol,
    side,
    quantity: d(quantity),
    orderType: extra.limit === undefined ? "MKT" : "LMT",
    ...(extra.limit === undefined ? {} : { limitPrice: d(extra.limit) }),
    referencePrice: d(price),
    currentQuantity: current,
    targetQuantity: Dec.add(current, signed),
    targetWeight: d(extra.weight ?? 0.01),
    ...(extra.sector === undefined ? {} : { sector: extra.sector })
  }
}

const position = (symbol: string, quantity: Dec.DecimalInput): Position => ({ symbol: symbol as Symbol, quantity: d(quantity) })

const check = (
  orders: ReadonlyArray<OrderDraft>,
  limits: RiskLimits,
  extra: Partial<Omit<RiskEngine.RiskInput, "orders" | "limits">> = {}
) =>
  RiskEngine.evaluate({
    orders,
    limits,
    portfolioValue: d(10000),
    cash: d(10000),
    positions: [],
    ...extra
  })

describe("RiskEngine", () => {
  it("blocks AAA BUY 100 @ 100 under a max order notional of 5000 (origin reference case)", () => {
    const verdict = check([order("AAA", "BUY", 100, 100)], { maxOrderNotional: d(5000) })
    expect(verdict.passed).toBe(false)
    expect(verdict.rejected.map((r) => r.clientOrderId)).toEqual([order("AAA", "BUY", 100, 100).clientOrderId])
    expect(verdict.violations[0]).toMatchObject({ rule: "max_order_notional", symbol: "AAA", limit: "5000", actual: "10000" })
    expect(verdict.reasons[0]).toContain("max_order_notional")
    expect(verdict.reasons[0]).toBe("max_order_notional:AAA")
  })

  it("passes everything when no limit is set", () => {
    const verdict = check([order("AAA", "BUY", 1_000_000, 100), order("BBB", "SELL", 5, 10)], {})
    expect(verdict).toMatchObject({ passed: true, violations: [], reasons: [], rejected: [] })
    expect(verdict.accepted).toHaveLength(2)
  })

  /** One case per rule: the input that breaks it and the nearest input that does not. */
  const rules: ReadonlyArray<{
    readonly rule: string
    readonly breaks: () => Parameters<typeof check>
    readonly holds: () => Parameters<typeof check>
    readonly reason: string
    readonly limit: string
    readonly actual: string
  }> = [
    {
      rule: "max_order_notional",
      breaks: () => [[order("AAA", "BUY", 51, 100)], { maxOrderNotional: d(5000) }],
      holds: () => [[order("AAA", "BUY", 50, 100)], { maxOrderNotional: d(5000) }],
      reason: "max_order_notional:AAA",
      limit: "5000",
      actual: "5100"
    },
    {
      rule: "max_order_quantity",
      breaks: () => [[order("AAA", "SELL", 1001, 1, { current: 5000 })], { maxOrderQuantity: d(1000) }],
      holds: () => [[order("AAA", "SELL", 1000, 1, { current: 5000 })], { maxOrderQuantity: d(1000) }],
      reason: "max_order_quantity:AAA",
      limit: "1000",
      actual: "1001"
    },
    {
      rule: "max_position_ratio",
      breaks: () => [[order("AAA", "BUY", 10, 100, { current: 11 })], { maxPositionRatio: d("0.2") }],
      holds: () => [[order("AAA", "BUY", 10, 100, { current: 10 })], { maxPositionRatio: d("0.2") }],
      reason: "max_position_ratio:AAA",
      limit: "0.2",
      actual: "0.21"
    },
    {
      rule: "max_name_weight",
      breaks: () => [[order("AAA", "BUY", 1, 100, { weight: "0.1500001" })], { maxNameWeight: d("0.15") }],
      holds: () => [[order("AAA", "BUY", 1, 100, { weight: "0.15" })], { maxNameWeight: d("0.15") }],
      reason: "max_name_weight:AAA",
      limit: "0.15",
      actual: "0.1500001"
    },
    {
      rule: "max_sector_weight",
      breaks: () => [
        [order("AAA", "BUY", 20, 100, { sector: "Tech" })],
        { maxSectorWeight: d("0.3") },
        { positions: [position("BBB", 11)], sectors: new Map([["BBB" as Symbol, "Tech"]]), quotes: quotes({ BBB: 100 }) }
      ],
      holds: () => [
        [order("AAA", "BUY", 20, 100, { sector: "Tech" })],
        { maxSectorWeight: d("0.3") },
        { positions: [position("BBB", 10)], sectors: new Map([["BBB" as Symbol, "Tech"]]), quotes: quotes({ BBB: 100 }) }
      ],
      reason: "max_sector_weight:AAA",
      limit: "0.3",
      actual: "0.31"
    },
    {
      rule: "max_gross_exposure",
      breaks: () => [[order("AAA", "BUY", 60, 100), order("BBB", "SELL", 41, 100)], { maxGrossExposure: d(1) }],
      holds: () => [[order("AAA", "BUY", 60, 100), order("BBB", "SELL", 40, 100)], { maxGrossExposure: d(1) }],
      reason: "max_gross_exposure",
      limit: "1",
      actual: "1.01"
    },
    {
      rule: "max_net_exposure",
      breaks: () => [[order("AAA", "BUY", 60, 100), order("BBB", "SELL", 9, 100)], { maxNetExposure: d("0.5") }],
      holds: () => [[order("AAA", "BUY", 60, 100), order("BBB", "SELL", 10, 100)], { maxNetExposure: d("0.5") }],
      reason: "max_net_exposure",
      limit: "0.5",
      actual: "0.51"
    },
    {
      rule: "max_orders_per_run",
      breaks: () => [[order("AAA", "BUY", 1, 1), order("BBB", "BUY", 1, 1), order("CCC", "BUY", 1, 1)], { maxOrdersPerRun: 2 }],
      holds: () => [[order("AAA", "BUY", 1, 1), order("BBB", "BUY", 1, 1)], { maxOrdersPerRun: 2 }],
      reason: "max_orders_per_run",
      limit: "2",
      actual: "3"
    },
    {
      rule: "min_order_notional",
      breaks: () => [[order("AAA", "BUY", 9, 10)], { minOrderNotional: d(100) }],
      holds: () => [[order("AAA", "BUY", 10, 10)], { minOrderNotional: d(100) }],
      reason: "min_order_notional:AAA",
      limit: "100",
      actual: "90"
    },
    {
      rule: "restricted_symbol",
      breaks: () => [[order("AAA", "BUY", 1, 10)], { restrictedSymbols: ["AAA" as Symbol] }],
      holds: () => [[order("AAA", "BUY", 1, 10)], { restrictedSymbols: ["BBB" as Symbol] }],
      reason: "restricted_symbol:AAA",
      limit: "restricted",
      actual: "BUY 1"
    },
    {
      rule: "long_only",
      breaks: () => [[order("AAA", "SELL", 11, 10, { current: 10 })], { longOnly: true }],
      holds: () => [[order("AAA", "SELL", 10, 10, { current: 10 })], { longOnly: true }],
      reason: "long_only:AAA",
      limit: "0",
      actual: "-1"
    },
    {
      rule: "price_collar",
      breaks: () => [[order("AAA", "BUY", 1, 100, { limit: "100.51" })], { priceCollarBps: d(50) }],
      holds: () => [[order("AAA", "BUY", 1, 100, { limit: "100.5" })], { priceCollarBps: d(50) }],
      reason: "price_collar:AAA",
      limit: "50",
      actual: "51"
    },
    {
      rule: "cash_sufficiency",
      // cash 10000 + proceeds of selling BBB 100 = 10100 available
      breaks: () => [[order("AAA", "BUY", 102, 100), order("BBB", "SELL", 10, 10, { current: 10 })], { cashSufficiency: true }, { cash: d(10000) }],
      holds: () => [[order("AAA", "BUY", 101, 100), order("BBB", "SELL", 10, 10, { current: 10 })], { cashSufficiency: true }, { cash: d(10000) }],
      reason: "cash_sufficiency",
      limit: "10100",
      actual: "10200"
    },
    {
      rule: "price_staleness",
      breaks: () => [[order("AAA", "BUY", 1, 10)], { maxPriceAgeSeconds: d(60) }, { quotes: quotes({ AAA: 10 }, "2026-11-25T10:00:00.000Z"), asOf: Date.parse("2026-11-25T10:01:01.000Z") }],
      holds: () => [[order("AAA", "BUY", 1, 10)], { maxPriceAgeSeconds: d(60) }, { quotes: quotes({ AAA: 10 }, "2026-11-25T10:00:00.000Z"), asOf: Date.parse("2026-11-25T10:01:00.000Z") }],
      reason: "price_staleness:AAA",
      limit: "60",
      actual: "61"
    }
  ]

  describe.each(rules)("$rule", (c) => {
    it("triggers with a structured violation and its stable reason", () => {
      const verdict = check(...c.breaks())
      expect(verdict.passed).toBe(false)
      expect(verdict.reasons).toEqual([c.reason])
      expect(verdict.violations).toHaveLength(1)
      expect(verdict.violations[0]).toMatchObject({ rule: c.rule, limit: c.limit, actual: c.actual, reason: c.reason })
    })
    it("does not trigger just inside the limit", () => {
      const verdict = check(...c.holds())
      expect(verdict.violations).toEqual([])
      expect(verdict.passed).toBe(true)
    })
  })

  it("fails the staleness rule for a price without a time", () => {
    const verdict = check([order("AAA", "BUY", 1, 10)], { maxPriceAgeSeconds: d(60) }, { quotes: quotes({ AAA: 10 }), asOf: 0 })
    expect(verdict.violations[0]).toMatchObject({ rule: "price_staleness", actual: "unknown" })
  })

  it("rejects as stale a price stamped in the future beyond the clock-skew tolerance, and allows a few seconds of skew", () => {
    const asOf = Date.parse("2026-11-25T10:00:00.000Z")
    const stamped = (time: string) =>
      check([order("AAA", "BUY", 1, 10)], { maxPriceAgeSeconds: d(60) }, { quotes: quotes({ AAA: 10 }, time), asOf })
    expect(RiskEngine.FUTURE_TOLERANCE_SECONDS).toBe(5)
    expect(stamped("2099-01-01T00:00:00.000Z").violations).toEqual([
      expect.objectContaining({ rule: "price_staleness", symbol: "AAA", limit: "60", actual: String((asOf - Date.parse("2099-01-01T00:00:00.000Z")) / 1000) })
    ])
    expect(stamped("2026-11-25T10:00:05.001Z").reasons).toEqual(["price_staleness:AAA"])
    expect(stamped("2026-11-25T10:00:05.000Z").violations).toEqual([])
    expect(stamped("2026-11-25T10:00:01.000Z").violations).toEqual([])
  })

  describe("orders that reduce an existing position", () => {
    const reducing = order("AAA", "SELL", 5, 10, { current: 100, weight: "0.9" })
    it("are exempt from the minimum notional", () => {
      expect(check([reducing], { minOrderNotional: d(1000) }).passed).toBe(true)
      expect(check([order("AAA", "BUY", 5, 10, { current: 100 })], { minOrderNotional: d(1000) }).passed).toBe(false)
    })
    it("are exempt from the cash check, including buys that cover a short", () => {
      const cover = order("AAA", "BUY", 50, 100, { current: -80 })
      expect(check([cover], { cashSufficiency: true }, { cash: d(0) }).passed).toBe(true)
      expect(check([order("AAA", "BUY", 50, 100)], { cashSufficiency: true }, { cash: d(0) }).passed).toBe(false)
    })
    it("are exempt from exposure caps they can only improve", () => {
      const limits = { maxPositionRatio: d("0.01"), maxNameWeight: d("0.5"), longOnly: true }
      expect(check([reducing], limits).passed).toBe(true)
      expect(check([order("AAA", "BUY", 1, 10, { current: -100 })], limits).passed).toBe(true)
    })
    it("still obey the hard limits on size and restricted symbols", () => {
      expect(check([reducing], { maxOrderQuantity: d(4) }).reasons).toEqual(["max_order_quantity:AAA"])
      expect(check([reducing], { restrictedSymbols: ["AAA" as Symbol] }).reasons).toEqual(["restricted_symbol:AAA"])
    })
    it("do not include an order that sells through zero into a short", () => {
      expect(RiskEngine.reducesPosition(order("AAA", "SELL", 101, 10, { current: 100 }))).toBe(false)
      expect(RiskEngine.reducesPosition(order("AAA", "SELL", 100, 10, { current: 100 }))).toBe(true)
    })
  })

  it("does not flag a run that lowers a gross exposure already above its cap", () => {
    const positions = [position("AAA", 150)]
    const lower = check([order("AAA", "SELL", 20, 100, { current: 150 })], { maxGrossExposure: d(1) }, { positions })
    expect(lower.passed).toBe(true)
    const higher = check([order("BBB", "BUY", 1, 100)], { maxGrossExposure: d(1) }, { positions, quotes: quotes({ AAA: 100 }) })
    expect(higher.reasons).toEqual(["max_gross_exposure"])
  })

  describe("policies", () => {
    const orders = [order("AAA", "BUY", 60, 100), order("BBB", "BUY", 10, 100), order("CCC", "BUY", 10, 100)]
    const limits: RiskLimits = { maxOrderNotional: d(5000), restrictedSymbols: ["CCC" as Symbol] }

    it("block_run blocks the whole run on any violation and accepts nothing", () => {
      const verdict = check(orders, limits)
      expect(verdict.policy).toBe("block_run")
      expect(verdict.passed).toBe(false)
      expect(verdict.accepted).toEqual([])
      expect(verdict.rejected.map((r) => r.reason)).toEqual(["max_order_notional:AAA", "restricted_symbol:CCC"])
    })

    it("drop_orders drops the violating orders and lets the rest through", () => {
      const verdict = check(orders, limits, { policy: "drop_orders" })
      expect(verdict.passed).toBe(true)
      expect(verdict.accepted).toEqual([orders[1]!.clientOrderId])
      expect(verdict.rejected.map((r) => r.clientOrderId)).toEqual([orders[0]!.clientOrderId, orders[2]!.clientOrderId])
      expect(verdict.reasons).toEqual(["max_order_notional:AAA", "restricted_symbol:CCC"])
    })

    it("drop_orders judges the run-wide rules on the orders that remain", () => {
      const dropped = check(orders, { ...limits, maxGrossExposure: d("0.5") }, { policy: "drop_orders" })
      expect(dropped.passed).toBe(true)
      // BBB alone is 10% of the portfolio: still above a 5% gross cap, so the run is blocked.
      const stillTooMuch = check(orders, { ...limits, maxGrossExposure: d("0.05") }, { policy: "drop_orders" })
      expect(stillTooMuch.passed).toBe(false)
      expect(stillTooMuch.accepted).toEqual([])
      expect(stillTooMuch.reasons).toEqual(["max_order_notional:AAA", "restricted_symbol:CCC", "max_gross_exposure"])
      expect(stillTooMuch.violations.at(-1)).toMatchObject({ rule: "max_gross_exposure", actual: "0.1" })
    })

    it("drop_orders blocks a run whose every order was dropped, and passes one that had no order", () => {
      const verdict = check([orders[0]!, orders[2]!], limits, { policy: "drop_orders" })
      expect(verdict.passed).toBe(false)
      expect(verdict.accepted).toEqual([])
      expect(verdict.rejected.map((r) => r.reason)).toEqual(["max_order_notional:AAA", "restricted_symbol:CCC"])
      expect(check([], limits, { policy: "drop_orders" }).passed).toBe(true)
    })
  })

  it("reports every violation of every order, in order, with one reason per rule and symbol", () => {
    const verdict = check(
      [order("AAA", "BUY", 100, 100), order("BBB", "SELL", 5, 10)],
      { maxOrderNotional: d(5000), maxOrderQuantity: d(50), longOnly: true }
    )
    expect(verdict.reasons).toEqual([
      "max_order_notional:AAA",
      "max_order_quantity:AAA",
      "long_only:BBB"
    ])
  })
})

function quotes(prices: Record<string, number>, time?: string): ReadonlyMap<Symbol, Quote> {
  return new Map(Object.entries(prices).map(([symbol, price]) => [
    symbol as Symbol,
    { symbol: symbol as Symbol, price: d(price), ...(time === undefined ? {} : { time }) }
  ]))
}
