import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as Commission from "../../../adapters/mock/Commission.js"
import * as Mock from "../../../adapters/mock/MockExecutionProvider.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { SubmitOrder } from "../../../src/domain/Execution.js"
import type { ClientOrderId, RunId, Symbol } from "../../../src/domain/Ids.js"
import type { Quote } from "../../../src/domain/Market.js"
import type { OrderSide } from "../../../src/domain/Order.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"
import { quote } from "../../support/world.js"

const d = Dec.unsafe

const paper = (config: Mock.MockConfig, quotes: ReadonlyArray<Quote> = [quote("AAA", 100, { volume: d(10000) })]) =>
  Effect.flatMap(PriceFeed.makeMemory(quotes), (feed) => Mock.make(config).pipe(Effect.provideService(PriceFeed, feed.service)))

let seq = 0
const order = (side: OrderSide, quantity: Dec.DecimalInput, extra: Partial<SubmitOrder> = {}): SubmitOrder => ({
  runId: "run-1" as RunId,
  clientOrderId: `AAA-${side[0]}-${++seq}` as ClientOrderId,
  symbol: "AAA" as Symbol,
  side,
  quantity: d(quantity),
  orderType: extra.limitPrice === undefined ? "MKT" : "LMT",
  referencePrice: d(100),
  ...extra
})

const one = (config: Mock.MockConfig, o: SubmitOrder, quotes?: ReadonlyArray<Quote>) =>
  Effect.gen(function*() {
    const venue = yield* paper(config, quotes)
    const [report] = yield* venue.provider.submit([o])
    return report!
  })

const priced = (r: { readonly status: string; readonly fills: ReadonlyArray<{ readonly quantity: Dec.Decimal; readonly price: Dec.Decimal; readonly commission: Dec.Decimal }> }) =>
  [r.status, ...r.fills.map((f) => `${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)} fee ${Dec.toString(f.commission)}`)]

