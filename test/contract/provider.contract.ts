/**
 * The execution provider contract: one suite, run against every provider (the paper broker, LEAN through its
 * file protocol). A provider passes when it keeps the promises of `ExecutionProvider`: idempotent submission per
 * client order id, every fill reported with an execution id of its own, `status` silent about ids it never got.
 *
 * Each provider's test says how to make an order its venue fills in full, fills in part, refuses, or leaves
 * working; the suite never looks inside the venue except through `account`.
 */
import { expect, layer } from "@effect/vitest"
import { Context, Effect, type Layer } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, Symbol } from "../../src/domain/Ids.js"
import type { ExecutionProvider, ExecutionReport, SubmitOrder } from "../../src/ports/ExecutionProvider.js"

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
