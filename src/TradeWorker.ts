/**
 * A worker: takes runs one at a time through `TradeRunner.executeNext` and executes them, until stopped.
 * What it takes, in this order: a running run whose worker died (its lease expired), a running run whose
 * working orders are due for a check, else the oldest queued run (while no other run trades on the account).
 * The repository hands each run to one worker at a time (`FOR UPDATE SKIP LOCKED` in PostgreSQL, BEGIN
 * IMMEDIATE in SQLite), so several workers on one database never hold one run at once.
 */
import { Context, Duration, Effect, Layer } from "effect"
import type { RunId } from "./domain/Ids.js"
import type { RepositoryError } from "./ports/errors.js"
import { TradeRunner } from "./TradeRunner.js"

export interface TradeWorkerOptions {
  /** How long to wait before looking again when the queue is empty. Default 1 s. */
  readonly pollInterval?: Duration.DurationInput
}

export interface WorkerStep {
  readonly runId: RunId
  readonly status: string
}

export class TradeWorker extends Context.Tag("trade-execution/TradeWorker")<TradeWorker, {
  /** Takes and executes (or checks) the next run; `undefined` when none is queued, orphaned or due. */
  readonly step: Effect.Effect<WorkerStep | undefined, RepositoryError>
  /**
   * Takes runs until none is queued, orphaned or due now; returns what it did. A run whose orders still work
   * is left `running` with its next check due later (a worker that keeps running takes it then).
   */
  readonly drain: Effect.Effect<ReadonlyArray<WorkerStep>, RepositoryError>
  /** Takes runs as they come and as their checks fall due, until interrupted. */
  readonly run: Effect.Effect<never, RepositoryError>
}>() {
  static readonly make = (options: TradeWorkerOptions = {}) =>
    Effect.gen(function*() {
      const runner = yield* TradeRunner
      const pollInterval = Duration.decode(options.pollInterval ?? Duration.seconds(1))

      const step = runner.executeNext().pipe(
        Effect.map((report) => (report === undefined ? undefined : { runId: report.run.id, status: report.run.status })),
        // A run taken over meanwhile is its new owner's to finish: the worker goes on.
        Effect.catchTags({
          LeaseLost: (e) => Effect.succeed<WorkerStep>({ runId: e.runId as RunId, status: "lease_lost" }),
          RunNotFound: (e) => Effect.succeed<WorkerStep>({ runId: e.runId as RunId, status: "missing" })
        }),
        Effect.tap((s) =>
          s === undefined ? Effect.void : Effect.logInfo("trade run executed").pipe(Effect.annotateLogs({ runId: s.runId, status: s.status }))
        ),
        Effect.withSpan("TradeWorker.step")
      )

      const drain = Effect.gen(function*() {
        const done: Array<WorkerStep> = []
        for (;;) {
          const next = yield* step
          if (next === undefined) return done
          done.push(next)
        }
      })

      const run = Effect.gen(function*() {
        // A service's "ready": whoever supervises the worker can tell it is up before the first run comes.
        yield* Effect.logInfo("trade worker waiting for queued runs")
        for (;;) {
          const next = yield* step
          if (next === undefined) yield* Effect.sleep(pollInterval)
        }
      })

      return TradeWorker.of({ step, drain, run })
    })

  static readonly layer = (options: TradeWorkerOptions = {}) => Layer.effect(TradeWorker, TradeWorker.make(options))
}
