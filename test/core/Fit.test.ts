/**
 * The policy `fit`, rule by rule and all at once: where each rule moves a target, what it records, and
 * that the orders built from the fitted targets pass the risk engine.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import type { ItemInput, PositionInput, SecurityInput } from "../../src/BuildInput.js"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import { FitAdjustment, type RiskLimits, type RiskPolicy } from "../../src/domain/Risk.js"
import * as Fit from "../../src/Fit.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"
import * as RiskEngine from "../../src/RiskEngine.js"
import { item, makeWorld, quote } from "../support/world.js"

const d = Dec.unsafe

interface Book {
  readonly items: ReadonlyArray<ItemInput>
  readonly prices: Record<string, Dec.DecimalInput>
  readonly positions?: ReadonlyArray<PositionInput>
  readonly securities?: ReadonlyArray<SecurityInput>
  readonly portfolioValue?: Dec.DecimalInput
  readonly cashBufferRatio?: Dec.DecimalInput
  readonly liquidateMissing?: boolean
}

const inputOf = (book: Book) => ({
  runId: "fit",
  items: book.items,
  prices: Object.entries(book.prices).map(([symbol, price]) => ({ symbol, price })),
  positions: book.positions ?? [],
  securities: book.securities ?? [],
  portfolioValue: book.portfolioValue ?? 100_000,
  cashBufferRatio: book.cashBufferRatio ?? 0,
  liquidateMissing: book.liquidateMissing ?? false
})

const build = (book: Book, limits: RiskLimits, policy: RiskPolicy = "fit") =>
  Either.getOrThrow(OrderBuilder.build(inputOf(book), { limits, policy }))

const orders = (result: OrderBuilder.BuildResult) => result.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)
/** The moves as they are written down (decimals as text). */
const moves = (result: OrderBuilder.BuildResult) => Schema.encodeSync(Schema.Array(FitAdjustment))(result.fit?.adjustments ?? [])

/** The risk engine on a build, as the runner calls it. */
const judge = (result: OrderBuilder.BuildResult, limits: RiskLimits, policy: RiskPolicy = "fit") => {
  const { plan } = result
  const sectors = new Map<Symbol, string>()
  for (const s of plan.securities.values()) if (s.sector !== undefined) sectors.set(s.symbol, s.sector)
  for (const i of plan.items) if (i.sector !== undefined) sectors.set(i.symbol, i.sector)
  return RiskEngine.evaluate({
    orders: result.orders,
    limits,
    policy,
    portfolioValue: plan.settings.portfolioValue,
    cash: plan.settings.cash,
    positions: [...plan.positions].map(([symbol, quantity]) => ({ symbol, quantity })),
    quotes: [...plan.prices].map(([symbol, price]) => ({ symbol, price })),
    sectors,
    ...(result.fit === undefined ? {} : { unmet: result.fit.unmet })
  })
}

