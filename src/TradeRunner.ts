/**
 * The single flow, `execute`: claim → verify the snapshot → build the orders once → judge their risk →
 * submit → follow the working orders → finish, each phase a module of `flow/` given an explicit record of
 * what it needs (docs/ARCHITECTURE.md has the whole story). Every step is recorded so that re-running a run
 * never duplicates an order or a fill.
 *
 * - A terminal run is returned as it is, with no writes. A run another worker holds is refused (`RunHeld`);
 *   a queued run does not start while another run trades on the account (`AccountBusy`).
 * - Orders are built once, persisted with what they were built from, and reused by every later execute.
 * - Before a batch goes to the provider its orders are marked `SUBMITTED` (after renewing the lease, which
 *   fences a worker that lost the run). On resume, orders left `SUBMITTED` or `PARTIAL` are settled with
 *   `status()`; only those the provider says it never received are sent again, and providers are
 *   idempotent per client order id besides. A submit that times out is an unknown outcome, settled the same way.
 * - The run ends `done` only once every order is final; until then it stays `running`, checked by each
 *   execute (for as long as its `wait`) and by workers, past its deadline canceling what still works.
 * - Typed failures (bad input, a changed snapshot, a provider error) fail the run with the error recorded;
 *   a lost lease or an unreachable database leaves it for the next execute to resume.
 */
import { Clock, Config, Context, Duration, Effect, Layer, Option, Random, Schedule } from "effect"
import { IllegalArgumentException } from "effect/Cause"
import type { RunId } from "./domain/Ids.js"
import type { Fill, TradeOrder } from "./domain/Order.js"
import type { RiskVerdict } from "./domain/Risk.js"
import type { OrderCounts, RunSummary, Skip, TradeRun } from "./domain/Run.js"
import { MAX_LEASE_SECONDS, MIN_LEASE_SECONDS } from "./domain/Run.js"
import { buildOrders, checkAccountUnchanged, loadSnapshot } from "./flow/build.js"
import { cancelRun } from "./flow/cancel.js"
import { claimNext, claimToExecute, underLease } from "./flow/claim.js"
import type { Flow, RunProgress } from "./flow/Flow.js"
import { inFlight } from "./flow/Flow.js"
import { follow } from "./flow/follow.js"
import { judge } from "./flow/judge.js"
import { reconcile, type ReconcileReport } from "./flow/reconcile.js"
import { submitPending, type Venue } from "./flow/submit.js"
import { yieldToHost } from "./internal/yieldToHost.js"
import { AuditLog } from "./ports/AuditLog.js"
import type { AccountBusy, ExecutionError, ExecutionTimeout, LeaseLost, RepositoryError, RunHeld, RunNotFound, SnapshotNotFound } from "./ports/errors.js"
import { ExecutionProvider } from "./ports/ExecutionProvider.js"
import { PriceFeed } from "./ports/PriceFeed.js"
import { TradeRepository } from "./ports/TradeRepository.js"
import * as Replay from "./Replay.js"
import * as RunState from "./RunState.js"

export type { RunProgress } from "./flow/Flow.js"
export type { PositionBreak, ReconcileReport, RunSettlement } from "./flow/reconcile.js"

export interface TradeRunnerOptions {
  /** Who holds leases; by default `worker-` and random hex, one per layer. */
  readonly workerId?: string
  /** Lease length; a crashed worker's run may be resumed this long after its last renewal. Default 30 s. */
  readonly leaseSeconds?: number
  /** Orders per `submit` call. Default 500. */
  readonly submitBatchSize?: number
  /** How long a provider call may take before its outcome counts as unknown. Default 30 s. */
  readonly providerTimeout?: Duration.DurationInput
  /** How often `status()` is asked again for orders whose outcome is unknown. Default 5 times, 200 ms apart. */
  readonly settleSchedule?: Schedule.Schedule<unknown>
  /** Between two checks of a run's working orders (while an execute waits, and before a worker's next). Default 2 s. */
  readonly followInterval?: Duration.DurationInput
  /** Told how a run is getting on (e.g. to draw a progress bar); must not fail. */
  readonly onProgress?: (progress: RunProgress) => Effect.Effect<void>
}

