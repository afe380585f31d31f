/**
 * The execution provider contract: one suite, run against every provider (the paper broker, LEAN through its
 * file protocol). A provider passes when it keeps the promises of `ExecutionProvider`: idempotent submission per
 * client order id, every fill reported with an execution id of its own, `status` silent about ids it never got.
 *
 * Each provider's test says how to make an order its venue fills in full, fills in part, refuses, or leaves
 * working; the suite never looks inside the venue except through `account`.
 *
 * `workingOrderContract` is for a venue whose market the test can move (the paper broker over a feed, a
 * venue's stand-in): working orders fill later, as `status` finds them, and once only.
 */
import { expect, layer } from "@effect/vitest"
import { Context, Effect, type Layer } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ExecutionReport, SubmitOrder } from "../../src/domain/Execution.js"
import type { ClientOrderId, Symbol } from "../../src/domain/Ids.js"
import type { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"

export type OrderKind = "fills" | "partial" | "rejected" | "resting"

export class ProviderUnderTest extends Context.Tag("test/ProviderUnderTest")<ProviderUnderTest, {
  readonly provider: ExecutionProvider["Type"]
  /**
   * A new order (fresh client order id and symbol) of the given kind: `fills` fills in full, `partial` fills
   * part and leaves the rest working, `rejected` is refused, `resting` is accepted and nothing fills.
   */
  readonly order: (kind: OrderKind, side: "BUY" | "SELL", quantity: Dec.DecimalInput) => Effect.Effect<SubmitOrder>
}>() {}

const filled = (report: ExecutionReport) => Dec.sum(report.fills.map((f) => f.quantity))

const positionOf = (provider: ExecutionProvider["Type"], symbol: Symbol) =>
  Effect.map(provider.account, (a) => a.positions.find((p) => p.symbol === symbol)?.quantity ?? Dec.ZERO)

export const providerContract = <E>(name: string, fixture: Layer.Layer<ProviderUnderTest, E>) =>
  layer(fixture, { excludeTestServices: true, timeout: "60 seconds" })(name, (it) => {
    it.effect("fills an order in full and reports each fill with an execution id of its own", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("fills", "BUY", 10)
        const [report] = yield* provider.submit([o])
        expect(report?.clientOrderId).toBe(o.clientOrderId)
        expect(report?.status).toBe("FILLED")
        expect(Dec.toString(filled(report!))).toBe("10")
        expect(report?.fills.every((f) => f.clientOrderId === o.clientOrderId && f.symbol === o.symbol && f.side === "BUY")).toBe(true)
        expect(new Set(report?.fills.map((f) => f.executionId)).size).toBe(report?.fills.length)
      }))

    it.effect("reports a partial fill as PARTIAL with the part that filled", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("partial", "BUY", 10)
        const [report] = yield* provider.submit([o])
        expect(report?.status).toBe("PARTIAL")
        const quantity = filled(report!)
        expect(Dec.isPositive(quantity) && Dec.lt(quantity, o.quantity)).toBe(true)
      }))

    it.effect("rejects an order it cannot trade, with a reason and no fills", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const [report] = yield* provider.submit([yield* order("rejected", "BUY", 10)])
        expect(report?.status).toBe("REJECTED")
        expect(report?.rejectReason?.length).toBeGreaterThan(0)
        expect(report?.fills).toEqual([])
      }))

    it.effect("answers one report per order of a batch, in the order given", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const batch = [yield* order("rejected", "SELL", 3), yield* order("fills", "SELL", 4), yield* order("partial", "BUY", 6)]
        const reports = yield* provider.submit(batch)
        expect(reports.map((r) => [r.clientOrderId, r.status])).toEqual([
          [batch[0]!.clientOrderId, "REJECTED"],
          [batch[1]!.clientOrderId, "FILLED"],
          [batch[2]!.clientOrderId, "PARTIAL"]
        ])
        expect(reports[1]?.fills.every((f) => f.side === "SELL")).toBe(true)
      }))

    it.effect("answers status for the orders it knows, as asked, and leaves unknown ids out", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const a = yield* order("fills", "BUY", 2)
        const b = yield* order("resting", "BUY", 2)
        yield* provider.submit([a, b])
        const reports = yield* provider.status([b.clientOrderId, "NEVER-B-0000" as ClientOrderId, a.clientOrderId])
        expect(reports.map((r) => [r.clientOrderId, r.status])).toEqual([
          [b.clientOrderId, "SUBMITTED"],
          [a.clientOrderId, "FILLED"]
        ])
        expect(yield* provider.status(["NEVER-B-0001" as ClientOrderId])).toEqual([])
      }))

    it.effect("reports the same fills with the same execution ids each time it is asked", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("fills", "SELL", 5)
        const [submitted] = yield* provider.submit([o])
        const [first] = yield* provider.status([o.clientOrderId])
        const [second] = yield* provider.status([o.clientOrderId])
        expect(first?.fills).toEqual(submitted?.fills)
        expect(second?.fills).toEqual(first?.fills)
      }))

    it.effect("answers a resubmitted order with its report and never trades it twice", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("fills", "BUY", 7)
        const [first] = yield* provider.submit([o])
        const [again] = yield* provider.submit([o])
        const [third] = yield* provider.submit([o, o])
        expect(again).toEqual(first)
        expect(third).toEqual(first)
        expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe("7")
      }))

    it.effect("cancels a working order, and leaves a finished one as it is", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const working = yield* order("resting", "SELL", 3)
        const done = yield* order("fills", "BUY", 3)
        yield* provider.submit([working, done])
        expect((yield* provider.cancel(working.clientOrderId)).status).toBe("CANCELED")
        expect((yield* provider.cancel(done.clientOrderId)).status).toBe("FILLED")
        const [after] = yield* provider.status([working.clientOrderId])
        expect(after?.status).toBe("CANCELED")
        // A canceled order stays canceled: resubmitting it does not bring it back.
        const [resubmitted] = yield* provider.submit([working])
        expect(resubmitted?.status).toBe("CANCELED")
      }))

    it.effect("cancels the rest of a partly filled order and keeps what filled", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("partial", "BUY", 8)
        const [submitted] = yield* provider.submit([o])
        const canceled = yield* provider.cancel(o.clientOrderId)
        expect(canceled.status).toBe("CANCELED")
        expect(canceled.fills).toEqual(submitted?.fills)
      }))

    it.effect("refuses to cancel an order it never received, naming it", () =>
      Effect.gen(function*() {
        const { provider } = yield* ProviderUnderTest
        const error = yield* Effect.flip(provider.cancel("NEVER-S-0002" as ClientOrderId))
        expect(error._tag).toBe("ExecutionError")
        expect(error.message).toContain("unknown order NEVER-S-0002")
      }))
  })

