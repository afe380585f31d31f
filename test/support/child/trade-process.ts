/**
 * A real process that executes one run (TE_RUN) or drains the queue as a worker (TE_MODE=worker) on a
 * database (TE_DB: a SQLite file or a PostgreSQL URL), with the paper broker's book in the same database.
 * Fault injection: TE_CRASH_AFTER_ORDERS=k makes the process SIGKILL itself right after the broker has
 * accepted its k-th order and before the runner hears back — the worst moment to die;
 * TE_CRASH_AFTER_CHECKS=k right after the k-th answer of status() (fills the venue reported, not yet
 * recorded), TE_CRASH_AFTER_CANCELS=k right after the venue confirmed its k-th cancel. TE_PRICES is the
 * market as JSON `[[symbol, price], …]` (default: none, so the paper broker prices from the snapshot).
 * Prints one JSON line with the outcome; exit code 0 done, 3 blocked, 4 failed, 5 held by another process,
 * 6 still running with working orders, 1 otherwise.
 */
import { Effect, Layer, Schedule } from "effect"
import { DatabaseLive } from "../../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { RunId, Symbol } from "../../../src/domain/Ids.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"
import { TradeRunner } from "../../../src/TradeRunner.js"
import { TradeWorker } from "../../../src/TradeWorker.js"

const env = process.env
const crashAfter = env.TE_CRASH_AFTER_ORDERS === undefined ? undefined : Number(env.TE_CRASH_AFTER_ORDERS)
const crashAfterChecks = env.TE_CRASH_AFTER_CHECKS === undefined ? undefined : Number(env.TE_CRASH_AFTER_CHECKS)
const crashAfterCancels = env.TE_CRASH_AFTER_CANCELS === undefined ? undefined : Number(env.TE_CRASH_AFTER_CANCELS)
let accepted = 0
let checks = 0
let cancels = 0
const die = () => process.kill(process.pid, "SIGKILL")

const market = PriceFeed.layerMemory(
  (JSON.parse(env.TE_PRICES ?? "[]") as Array<[string, string]>).map(([symbol, price]) => ({
    symbol: symbol as Symbol,
    price: Dec.unsafe(price)
  }))
)

/** Hands orders over one at a time so the process can die between any two of them. */
const crashing = Layer.effect(
  ExecutionProvider,
  Effect.map(ExecutionProvider, (inner) =>
    ExecutionProvider.of({
      ...inner,
      status: (ids) =>
        Effect.tap(inner.status(ids), () =>
          Effect.sync(() => {
            checks += 1
            if (crashAfterChecks !== undefined && checks >= crashAfterChecks) die()
          })),
      cancel: (id) =>
        Effect.tap(inner.cancel(id), () =>
          Effect.sync(() => {
            cancels += 1
            if (crashAfterCancels !== undefined && cancels >= crashAfterCancels) die()
          })),
      submit: (orders) =>
        crashAfter === undefined ? inner.submit(orders) : Effect.map(
          Effect.forEach(orders, (order) =>
            Effect.tap(inner.submit([order]), () =>
              Effect.sync(() => {
                accepted += 1
                if (accepted >= crashAfter) process.kill(process.pid, "SIGKILL")
              }))),
          (reports) => reports.flat()
        )
    }))
)

const storage = DatabaseLive(env.TE_DB!)
const broker = crashing.pipe(
  Layer.provide(SqlPaperBook.layer({ cash: 1_000_000_000 })),
  Layer.provide(market),
  Layer.provide(storage)
)
const runner = TradeRunner.layer({
  workerId: env.TE_WORKER_ID ?? `child-${process.pid}`,
  leaseSeconds: Number(env.TE_LEASE_SECONDS ?? 30),
  submitBatchSize: Number(env.TE_BATCH ?? 100),
  followInterval: Number(env.TE_CHECK_MS ?? 2000),
  settleSchedule: Schedule.recurs(0)
}).pipe(Layer.provide(Layer.mergeAll(storage, broker, market)))

const program: Effect.Effect<{ readonly exit: number }, unknown> = env.TE_MODE === "worker"
  ? Effect.gen(function*() {
    const worker = yield* TradeWorker
    const steps = yield* worker.drain
    return { mode: "worker", steps, exit: 0 }
  }).pipe(Effect.provide(TradeWorker.layer().pipe(Layer.provideMerge(runner), Layer.provide(storage))))
  : Effect.gen(function*() {
    const outcome = yield* (yield* TradeRunner).execute(env.TE_RUN as RunId)
    const status = outcome.run.status
    return { mode: "execute", status, orders: outcome.counts.orders, fills: outcome.counts.fills, exit: status === "done" ? 0 : status === "blocked" ? 3 : status === "failed" ? 4 : status === "running" ? 6 : 1 }
  }).pipe(Effect.provide(runner))

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Success") {
    process.stdout.write(`${JSON.stringify(exit.value)}\n`)
    process.exit(exit.value.exit)
  }
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  const tag = (failure as { _tag?: string } | undefined)?._tag ?? "Defect"
  process.stdout.write(`${JSON.stringify({ error: tag, message: String((failure as { message?: unknown } | undefined)?.message ?? exit.cause) })}\n`)
  process.exit(tag === "RunHeld" ? 5 : 1)
})