/** What is wrong with a host's options, if anything. */
const misconfigured = (options: TradeRunnerOptions): string | undefined => {
  const lease = options.leaseSeconds
  if (lease !== undefined && !(lease >= MIN_LEASE_SECONDS && lease <= MAX_LEASE_SECONDS)) {
    return `leaseSeconds must be from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS} (got ${lease})`
  }
  const batch = options.submitBatchSize
  if (batch !== undefined && !(Number.isSafeInteger(batch) && batch >= 1)) {
    return `submitBatchSize must be a whole number of orders, at least 1 (got ${batch})`
  }
  if (options.followInterval !== undefined && !Duration.greaterThan(Duration.decode(options.followInterval), Duration.zero)) {
    return "followInterval must be longer than zero"
  }
  return undefined
}

/** Everything about a run: itself, its orders, fills, risk verdict and skips. */
export interface RunReport {
  readonly run: TradeRun
  readonly orders: ReadonlyArray<TradeOrder>
  readonly fills: ReadonlyArray<Fill>
  readonly risk?: RiskVerdict
  readonly skipped: ReadonlyArray<Skip>
}

/**
 * How an execute ended: the run (without its payloads), its orders counted by status, and how many still
 * work at the venue (the run is then `running`). Cheap whatever the size of the run — re-executing a
 * finished run reads a handful of rows; `report` has the details.
 */
export interface RunOutcome {
  readonly run: RunSummary
  readonly counts: OrderCounts
  readonly working: number
  readonly dryRun: boolean
}

export interface ExecuteOptions {
  /** Build and judge the orders, send nothing; the run stays queued. */
  readonly dryRun?: boolean
  /** How long to follow orders that still work before handing the run back `running`. Default 0. */
  readonly wait?: Duration.DurationInput
}

export type ExecuteError = RunNotFound | RunHeld | AccountBusy | LeaseLost | RepositoryError