export class MarketUnderTest extends Context.Tag("test/MarketUnderTest")<MarketUnderTest, {
  /** Moves the market so that this resting order (of kind `resting`) can fill in full now. */
  readonly reach: (order: SubmitOrder) => Effect.Effect<void>
  /** A new look at the market in which this partly filled order (of kind `partial`) can fill some more. */
  readonly renew: (order: SubmitOrder) => Effect.Effect<void>
  /**
   * Providers over the same venue, as several processes hold them (each with its own connection where the
   * venue is a database); the same provider repeated where the venue lives in one process.
   */
  readonly callers: ReadonlyArray<ExecutionProvider["Type"]>
}>() {}

const atOrBetter = (order: SubmitOrder, report: ExecutionReport) =>
  report.fills.every((f) => order.side === "BUY" ? Dec.lte(f.price, order.limitPrice!) : Dec.gte(f.price, order.limitPrice!))

export const workingOrderContract = <E>(name: string, fixture: Layer.Layer<ProviderUnderTest | MarketUnderTest, E>) =>
  layer(fixture, { excludeTestServices: true, timeout: "60 seconds" })(name, (it) => {
    it.effect("keeps a resting order working, with nothing filled, while the market does not reach it", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const o = yield* order("resting", "BUY", 5)
        yield* provider.submit([o])
        for (let i = 0; i < 3; i++) {
          const [report] = yield* provider.status([o.clientOrderId])
          expect([report?.status, report?.fills]).toEqual(["SUBMITTED", []])
        }
        expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe("0")
      }))

    it.effect("fills a resting order at its limit or better once the market reaches it, and books the fill", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const { reach } = yield* MarketUnderTest
        for (const side of ["BUY", "SELL"] as const) {
          const o = yield* order("resting", side, 6)
          yield* provider.submit([o])
          yield* reach(o)
          const [report] = yield* provider.status([o.clientOrderId])
          expect(report?.status).toBe("FILLED")
          expect(Dec.toString(filled(report!))).toBe("6")
          expect(atOrBetter(o, report!)).toBe(true)
          expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe(side === "BUY" ? "6" : "-6")
          // Asked again: the same fills, the same execution ids.
          expect((yield* provider.status([o.clientOrderId]))[0]).toEqual(report)
        }
      }))

    it.effect("reports a working order's later fills after its earlier ones, each with an execution id of its own", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const { renew } = yield* MarketUnderTest
        const o = yield* order("partial", "SELL", 10)
        const [first] = yield* provider.submit([o])
        yield* renew(o)
        const [later] = yield* provider.status([o.clientOrderId])
        expect(later!.fills.slice(0, first!.fills.length)).toEqual(first!.fills)
        expect(Dec.gt(filled(later!), filled(first!))).toBe(true)
        expect(new Set(later!.fills.map((f) => f.executionId)).size).toBe(later!.fills.length)
        expect(later?.status).toBe(Dec.eq(filled(later!), o.quantity) ? "FILLED" : "PARTIAL")
        expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe(Dec.toString(Dec.negate(filled(later!))))
      }))

    it.effect("fills an order once when several callers ask about it at the same moment", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const { callers, reach } = yield* MarketUnderTest
        const orders = yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], () => order("resting", "BUY", 3))
        yield* provider.submit(orders)
        yield* Effect.forEach(orders, reach)
        const ids = orders.map((o) => o.clientOrderId)
        const answers = yield* Effect.all(callers.map((caller) => caller.status(ids)), { concurrency: "unbounded" })
        const [final] = [yield* provider.status(ids)]
        for (const reports of answers) expect(reports).toEqual(final)
        for (const report of final!) {
          expect(report.status).toBe("FILLED")
          expect(Dec.toString(filled(report))).toBe("3")
        }
        for (const o of orders) expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe("3")
      }))

    it.effect("cancels a resting order, which a later market does not bring back", () =>
      Effect.gen(function*() {
        const { order, provider } = yield* ProviderUnderTest
        const { reach } = yield* MarketUnderTest
        const o = yield* order("resting", "SELL", 4)
        yield* provider.submit([o])
        const canceled = yield* provider.cancel(o.clientOrderId)
        expect([canceled.status, canceled.fills]).toEqual(["CANCELED", []])
        yield* reach(o)
        expect((yield* provider.status([o.clientOrderId]))[0]).toEqual(canceled)
        expect(Dec.toString(yield* positionOf(provider, o.symbol))).toBe("0")
      }))
  })
