/**
 * An in-memory world for flow tests: memory repository and audit log, a movable price feed, the paper
 * broker, and a TradeRunner over them. Handles to every part so tests can look inside.
 */
import { Effect, Layer, Schedule } from "effect"
import * as Mock from "../../adapters/mock/MockExecutionProvider.js"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, Symbol } from "../../src/domain/Ids.js"
import type { Quote } from "../../src/domain/Market.js"
import { type OrderSide, type TradeOrder, tradeOrder } from "../../src/domain/Order.js"
import type { RunParams } from "../../src/domain/Run.js"
import type { SnapshotItem } from "../../src/domain/Snapshot.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner, type TradeRunnerOptions } from "../../src/TradeRunner.js"

export const quote = (symbol: string, price: Dec.DecimalInput, extra: Partial<Omit<Quote, "symbol" | "price">> = {}): Quote => ({
  symbol: symbol as Symbol,
  price: Dec.unsafe(price),
  ...extra
})

export const item = (symbol: string, weight: Dec.DecimalInput, extra: Partial<Omit<SnapshotItem, "symbol" | "weight">> = {}): SnapshotItem => ({
  symbol: symbol as Symbol,
  weight: Dec.unsafe(weight),
  ...extra
})

/**
 * A market order of the run `run_<run>`, from flat to `quantity`, as stored once it ended FILLED: all of it
 * filled unless `filled` says how much.
 */
export const filledOrder = (
  run: string,
  symbol: string,
  side: OrderSide,
  quantity: Dec.DecimalInput,
  reference: Dec.DecimalInput,
  options: { readonly filled?: Dec.DecimalInput; readonly sector?: string | undefined } = {}
): TradeOrder => {
  const at = "2026-11-25T21:00:00.000Z"
  return tradeOrder({
    clientOrderId: ClientOrderId.derive({ runId: run, symbol, side, modelVersion: "m" }),
    symbol: symbol as Symbol,
    side,
    quantity: Dec.unsafe(quantity),
    orderType: "MKT",
    referencePrice: Dec.unsafe(reference),
    currentQuantity: Dec.ZERO,
    targetQuantity: Dec.unsafe(quantity),
    targetWeight: Dec.unsafe("0.01"),
    ...(options.sector === undefined ? {} : { sector: options.sector })
  }, {
    runId: `run_${run}` as RunId,
    status: "FILLED",
    filledQuantity: Dec.unsafe(options.filled ?? quantity),
    commission: Dec.ZERO,
    createdAt: at,
    updatedAt: at
  })
}

export interface WorldOptions {
  readonly quotes?: ReadonlyArray<Quote>
  readonly mock?: Mock.MockConfig
  readonly runner?: TradeRunnerOptions
  /** Wraps the paper broker, e.g. to inject faults. */
  readonly provider?: (inner: ExecutionProvider["Type"]) => ExecutionProvider["Type"]
  /** Wraps the repository the runner is given (the world's own handle stays unwrapped), e.g. to watch it. */
  readonly repository?: (inner: TradeRepository["Type"]) => TradeRepository["Type"]
}

export const makeWorld = (options: WorldOptions = {}) =>
  Effect.gen(function*() {
    const repo = yield* TradeRepository.makeMemory
    const audit = yield* AuditLog.makeMemory
    const feed = yield* PriceFeed.makeMemory(options.quotes ?? [])
    const venue = yield* Mock.make(options.mock ?? {}).pipe(Effect.provideService(PriceFeed, feed.service))
    const provider = options.provider?.(venue.provider) ?? venue.provider
    const services = Layer.mergeAll(
      Layer.succeed(TradeRepository, options.repository?.(repo.service) ?? repo.service),
      Layer.succeed(AuditLog, audit.service),
      Layer.succeed(PriceFeed, feed.service),
      Layer.succeed(ExecutionProvider, provider)
    )
    const runnerWith = (runnerOptions: TradeRunnerOptions = {}) =>
      // Settling asks status() again without waiting: the TestClock would never let a spaced schedule move on.
      TradeRunner.make({ workerId: "test-worker", settleSchedule: Schedule.recurs(3), ...options.runner, ...runnerOptions })
        .pipe(Effect.provide(services))
    const runner = yield* runnerWith()

    /** Freezes a snapshot of `items` and queues a run over it. */
    const queueRun = (items: ReadonlyArray<SnapshotItem>, params: RunParams = {}) =>
      Effect.gen(function*() {
        const snapshot = yield* repo.service.createSnapshot({ items })
        return yield* repo.service.createRun({ snapshotId: snapshot.id, params })
      })

    /** Everything stored, to check that an execute wrote nothing. */
    const dump = Effect.gen(function*() {
      const runs = yield* repo.service.listRuns()
      const rows = yield* Effect.forEach(runs, (r) =>
        Effect.all([repo.service.listOrders(r.id), repo.service.listFills(r.id)]).pipe(
          Effect.map(([orders, fills]) => ({ run: r, orders, fills }))
        ))
      return JSON.stringify({ rows, events: audit.events.length, venue: [...(yield* venue.orders).keys()] })
    })

    /** Executes, then reads the full report (what the tests look at). */
    const execute = (runId: RunId, options?: { readonly dryRun?: boolean }) =>
      Effect.zipRight(runner.execute(runId, options), runner.report(runId))

    return { repo, audit, feed, venue, provider, runner, runnerWith, queueRun, dump, services, execute }
  })