export class TradeRunner extends Context.Tag("trade-execution/TradeRunner")<TradeRunner, {
  readonly workerId: string
  /**
   * Executes a run (or, with `dryRun`, builds and risk-checks it without submitting anything), following
   * its working orders for up to `wait`.
   */
  readonly execute: (runId: RunId, options?: ExecuteOptions) => Effect.Effect<RunOutcome, ExecuteError>
  /**
   * Takes the next run a worker should (a running run due for a check or whose worker died, else the oldest
   * queued run, while no run trades on the account) and executes it; `undefined` when there is none. Each
   * run goes to one caller at a time, however many workers share the database.
   */
  readonly executeNext: () => Effect.Effect<RunOutcome | undefined, RunNotFound | LeaseLost | RepositoryError>
  /**
   * Cancels a run: a queued one ends `done` with nothing sent; a running one has its unsent orders canceled
   * and its working orders canceled at the venue (fills kept), and ends once the venue confirms. A finished
   * run is reported unchanged.
   */
  readonly cancel: (runId: RunId) => Effect.Effect<RunOutcome, RunNotFound | RunHeld | LeaseLost | RepositoryError>
  /**
   * Settles every order in flight (of `runId`, or of every run, failed ones included) with the venue, then
   * compares the venue's positions with the book and names every break.
   */
  readonly reconcile: (
    runId?: RunId
  ) => Effect.Effect<ReconcileReport, RunNotFound | LeaseLost | RepositoryError | ExecutionError | ExecutionTimeout>
  /** Rebuilds a run's orders from what it recorded and compares them with the persisted ones. */
  readonly replay: (runId: RunId) => Effect.Effect<Replay.ReplayReport, RunNotFound | SnapshotNotFound | RepositoryError>
  /** What a run looks like now: the run, its orders, fills, risk verdict and skips. */
  readonly report: (runId: RunId) => Effect.Effect<RunReport, RunNotFound | RepositoryError>
}>() {
  static readonly make = (options: TradeRunnerOptions = {}) =>
    Effect.gen(function*() {
      const refused = misconfigured(options)
      // A host's own wiring, not a user's input: a lease of 0 or NaN would let a second worker take a run
      // mid-flight, so it stops the layer at once rather than running on it.
      if (refused !== undefined) return yield* Effect.die(new IllegalArgumentException(`TradeRunner.make: ${refused}`))
      const flow: Flow = {
        repo: yield* TradeRepository,
        audit: yield* AuditLog,
        provider: yield* ExecutionProvider,
        feed: yield* PriceFeed,
        workerId: options.workerId ?? `worker-${(yield* Random.nextIntBetween(0, 0x7fffffff)).toString(16)}`,
        leaseMillis: Math.round((options.leaseSeconds ?? 30) * 1000),
        batchSize: options.submitBatchSize ?? 500,
        providerTimeout: Duration.decode(options.providerTimeout ?? Duration.seconds(30)),
        settleSchedule: options.settleSchedule ?? Schedule.intersect(Schedule.recurs(5), Schedule.spaced("200 millis")),
        followInterval: Duration.decode(options.followInterval ?? Duration.seconds(2)),
        progress: options.onProgress ?? (() => Effect.void)
      }
      const { repo } = flow

      const outcomeOf = (runId: RunId, dryRun: boolean) =>
        Effect.map(repo.summarize(runId), ({ run, counts }): RunOutcome => ({
          run,
          counts,
          working: run.status === "running" ? counts.SUBMITTED + counts.PARTIAL : 0,
          dryRun
        }))

      /**
       * Everything after the claim up to the first submission: the snapshot verified, the orders built (or
       * found), the risk verdict. What the submissions need is handed on, and nothing else of this phase (the
       * snapshot's items, the orders as built) stays reachable while a large run is being sent.
       */
      const buildAndJudge = (holder: Parameters<typeof buildOrders>[1]["holder"], claimed: TradeRun, dryRun: boolean) =>
        Effect.gen(function*() {
          // A turn for the host between the steps that hold the thread longest on a synchronous driver
          // (at 50,000 names each of them for a few hundred milliseconds or more): what the host did before
          // the claim, reading the snapshot back, building, saving the orders, and each batch.
          yield* yieldToHost
          const snapshot = yield* loadSnapshot(flow, claimed)
          yield* yieldToHost
          let run = claimed
          let orders = yield* repo.listOrders(run.id)
          if (orders.length === 0 || run.recorded === undefined) {
            ;({ run, orders } = yield* buildOrders(flow, { holder, run, snapshot }))
          } else if (!dryRun) {
            yield* checkAccountUnchanged(flow, run, orders)
          }
          yield* yieldToHost
          const judged = yield* judge(flow, { holder, run, snapshot, orders, dryRun })
          if (judged._tag === "Ended") return undefined
          const venue: Venue = {
            snapshotPrices: new Map(snapshot.items.flatMap((i) => (i.price === undefined ? [] : [[i.symbol, i.price] as const]))),
            timeInForce: run.params.timeInForce ?? "DAY"
          }
          return { run: inFlight(judged.run), recorded: judged.run.recorded?.prices ?? [], verdict: judged.verdict, ledger: judged.ledger, venue }
        })

      /** A claimed run's execution under its lease: built and judged, sent, followed until final or until `waitUntil`. */
      const executeClaimed = (claimed: TradeRun, dryRun: boolean, waitUntil: number) =>
        underLease(flow, claimed, dryRun, (holder) =>
          Effect.gen(function*() {
            const readyToSend = yield* buildAndJudge(holder, claimed, dryRun)
            if (readyToSend === undefined) return { working: 0 }
            const { run, verdict, ledger, venue } = readyToSend
            return yield* Effect.gen(function*() {
              const sent = yield* submitPending(flow, { holder, run, verdict, ledger, venue })
              const followed = yield* follow(flow, { holder, run: sent.run, verdict, ledger, reports: sent.reports, waitUntil })
              return { working: followed._tag === "Working" ? followed.working : 0 }
            }).pipe(Effect.locally(PriceFeed.RecordedQuotes, readyToSend.recorded))
          }))

      const execute = Effect.fn("TradeRunner.execute")(function*(runId: RunId, options?: ExecuteOptions) {
        const dryRun = options?.dryRun ?? false
        const waitUntil = (yield* Clock.currentTimeMillis) + Duration.toMillis(Duration.decode(options?.wait ?? 0))
        // The cheap look first: a finished run is answered from a few rows, with no writes.
        const before = (yield* repo.summarize(runId)).run
        if (RunState.isTerminal(before.status)) return yield* outcomeOf(runId, dryRun)
        const claimed = yield* claimToExecute(flow, before, dryRun)
        if (claimed !== undefined) yield* executeClaimed(claimed, dryRun, waitUntil)
        return yield* outcomeOf(runId, dryRun)
      })

      const executeNext = Effect.fn("TradeRunner.executeNext")(function*() {
        const claimed = yield* claimNext(flow)
        if (claimed === undefined) return undefined
        yield* executeClaimed(claimed, false, yield* Clock.currentTimeMillis)
        return yield* outcomeOf(claimed.id, false)
      })

      const cancel = Effect.fn("TradeRunner.cancel")(function*(runId: RunId) {
        yield* cancelRun(flow, runId)
        return yield* outcomeOf(runId, false)
      })

      const report = (runId: RunId) =>
        Effect.gen(function*() {
          const run = yield* repo.getRun(runId)
          const [orders, fills] = yield* Effect.all([repo.listOrders(run.id), repo.listFills(run.id)])
          return {
            run,
            orders,
            fills,
            ...(run.risk === undefined ? {} : { risk: run.risk }),
            skipped: run.recorded?.skipped ?? []
          } satisfies RunReport
        })

      const replay = Effect.fn("TradeRunner.replay")(function*(runId: RunId) {
        const run = yield* repo.getRun(runId)
        const snapshot = yield* repo.getSnapshot(run.snapshotId)
        const [orders, fills, events] = yield* Effect.all([repo.listOrders(runId), repo.listFills(runId), flow.audit.list({ runId })])
        return Replay.compare({ run, snapshot, orders, fills, events })
      })

      return TradeRunner.of({
        workerId: flow.workerId,
        execute,
        executeNext,
        cancel,
        reconcile: (runId) => reconcile(flow, runId),
        replay,
        report
      })
    })

  static readonly layer = (options: TradeRunnerOptions = {}) => Layer.effect(TradeRunner, TradeRunner.make(options))

  /**
   * Options from the environment: `TRADE_EXEC_LEASE_SECONDS`, `TRADE_EXEC_WORKER_ID`, and
   * `TRADE_EXEC_CHECK_SECONDS` (between two checks of a run's working orders, default 2).
   */
  static readonly layerConfig = (options: Omit<TradeRunnerOptions, "leaseSeconds" | "workerId" | "followInterval"> = {}) =>
    Layer.effect(
      TradeRunner,
      Effect.gen(function*() {
        const leaseSeconds = yield* Config.number("TRADE_EXEC_LEASE_SECONDS").pipe(
          Config.validate({
            message: `TRADE_EXEC_LEASE_SECONDS must be a number of seconds from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`,
            validation: (n) => n >= MIN_LEASE_SECONDS && n <= MAX_LEASE_SECONDS
          }),
          Config.withDefault(30)
        )
        const workerId = yield* Config.option(Config.nonEmptyString("TRADE_EXEC_WORKER_ID"))
        const checkSeconds = yield* Config.number("TRADE_EXEC_CHECK_SECONDS").pipe(
          Config.validate({
            message: "TRADE_EXEC_CHECK_SECONDS must be a number of seconds greater than 0 and at most 3600",
            validation: (n) => n > 0 && n <= 3600
          }),
          Config.withDefault(2)
        )
        return yield* TradeRunner.make({
          ...options,
          leaseSeconds,
          followInterval: Duration.millis(Math.round(checkSeconds * 1000)),
          ...Option.match(workerId, { onNone: () => ({}), onSome: (id) => ({ workerId: id }) })
        })
      })
    )
}
