/**
 * A host composes the whole loop from Layers, with no I/O, and swaps a part by providing another Layer.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Mock from "../../adapters/mock/MockExecutionProvider.js"
import * as Dec from "../../src/domain/Decimal.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { item, quote } from "../support/world.js"

const program = Effect.gen(function*() {
  const repo = yield* TradeRepository
  const runner = yield* TradeRunner
  const snapshot = yield* repo.createSnapshot({ items: [item("AAA", "0.2"), item("BBB", "0.1")], source: "host" })
  const run = yield* repo.createRun({ snapshotId: snapshot.id, params: { portfolioValue: Dec.unsafe(10000) } })
  const outcome = yield* runner.execute(run.id)
  expect(outcome.counts).toMatchObject({ orders: 2, FILLED: 2, fills: 2 })
  const report = yield* runner.report(run.id)
  const verified = yield* (yield* AuditLog).verify
  return { report, verified, provider: (yield* ExecutionProvider).name }
})

const storage = Layer.mergeAll(TradeRepository.layerMemory, AuditLog.layerMemory)
const prices = PriceFeed.layerMemory([quote("AAA", 50), quote("BBB", 25)])
const compose = <E>(provider: Layer.Layer<ExecutionProvider, E, PriceFeed>) =>
  TradeRunner.layer().pipe(Layer.provideMerge(Layer.mergeAll(storage, provider.pipe(Layer.provideMerge(prices)))))

describe("composing the loop in a host", () => {
  it.effect("runs end to end on the in-memory venue", () =>
    Effect.gen(function*() {
      const { report, verified, provider } = yield* program
      expect(provider).toBe("memory")
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => `${o.symbol} ${Dec.toString(o.filledQuantity)} ${o.status}`)).toEqual(["AAA 40 FILLED", "BBB 40 FILLED"])
      expect(verified.ok).toBe(true)
    }).pipe(Effect.provide(compose(ExecutionProvider.layerMemory({ cash: Dec.unsafe(10000) })))))

  it.effect("swaps the venue for the paper broker by providing one other Layer", () =>
    Effect.gen(function*() {
      const { report, provider } = yield* program
      expect(provider).toBe("paper")
      expect(report.run.status).toBe("done")
      expect(report.fills.map((f) => Dec.toString(f.commission))).toEqual(["1", "1"])
    }).pipe(Effect.provide(compose(Mock.layer({ cash: 10000, commission: { _tag: "IbFixed" } })))))
})