describe("MockExecutionProvider (paper broker)", () => {
  describe("reference price", () => {
    it.effect("fills at the feed's price", () =>
      Effect.map(one({}, order("BUY", 10)), (r) => expect(priced(r)).toEqual(["FILLED", "10 @ 100 fee 0"])))
    it.effect("falls back to the snapshot's price when the feed has none", () =>
      Effect.map(one({}, order("BUY", 10, { snapshotPrice: d("42.5") }), []), (r) => expect(priced(r)).toEqual(["FILLED", "10 @ 42.5 fee 0"])))
    it.effect("falls back to the configured price last", () =>
      Effect.map(one({ fallbackPrice: "7" }, order("BUY", 10), []), (r) => expect(priced(r)).toEqual(["FILLED", "10 @ 7 fee 0"])))
    it.effect("rejects an order with no price at all as missing_price", () =>
      Effect.map(one({}, order("BUY", 10), []), (r) => expect([r.status, r.rejectReason, r.fills]).toEqual(["REJECTED", "missing_price", []])))
  })

  describe("slippage", () => {
    const fixed = { slippage: { _tag: "FixedBps", bps: d(7) } } as const
    const odd = [quote("AAA", "33.333333")]
    it.effect("moves buys up by fixed bps, rounded up to 6 decimals", () =>
      Effect.map(one(fixed, order("BUY", 1), odd), (r) => expect(priced(r)).toEqual(["FILLED", "1 @ 33.356667 fee 0"])))
    it.effect("moves sells down by fixed bps, rounded down to 6 decimals", () =>
      Effect.map(one(fixed, order("SELL", 1), odd), (r) => expect(priced(r)).toEqual(["FILLED", "1 @ 33.309999 fee 0"])))

    const volume = { slippage: { _tag: "VolumeShare", priceImpact: d("0.1"), volumeLimit: d("0.025") } } as const
    it.effect("grows the impact with the square of the volume share", () =>
      // 100 of 10 000 = 1% → 0.1 × 0.01² = 0.001% of 100
      Effect.map(one(volume, order("BUY", 100)), (r) => expect(priced(r)).toEqual(["FILLED", "100 @ 100.001 fee 0"])))
    it.effect("fills up to the participation cap and leaves the rest working", () =>
      // cap 2.5% of 10 000 = 250; share 0.025 → 0.1 × 0.000625 = 0.00625% of 100
      Effect.map(one(volume, order("BUY", 1000)), (r) => expect(priced(r)).toEqual(["PARTIAL", "250 @ 100.00625 fee 0"])))
    it.effect("cancels the rest over the cap when told to", () =>
      Effect.map(one({ ...volume, onParticipationCap: "cancel" }, order("SELL", 1000)), (r) => {
        expect(priced(r)).toEqual(["CANCELED", "250 @ 99.99375 fee 0"])
        expect(r.rejectReason).toBe("participation_cap")
      }))
    it.effect("fills in full with no impact when the feed has no volume", () =>
      Effect.map(one(volume, order("BUY", 1000), [quote("AAA", 100)]), (r) => expect(priced(r)).toEqual(["FILLED", "1000 @ 100 fee 0"])))
  })

  describe("commissions", () => {
    it.effect("charges IB fixed: 0.005 a share, at least 1.00", () =>
      Effect.map(one({ commission: { _tag: "IbFixed" } }, order("BUY", 100)), (r) => expect(priced(r)).toEqual(["FILLED", "100 @ 100 fee 1"])))
    it.effect("charges IB fixed per share above the minimum", () =>
      Effect.map(one({ commission: { _tag: "IbFixed" } }, order("BUY", 1000)), (r) => expect(priced(r)).toEqual(["FILLED", "1000 @ 100 fee 5"])))
    it.effect("caps IB fixed at 1% of the trade value", () =>
      // 10 000 shares at 0.10: 50 by the share, capped at 1% of 1 000 = 10
      Effect.map(one({ commission: { _tag: "IbFixed" } }, order("BUY", 10000), [quote("AAA", "0.1")]), (r) =>
        expect(priced(r)).toEqual(["FILLED", "10000 @ 0.1 fee 10"])))
    it.effect("charges IB tiered: 0.0035 a share, at least 0.35", () =>
      Effect.gen(function*() {
        expect(priced(yield* one({ commission: { _tag: "IbTiered" } }, order("BUY", 10)))).toEqual(["FILLED", "10 @ 100 fee 0.35"])
        expect(priced(yield* one({ commission: { _tag: "IbTiered" } }, order("BUY", 1000)))).toEqual(["FILLED", "1000 @ 100 fee 3.5"])
      }))
    it("applies the minimum per order, not per fill", () => {
      const fees = Commission.forFills({ _tag: "IbFixed" }, [{ quantity: d(50), price: d(50) }, { quantity: d(50), price: d(50) }, { quantity: d(400), price: d(50) }])
      // 100 shares → 0.50 → minimum 1.00, all on the first fill; 500 shares → 2.50 in all
      expect(fees.map(Dec.toString)).toEqual(["1", "0", "1.5"])
    })
    it("charges per share and bps schedules", () => {
      expect(Dec.toString(Commission.forOrder({ _tag: "PerShare", rate: d("0.01") }, d(250), d(5000)))).toBe("2.5")
      expect(Dec.toString(Commission.forOrder({ _tag: "Bps", bps: d(2) }, d(250), d(5000)))).toBe("1")
      expect(Dec.toString(Commission.forOrder({ _tag: "Bps", bps: d(2), minimum: d(5) }, d(250), d(5000)))).toBe("5")
      expect(Dec.toString(Commission.forOrder({ _tag: "Zero" }, d(250), d(5000)))).toBe("0")
    })
  })

  describe("limit orders", () => {
    it.effect("fill at the limit or better, never worse", () =>
      Effect.gen(function*() {
        const slip = { slippage: { _tag: "FixedBps", bps: d(10) } } as const
        expect(priced(yield* one(slip, order("BUY", 1, { limitPrice: d("100.05") })))).toEqual(["FILLED", "1 @ 100.05 fee 0"])
        expect(priced(yield* one(slip, order("BUY", 1, { limitPrice: d("101") })))).toEqual(["FILLED", "1 @ 100.1 fee 0"])
        expect(priced(yield* one(slip, order("SELL", 1, { limitPrice: d("99.95") })))).toEqual(["FILLED", "1 @ 99.95 fee 0"])
      }))
    it.effect("rest when not marketable (SUBMITTED, nothing filled), or are canceled at once with limitOrders: cancel", () =>
      Effect.gen(function*() {
        const resting = yield* one({}, order("BUY", 1, { limitPrice: d(99) }))
        expect([resting.status, resting.rejectReason, resting.fills]).toEqual(["SUBMITTED", undefined, []])
        const canceled = yield* one({ limitOrders: "cancel" }, order("SELL", 1, { limitPrice: d(101) }))
        expect([canceled.status, canceled.rejectReason, canceled.fills]).toEqual(["CANCELED", "limit_not_marketable", []])
      }))
  })

  describe("working orders, judged again at each status()", () => {
    /** A broker over a feed the test moves, as a later prices file would. */
    const market = (config: Mock.MockConfig, quotes: ReadonlyArray<Quote>) =>
      Effect.gen(function*() {
        const feed = yield* PriceFeed.makeMemory(quotes)
        const venue = yield* Mock.make(config).pipe(Effect.provideService(PriceFeed, feed.service))
        const ask = (o: SubmitOrder) => Effect.map(venue.provider.status([o.clientOrderId]), ([r]) => r!)
        return { venue, feed, ask }
      })

    it.effect("fill a resting buy once the price reaches its limit, at the price or the limit, whichever is better", () =>
      Effect.gen(function*() {
        const { ask, feed, venue } = yield* market({ cash: 1000, slippage: { _tag: "FixedBps", bps: d(10) } }, [quote("AAA", 100)])
        const o = order("BUY", 4, { limitPrice: d(95) })
        expect(priced((yield* venue.provider.submit([o]))[0]!)).toEqual(["SUBMITTED"])
        yield* feed.set([quote("AAA", "95.5")])
        expect(priced(yield* ask(o))).toEqual(["SUBMITTED"])
        yield* feed.set([quote("AAA", 94)])
        // 94 moved 10 bps against the buy: 94.094, under the limit
        const filled = yield* ask(o)
        expect(priced(filled)).toEqual(["FILLED", "4 @ 94.094 fee 0"])
        expect(filled.fills.map((f) => f.executionId)).toEqual([`${o.clientOrderId}-F1`])
        // 1000 − 4 × 94.094
        expect(Dec.toString((yield* venue.provider.account).cash)).toBe("623.624")
        // Asked again, it is the same order with the same fill, whatever the market does.
        yield* feed.set([quote("AAA", 90)])
        expect(yield* ask(o)).toEqual(filled)
      }))

    it.effect("never fill past the limit: slippage stops at it", () =>
      Effect.gen(function*() {
        const { ask, feed, venue } = yield* market({ slippage: { _tag: "FixedBps", bps: d(50) } }, [quote("AAA", 100)])
        const buy = order("BUY", 1, { limitPrice: d(95) })
        const sell = order("SELL", 1, { limitPrice: d(105) })
        yield* venue.provider.submit([buy])
        yield* feed.set([quote("AAA", 95)])
        expect(priced(yield* ask(buy))).toEqual(["FILLED", "1 @ 95 fee 0"])
        yield* venue.provider.submit([sell])
        yield* feed.set([quote("AAA", "105.2")])
        // 105.2 less 50 bps would be 104.674: the limit holds
        expect(priced(yield* ask(sell))).toEqual(["FILLED", "1 @ 105 fee 0"])
      }))

    it.effect("give a partly filled order its next fill from a later quote, numbered on, and nothing from the same quote asked again", () =>
      Effect.gen(function*() {
        // cap 2.5% of the quote's volume; no impact, to read the quantities plainly
        const cap = { slippage: { _tag: "VolumeShare", priceImpact: Dec.ZERO, volumeLimit: d("0.025") } } as const
        const { ask, feed, venue } = yield* market(cap, [quote("AAA", 100, { volume: d(4000) })])
        const o = order("BUY", 300)
        const [first] = yield* venue.provider.submit([o])
        expect(priced(first!)).toEqual(["PARTIAL", "100 @ 100 fee 0"])
        expect(yield* ask(o)).toEqual(first)
        expect(yield* ask(o)).toEqual(first)
        yield* feed.set([quote("AAA", 101, { volume: d(4000), time: "2026-01-05T15:00:00Z" })])
        const second = yield* ask(o)
        expect(priced(second)).toEqual(["PARTIAL", "100 @ 100 fee 0", "100 @ 101 fee 0"])
        expect(second.fills[0]).toEqual(first!.fills[0])
        yield* feed.set([quote("AAA", 101, { volume: d(40000), time: "2026-01-05T15:01:00Z" })])
        const third = yield* ask(o)
        expect(priced(third)).toEqual(["FILLED", "100 @ 100 fee 0", "100 @ 101 fee 0", "100 @ 101 fee 0"])
        expect(third.fills.map((f) => f.executionId)).toEqual([1, 2, 3].map((n) => `${o.clientOrderId}-F${n}`))
      }))

    it.effect("name the quote an order last traded on by the JSON of its price, bid, ask, volume and time, as books written before hold it", () =>
      Effect.gen(function*() {
        const traded = (q: Quote) =>
          Effect.gen(function*() {
            const venue = yield* paper({}, [q])
            const o = order("BUY", 10)
            yield* venue.provider.submit([o])
            return (yield* venue.orders).get(o.clientOrderId)!.lastTradedOn
          })
        const full = quote("AAA", "100.50", { bid: d("100.4"), ask: d("100.6"), volume: d(12000), time: "2026-01-05T15:00:00Z" })
        expect(yield* traded(full)).toBe(JSON.stringify(["100.5", "100.4", "100.6", "12000", "2026-01-05T15:00:00Z"]))
        expect(yield* traded(quote("AAA", 100))).toBe(JSON.stringify(["100", null, null, null, null]))
      }))

    it.effect("charge an order's commission minimum once across its fills", () =>
      Effect.gen(function*() {
        const capped = {
          commission: { _tag: "IbFixed" },
          slippage: { _tag: "VolumeShare", priceImpact: Dec.ZERO, volumeLimit: d("0.025") }
        } as const
        const { ask, feed, venue } = yield* market(capped, [quote("AAA", 50, { volume: d(4000) })])
        const o = order("BUY", 300)
        yield* venue.provider.submit([o])
        yield* feed.set([quote("AAA", 50, { volume: d(4001) })])
        yield* ask(o)
        yield* feed.set([quote("AAA", 50, { volume: d(4002) })])
        // 100 shares: 0.50, the order pays the 1.00 minimum; 200: still 1.00; 300: 1.50
        expect(priced(yield* ask(o))).toEqual(["FILLED", "100 @ 50 fee 1", "100 @ 50 fee 0", "100 @ 50 fee 0.5"])
      }))

    it.effect("keep working while the feed has no price for them (a working order is never rejected after the fact)", () =>
      Effect.gen(function*() {
        const { ask, feed, venue } = yield* market({}, [quote("AAA", 100)])
        const o = order("BUY", 1, { limitPrice: d(90) })
        yield* venue.provider.submit([o])
        yield* feed.remove(["AAA" as Symbol])
        expect([(yield* ask(o)).status, (yield* ask(o)).rejectReason]).toEqual(["SUBMITTED", undefined])
      }))

    it.effect("end CANCELED with their fills when canceled, and a later price does not bring them back", () =>
      Effect.gen(function*() {
        const cap = { slippage: { _tag: "VolumeShare", priceImpact: Dec.ZERO, volumeLimit: d("0.5") } } as const
        const { ask, feed, venue } = yield* market(cap, [quote("AAA", 100, { volume: d(10) })])
        const o = order("BUY", 20, { limitPrice: d(100) })
        const [partial] = yield* venue.provider.submit([o])
        const canceled = yield* venue.provider.cancel(o.clientOrderId)
        expect([canceled.status, canceled.rejectReason, canceled.fills]).toEqual(["CANCELED", undefined, partial!.fills])
        yield* feed.set([quote("AAA", 99, { volume: d(1000) })])
        expect(yield* ask(o)).toEqual(canceled)
        expect((yield* venue.provider.account).positions.map((p) => Dec.toString(p.quantity))).toEqual(["5"])
      }))
  })

  describe("slippage that could price a fill at zero or less", () => {
    it.effect("is refused: 10000 bps or more, naming the setting", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(paper({ slippage: { _tag: "FixedBps", bps: d(10000) } }))
        expect(error._tag).toBe("InvalidInput")
        expect(error.message).toContain("slippage.bps")
        expect(error.message).toContain("below 10000")
        const impact = yield* Effect.flip(paper({ slippage: { _tag: "VolumeShare", priceImpact: d(400), volumeLimit: d("0.05") } }))
        expect(impact.message).toContain("priceImpact × volumeLimit²")
      }))
    it.effect("is refused from TRADE_EXEC_PAPER_SLIPPAGE_BPS, naming the variable", () =>
      Effect.gen(function*() {
        const fromEnvironment = (bps: string) =>
          Layer.build(Mock.layerConfig).pipe(
            Effect.provide(PriceFeed.layerMemory([])),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["TRADE_EXEC_PAPER_SLIPPAGE_BPS", bps]]))),
            Effect.scoped
          )
        for (const bps of ["10000", "20000", "-1"]) {
          const error = yield* Effect.flip(fromEnvironment(bps))
          expect(String(error)).toContain("TRADE_EXEC_PAPER_SLIPPAGE_BPS must be a decimal number, at least 0 and below 10000")
        }
        yield* fromEnvironment("9999")
      }))
    it.effect("is allowed just below the bound, and a sell's price is never rounded to zero", () =>
      Effect.gen(function*() {
        const r = yield* one({ slippage: { _tag: "FixedBps", bps: d("9999.99") } }, order("SELL", 1), [quote("AAA", "0.5")])
        // 0.5 × 0.000001 = 0.0000005, rounded down to 6 decimals would be 0
        expect(priced(r)).toEqual(["FILLED", "1 @ 0.000001 fee 0"])
      }))
  })

  it.effect("answers a resubmitted order with its first report, never trading it twice", () =>
    Effect.gen(function*() {
      const venue = yield* paper({ cash: 100000 })
      const o = order("BUY", 10)
      const [first] = yield* venue.provider.submit([o])
      const [second] = yield* venue.provider.submit([o])
      expect(second).toEqual(first)
      expect((yield* venue.provider.account).positions.map((p) => Dec.toString(p.quantity))).toEqual(["10"])
    }))

  it.effect("gives deterministic execution ids: the same order on a fresh broker gets the same ids", () =>
    Effect.gen(function*() {
      const o = order("BUY", 10)
      const a = yield* one({}, o)
      const b = yield* one({}, o)
      expect(a.fills.map((f) => f.executionId)).toEqual([`${o.clientOrderId}-F1`])
      expect(b.fills.map((f) => f.executionId)).toEqual(a.fills.map((f) => f.executionId))
    }))

  it.effect("keeps a paper account that follows its fills and commissions", () =>
    Effect.gen(function*() {
      const venue = yield* paper({ cash: 10000, commission: { _tag: "IbFixed" }, positions: [{ symbol: "AAA" as Symbol, quantity: d(5) }] })
      yield* venue.provider.submit([order("BUY", 20), order("SELL", 10)])
      const account = yield* venue.provider.account
      // 10000 − 20×100 − 1 + 10×100 − 1
      expect(Dec.toString(account.cash)).toBe("8998")
      expect(account.positions.map((p) => `${p.symbol} ${Dec.toString(p.quantity)}`)).toEqual(["AAA 15"])
    }))

  it.effect("reports status for the orders it knows and leaves the others out", () =>
    Effect.gen(function*() {
      const venue = yield* paper({})
      const o = order("BUY", 1)
      yield* venue.provider.submit([o])
      const reports = yield* venue.provider.status([o.clientOrderId, "UNKNOWN-B-1" as ClientOrderId])
      expect(reports.map((r) => [r.clientOrderId, r.status])).toEqual([[o.clientOrderId, "FILLED"]])
    }))

  it.effect("cancels a working order, leaves a filled one, and names an unknown one", () =>
    Effect.gen(function*() {
      const venue = yield* paper({})
      const working = order("BUY", 1, { limitPrice: d(90) })
      const filled = order("BUY", 1)
      yield* venue.provider.submit([working, filled])
      expect((yield* venue.provider.cancel(working.clientOrderId)).status).toBe("CANCELED")
      expect((yield* venue.provider.cancel(filled.clientOrderId)).status).toBe("FILLED")
      const error = yield* Effect.flip(venue.provider.cancel("NOPE-B-1" as ClientOrderId))
      expect(error.message).toContain("unknown order NOPE-B-1")
    }))
})