describe("Fit, one rule at a time", () => {
  it("clips a name above its cap onto it and leaves the others untouched", () => {
    const result = build(
      { items: [{ symbol: "AAA", weight: "0.07" }, { symbol: "BBB", weight: "0.03" }, { symbol: "CCC", weight: "0.04" }], prices: { AAA: 10, BBB: 10, CCC: 10 } },
      { maxNameWeight: d("0.05") }
    )
    expect(orders(result)).toEqual(["AAA BUY 500", "BBB BUY 300", "CCC BUY 400"])
    expect(moves(result)).toEqual([{ rule: "max_name_weight", symbol: "AAA", from: "0.07", to: "0.05" }])
    expect(result.orders.map((o) => Dec.toString(o.targetWeight))).toEqual(["0.05", "0.03", "0.04"])
    expect(judge(result, { maxNameWeight: d("0.05") })).toMatchObject({ passed: true, violations: [] })
  })

  it("clips to the position cap when it is the tighter one, as a weight of the invested value", () => {
    // 4% of 100,000 is 4,000, which is 5% of the 80,000 invested under a 20% cash buffer.
    const limits = { maxNameWeight: d("0.06"), maxPositionRatio: d("0.04") }
    const result = build({ items: [{ symbol: "AAA", weight: "0.07" }], prices: { AAA: 10 }, cashBufferRatio: "0.2" }, limits)
    expect(orders(result)).toEqual(["AAA BUY 400"])
    expect(moves(result)).toEqual([{ rule: "max_position_ratio", symbol: "AAA", from: "0.07", to: "0.05" }])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("scales a sector above its cap pro rata onto it: 0.06 and 0.06 under 0.1 become 0.05 each, 500 shares at 10 of 100,000", () => {
    const limits = { maxSectorWeight: d("0.1") }
    const result = build(
      {
        items: [{ symbol: "AAA", weight: "0.06", sector: "Tech" }, { symbol: "BBB", weight: "0.06", sector: "Tech" }, { symbol: "HHH", weight: "0.09", sector: "Health" }],
        prices: { AAA: 10, BBB: 10, HHH: 10 }
      },
      limits
    )
    expect(orders(result)).toEqual(["AAA BUY 500", "BBB BUY 500", "HHH BUY 900"])
    // Recorded for the sector, with its factor (0.1 / 0.12), and for each of its names: each lands on 0.05 exactly.
    expect(moves(result)).toEqual([
      { rule: "max_sector_weight", sector: "Tech", from: "0.12", to: "0.1", factor: "0.833333333333333333" },
      { rule: "max_sector_weight", symbol: "AAA", sector: "Tech", from: "0.06", to: "0.05", factor: "0.833333333333333333" },
      { rule: "max_sector_weight", symbol: "BBB", sector: "Tech", from: "0.06", to: "0.05", factor: "0.833333333333333333" }
    ])
    expect(result.orders.map((o) => `${o.symbol} ${Dec.toString(o.targetWeight)}`)).toEqual(["AAA 0.05", "BBB 0.05", "HHH 0.09"])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("counts a held name of the sector the decision leaves alone, and scales the others into what it leaves", () => {
    // TTT is held at 0.02 and not in the decision: 0.08 is left for AAA and BBB, 0.04 each.
    const limits = { maxSectorWeight: d("0.1") }
    const result = build(
      {
        items: [{ symbol: "AAA", weight: "0.06" }, { symbol: "BBB", weight: "0.06" }],
        prices: { AAA: 10, BBB: 10, TTT: 20 },
        positions: [{ symbol: "TTT", quantity: 100 }],
        securities: [{ symbol: "AAA", sector: "Tech" }, { symbol: "BBB", sector: "Tech" }, { symbol: "TTT", sector: "Tech" }]
      },
      limits
    )
    expect(orders(result)).toEqual(["AAA BUY 400", "BBB BUY 400"])
    expect(moves(result)).toEqual([
      { rule: "max_sector_weight", sector: "Tech", from: "0.14", to: "0.1", factor: "0.666666666666666666" },
      { rule: "max_sector_weight", symbol: "AAA", sector: "Tech", from: "0.06", to: "0.04", factor: "0.666666666666666666" },
      { rule: "max_sector_weight", symbol: "BBB", sector: "Tech", from: "0.06", to: "0.04", factor: "0.666666666666666666" }
    ])
    expect(result.orders.map((o) => Dec.toString(o.targetWeight))).toEqual(["0.04", "0.04"])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("scales the book onto a gross cap, recorded once with its factor", () => {
    const limits = { maxGrossExposure: d("0.9") }
    const result = build(
      { items: [{ symbol: "AAA", weight: "0.5" }, { symbol: "BBB", weight: "0.4" }, { symbol: "CCC", weight: "-0.3" }], prices: { AAA: 10, BBB: 10, CCC: 10 } },
      limits
    )
    expect(orders(result)).toEqual(["CCC SELL 2250", "AAA BUY 3750", "BBB BUY 3000"])
    expect(moves(result)).toEqual([{ rule: "max_gross_exposure", from: "1.2", to: "0.9", factor: "0.75" }])
    expect(result.orders.map((o) => `${o.symbol} ${Dec.toString(o.targetWeight)}`)).toEqual(["CCC -0.225", "AAA 0.375", "BBB 0.3"])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("scales the side that carries the net exposure past its cap, and leaves the other side", () => {
    const limits = { maxNetExposure: d("0.4") }
    const result = build(
      { items: [{ symbol: "AAA", weight: "0.5" }, { symbol: "BBB", weight: "0.3" }, { symbol: "CCC", weight: "-0.2" }], prices: { AAA: 10, BBB: 10, CCC: 10 } },
      limits
    )
    // Longs 0.8 less the excess 0.2: scaled by 0.6 / 0.8. Scaling the short too would add to the excess.
    expect(orders(result)).toEqual(["CCC SELL 2000", "AAA BUY 3750", "BBB BUY 2250"])
    expect(moves(result)).toEqual([{ rule: "max_net_exposure", from: "0.6", to: "0.4", factor: "0.75" }])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("makes a short target flat under long-only, which covers the short held", () => {
    const limits = { longOnly: true }
    const result = build(
      { items: [{ symbol: "AAA", weight: "-0.1" }, { symbol: "BBB", weight: "0.1" }], prices: { AAA: 10, BBB: 10 }, positions: [{ symbol: "AAA", quantity: -200 }] },
      limits
    )
    expect(orders(result)).toEqual(["AAA BUY 200", "BBB BUY 1000"])
    expect(moves(result)).toEqual([{ rule: "long_only", symbol: "AAA", from: "-0.1", to: "0" }])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("moves every trade toward the book held by one factor under a turnover cap", () => {
    // Held AAA 0.1; the decision sells 0.08 of it and buys 0.08 of BBB: 0.16 of turnover, capped at 0.08.
    const limits = { maxTurnover: d("0.08") }
    const result = build(
      { items: [{ symbol: "AAA", weight: "0.02" }, { symbol: "BBB", weight: "0.08" }], prices: { AAA: 10, BBB: 10 }, positions: [{ symbol: "AAA", quantity: 1000 }] },
      limits
    )
    expect(orders(result)).toEqual(["AAA SELL 400", "BBB BUY 400"])
    expect(moves(result)).toEqual([{ rule: "max_turnover", from: "0.16", to: "0.08", factor: "0.5" }])
    expect(result.orders.map((o) => Dec.toString(o.targetWeight))).toEqual(["0.06", "0.04"])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("brings a reduction back a lot when rounding it toward zero would take the turnover over its cap", () => {
    // Held 1,000 at 7 (0.07); the target 3,250 rounds to 464 shares, a sale of 536 (3,752 > the cap of 3,750).
    const limits = { maxTurnover: d("0.0375") }
    const result = build({ items: [{ symbol: "AAA", weight: "0.0325" }], prices: { AAA: 7 }, positions: [{ symbol: "AAA", quantity: 1000 }] }, limits)
    expect(orders(result)).toEqual(["AAA SELL 535"])
    expect(moves(result)).toEqual([{ rule: "max_turnover", symbol: "AAA", from: "0.03248", to: "0.03255", lots: true }])
    // Without the fit, the same limit blocks the run.
    const blocked = build({ items: [{ symbol: "AAA", weight: "0.0325" }], prices: { AAA: 7 }, positions: [{ symbol: "AAA", quantity: 1000 }] }, limits, "block_run")
    expect(orders(blocked)).toEqual(["AAA SELL 536"])
    expect(judge(blocked, limits, "block_run").violations).toEqual([
      { rule: "max_turnover", limit: "0.0375", actual: "0.03752", reason: "max_turnover" }
    ])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it.each(["block_run", "drop_orders", "fit"] as const)("skips a trade inside the no-trade band as within_band, under %s", (policy) => {
    const result = build(
      { items: [{ symbol: "AAA", weight: "0.1005" }, { symbol: "BBB", weight: "0.05" }], prices: { AAA: 10, BBB: 10 }, positions: [{ symbol: "AAA", quantity: 1000 }] },
      { minTradeWeight: d("0.001") },
      policy
    )
    expect(orders(result)).toEqual(["BBB BUY 500"])
    expect(result.skipped).toEqual([{ symbol: "AAA", reason: "within_band", detail: "0.0005 < 0.001 of the portfolio" }])
  })

  it("keeps a restricted symbol at the position held, and reports one held above a cap as unmet without blocking", () => {
    const limits = { restrictedSymbols: ["XYZ" as Symbol], maxNameWeight: d("0.05") }
    const result = build(
      { items: [{ symbol: "XYZ", weight: "0.03" }, { symbol: "AAA", weight: "0.04" }], prices: { XYZ: 10, AAA: 10 }, positions: [{ symbol: "XYZ", quantity: 800 }] },
      limits
    )
    expect(orders(result)).toEqual(["AAA BUY 400"])
    expect(result.skipped).toEqual([{ symbol: "XYZ", reason: "restricted", detail: "a restricted symbol keeps the position held" }])
    expect(moves(result)).toEqual([{ rule: "restricted_symbol", symbol: "XYZ", from: "0.03", to: "0.08" }])
    const unmet = { rule: "max_name_weight", symbol: "XYZ", limit: "0.05", actual: "0.08", reason: "max_name_weight:XYZ" }
    expect(result.fit?.unmet).toEqual([unmet])
    // Nothing the run sends could cure it: reported, and the fitted orders pass.
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [unmet], reasons: ["max_name_weight:XYZ"] })
    // Under block_run the same decision is blocked: it would trade a restricted symbol.
    expect(judge(build(
      { items: [{ symbol: "XYZ", weight: "0.03" }, { symbol: "AAA", weight: "0.04" }], prices: { XYZ: 10, AAA: 10 }, positions: [{ symbol: "XYZ", quantity: 800 }] },
      limits,
      "block_run"
    ), limits, "block_run").reasons).toEqual(["restricted_symbol:XYZ"])
  })
})

describe("Fit, all at once on a few hundred names", () => {
  const SECTORS = ["Tech", "Health", "Energy", "Financials", "Industrials", "Utilities"]
  // Every name of a sector weighs the same; Tech (0.25) and Health (0.32) are above the sector cap of 0.2.
  // The figures are chosen so that every factor is a short decimal (0.8, 0.625), which lets the fitted
  // decision be written down exactly and fitted again.
  const SECTOR_WEIGHT = ["0.005", "0.0064", "0.0032", "0.0032", "0.0025", "0.0016"]
  const N = 300
  const symbols = Array.from({ length: N }, (_, i) => `S${String(i).padStart(3, "0")}`)
  const RESTRICTED = ["S017", "S100"] as Array<Symbol>
  const book: Book = {
    items: symbols.map((symbol, i) => ({
      symbol,
      // Two names above the name cap, five shorts the long-only rule makes flat.
      weight: i === 3 || i === 9 ? "0.012" : i % 60 === 11 ? "-0.002" : SECTOR_WEIGHT[i % 6]!,
      sector: SECTORS[i % 6]!
    })),
    prices: Object.fromEntries(symbols.map((s, i) => [s, String(10 + (i % 7) * 5)])),
    // Half the names held, near a third of the way to their targets.
    positions: symbols.flatMap((symbol, i) => (i % 2 === 0 ? [{ symbol, quantity: String(40 + (i % 9) * 10) }] : [])),
    portfolioValue: 10_000_000
  }
  const base: RiskLimits = {
    longOnly: true,
    maxNameWeight: d("0.008"),
    maxSectorWeight: d("0.2"),
    maxNetExposure: d("1"),
    restrictedSymbols: RESTRICTED,
    minTradeWeight: d("0.00001"),
    // The rules the fit does not move, all on and loose: the fitted orders must pass them too.
    maxOrderNotional: d("1000000"),
    maxOrderQuantity: d("100000"),
    maxOrdersPerRun: 1000,
    cashSufficiency: true
  }
  /** The book-wide caps, set so that the gross and the turnover each bind with a factor of 0.8. */
  const limits = (() => {
    const pv = d(10_000_000)
    const before = Either.getOrThrow(Fit.fitDecision(inputOf(book), base))
    const exposure = (held: boolean) => Dec.sum(before.weights.filter((w) => w.hold === held).map((w) => Dec.abs(w.fitted)))
    // Restricted names are held where they are: the free names carry the whole scale.
    const withGross = { ...base, maxGrossExposure: Dec.add(exposure(true), Dec.mul(exposure(false), d("0.8"))) }
    const fitted = Either.getOrThrow(Fit.fitDecision(inputOf(book), withGross))
    const held = new Map((book.positions ?? []).map((p) => [p.symbol, Dec.mul(d(p.quantity as string), d(book.prices[p.symbol as string]!))]))
    const turnover = Dec.sum(fitted.weights.map((w) =>
      w.hold ? Dec.ZERO : Dec.abs(Dec.sub(Dec.mul(w.fitted, pv), held.get(w.symbol) ?? Dec.ZERO))
    ))
    return { ...withGross, maxTurnover: Dec.mul(Dec.divideForReport(turnover, pv, 18), d("0.8")) }
  })()

  it("moves by every rule, and the fitted orders pass every limit", () => {
    const result = build(book, limits)
    const rules = new Set(moves(result).map((m) => m.rule))
    expect([...rules].sort()).toEqual(["long_only", "max_gross_exposure", "max_name_weight", "max_sector_weight", "max_turnover", "restricted_symbol"])
    expect(moves(result).filter((m) => m.symbol === undefined && m.sector === undefined).map((m) => [m.rule, m.factor])).toEqual([
      ["max_gross_exposure", "0.8"],
      ["max_turnover", "0.8"]
    ])
    expect(result.orders.length).toBeGreaterThan(250)
    expect(result.fit?.unmet).toEqual([])
    expect(judge(result, limits)).toMatchObject({ passed: true, violations: [] })
  })

  it("moves nothing when the fitted decision is fitted again, and builds the same orders", () => {
    const first = build(book, limits)
    const decided = Either.getOrThrow(Fit.fitDecision(inputOf(book), limits))
    const again = build({ ...book, items: book.items.map((i, k) => ({ ...i, weight: Dec.toString(decided.weights[k]!.fitted) })) }, limits)
    expect(moves(again).filter((m) => m.lots !== true)).toEqual([])
    expect(orders(again)).toEqual(orders(first))
  })

  it("gives the same output for the same input, byte for byte", () => {
    expect(canonicalJson(build(book, limits))).toBe(canonicalJson(build(book, limits)))
  })
})

describe("Fit for a host", () => {
  it("fits a decision alone, before any run: each name's weight before and after, and the moves", () => {
    const fitted = Either.getOrThrow(Fit.fitDecision(
      inputOf({
        items: [{ symbol: "AAA", weight: "0.07" }, { symbol: "BBB", weight: "0.03" }, { symbol: "XYZ", weight: "0.02" }],
        prices: { AAA: 10, BBB: 10, XYZ: 20 },
        positions: [{ symbol: "XYZ", quantity: 100 }]
      }),
      { maxNameWeight: d("0.05"), restrictedSymbols: ["XYZ" as Symbol] }
    ))
    expect(fitted.weights.map((w) => `${w.symbol} ${Dec.toString(w.decided)} → ${Dec.toString(w.fitted)}${w.hold ? " (held)" : ""}`)).toEqual([
      "AAA 0.07 → 0.05",
      "BBB 0.03 → 0.03",
      "XYZ 0.02 → 0.02 (held)"
    ])
    expect(Schema.encodeSync(Schema.Array(FitAdjustment))(fitted.adjustments)).toEqual([{ rule: "max_name_weight", symbol: "AAA", from: "0.07", to: "0.05" }])
  })
})

describe("A run under the policy fit", () => {
  it.effect("executes the fitted orders and keeps the fit in its record, its orders_built event and its replay", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 10), quote("BBB", 10), quote("XYZ", 10)], mock: { cash: 100_000 } })
      const run = yield* world.queueRun([item("AAA", "0.06", { sector: "Tech" }), item("BBB", "0.06", { sector: "Tech" }), item("XYZ", "0.03")], {
        portfolioValue: d(100_000),
        positions: [{ symbol: "XYZ" as Symbol, quantity: d(800) }],
        cash: d(92_000),
        risk: { maxSectorWeight: d("0.1"), maxNameWeight: d("0.07"), restrictedSymbols: ["XYZ" as Symbol] },
        riskPolicy: "fit"
      })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)} ${o.status}`)).toEqual(["AAA BUY 500 FILLED", "BBB BUY 500 FILLED"])
      const fit = report.run.recorded?.fit
      expect(fit?.adjustments.map((a) => `${a.rule} ${a.symbol ?? a.sector} ${Dec.toString(a.from)} → ${Dec.toString(a.to)}`)).toEqual([
        "restricted_symbol XYZ 0.03 → 0.08",
        "max_sector_weight Tech 0.12 → 0.1",
        "max_sector_weight AAA 0.06 → 0.05",
        "max_sector_weight BBB 0.06 → 0.05"
      ])
      expect(report.risk).toMatchObject({ passed: true, policy: "fit", reasons: ["max_name_weight:XYZ"] })
      const built = world.audit.events.find((e) => e.type === "trade_run.orders_built")
      expect(canonicalJson((built?.payload as { fit: unknown }).fit)).toBe(canonicalJson(fit))
      const replay = yield* world.runner.replay(run.id)
      expect(replay).toMatchObject({ matches: true, ordersMatch: true, fitMatches: true })
    }))
})
