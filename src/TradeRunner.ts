/**
 * The single flow of DESIGN.md §6: claim → verify the snapshot → build the orders once → risk → submit →
 * finalize, with every step recorded so that re-running a run never duplicates an order or a fill.
 *
 * - A terminal run is returned as it is, with no writes. A run another worker holds is refused (`RunHeld`).
 * - Orders are built once, persisted with what they were built from, and reused by every later execute.
 * - Before a batch goes to the provider its orders are marked `SUBMITTED` (after renewing the lease, which
 *   fences a worker that lost the run). On resume, orders left `SUBMITTED` or `PARTIAL` are settled with
 *   `status()`; only those the provider says it never received are sent again, and providers are
 *   idempotent per client order id besides.
 * - A submit that times out is an unknown outcome, settled through `status()`.
 * - Typed failures (bad input, a changed snapshot, a provider error) fail the run with the error recorded;
 *   a lost lease or an unreachable database leaves it for the next execute to resume.
 */
import { Config, Context, Duration, Effect, Either, Layer, Option, Random, Schedule } from "effect"
import * as Dec from "./domain/Decimal.js"
import { type IllegalTransition, InvalidInput } from "./domain/errors.js"
import type { ClientOrderId, RunId, Symbol } from "./domain/Ids.js"
import type { Position, Quote } from "./domain/Market.js"
import { type Fill, type TradeOrder, tradeOrder } from "./domain/Order.js"
import type { RiskVerdict } from "./domain/Risk.js"
import type { OrderCounts, RunRecord, RunStatus, RunSummary, Skip, TradeRun } from "./domain/Run.js"
import type { DecisionSnapshot } from "./domain/Snapshot.js"
import * as Ledger from "./ExecutionLedger.js"
import { chunks } from "./internal/chunks.js"
import { yieldToHost } from "./internal/yieldToHost.js"
import * as OrderBuilder from "./OrderBuilder.js"
import { AuditLog, type AuditEventInput, nowIso } from "./ports/AuditLog.js"
import {
  ExecutionError,
  ExecutionTimeout,
  LeaseLost,
  PriceFeedError,
  RepositoryError,
  RunHeld,
  RunNotFound,
  SnapshotChanged,
  SnapshotNotFound,
  SnapshotNotReady
} from "./ports/errors.js"
import { ExecutionProvider, type ExecutionReport, type SubmitOrder } from "./ports/ExecutionProvider.js"
import { PriceFeed } from "./ports/PriceFeed.js"
import { applyOrderUpdate, countOrders, type LeaseHolder, snapshotDigest, TradeRepository } from "./ports/TradeRepository.js"
import * as Replay from "./Replay.js"
import * as RiskEngine from "./RiskEngine.js"
import * as RunState from "./RunState.js"

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
  /** Told how a run is getting on (e.g. to draw a progress bar); must not fail. */
  readonly onProgress?: (progress: RunProgress) => Effect.Effect<void>
}

/**
 * Where an execution stands: orders built, then orders handed to the provider so far (a batch's answers are
 * written with the next batch, so the store may be a batch behind what this says was handed over).
 */
export type RunProgress =
  | { readonly runId: RunId; readonly phase: "built"; readonly orders: number }
  | { readonly runId: RunId; readonly phase: "submitting"; readonly done: number; readonly total: number }

/** Everything about a run: itself, its orders, fills, risk verdict and skips. */
export interface RunReport {
  readonly run: TradeRun
  readonly orders: ReadonlyArray<TradeOrder>
  readonly fills: ReadonlyArray<Fill>
  readonly risk?: RiskVerdict
  readonly skipped: ReadonlyArray<Skip>
}

/**
 * How an execute ended: the run (without its payloads) and its orders counted by status. Cheap whatever the
 * size of the run — re-executing a finished run reads a handful of rows; `report` has the details.
 */
export interface RunOutcome {
  readonly run: RunSummary
  readonly counts: OrderCounts
  readonly dryRun: boolean
}


export type ExecuteError = RunNotFound | RunHeld | LeaseLost | RepositoryError

/** The failures that end a run as `failed`, with their message recorded. */
type RunFailure =
  | InvalidInput
  | IllegalTransition
  | SnapshotNotFound
  | SnapshotNotReady
  | SnapshotChanged
  | ExecutionError
  | ExecutionTimeout
  | PriceFeedError

/** The decision snapshot's own prices, a paper broker's fallback. */
type SnapshotPrices = ReadonlyMap<Symbol, Dec.Decimal>

const isRunFailure = (error: RunFailure | LeaseLost | RepositoryError): error is RunFailure =>
  error._tag !== "LeaseLost" && error._tag !== "RepositoryError"


/** Orders by status, for the audit record (its fills are counted by their own events). */
const countByStatus = (orders: ReadonlyArray<TradeOrder>) => {
  const { fills: _, ...counts } = countOrders(orders, 0)
  return counts
}

/**
 * What the end of a run needs of it: its identity, status and risk settings. A large run's params (its
 * positions) and record (its prices) are not carried through the submissions.
 */
interface RunInFlight {
  readonly id: RunId
  readonly snapshotId: TradeRun["snapshotId"]
  readonly status: RunStatus
  readonly params: Pick<TradeRun["params"], "risk" | "riskPolicy">
}

const inFlight = (run: TradeRun): RunInFlight => ({
  id: run.id,
  snapshotId: run.snapshotId,
  status: run.status,
  params: {
    ...(run.params.risk === undefined ? {} : { risk: run.params.risk }),
    ...(run.params.riskPolicy === undefined ? {} : { riskPolicy: run.params.riskPolicy })
  }
})

const runTransition = (
  run: { readonly id: RunId; readonly status: RunStatus },
  to: RunStatus,
  detail: Record<string, unknown> = {}
): AuditEventInput => ({
  type: "trade_run.transition",
  runId: run.id,
  payload: { from: run.status, to, ...detail }
})

export class TradeRunner extends Context.Tag("trade-execution/TradeRunner")<TradeRunner, {
  readonly workerId: string
  /** Executes a run (or, with `dryRun`, builds and risk-checks it without submitting anything). */
  readonly execute: (runId: RunId, options?: { readonly dryRun?: boolean }) => Effect.Effect<RunOutcome, ExecuteError>
  /**
   * Claims the oldest queued run nobody holds and executes it; `undefined` when the queue is empty. Each
   * queued run goes to one caller only, however many workers share the database.
   */
  readonly executeNext: () => Effect.Effect<RunOutcome | undefined, RunNotFound | LeaseLost | RepositoryError>
  /** Rebuilds a run's orders from what it recorded and compares them with the persisted ones. */
  readonly replay: (runId: RunId) => Effect.Effect<Replay.ReplayReport, RunNotFound | SnapshotNotFound | RepositoryError>
  /** What a run looks like now: the run, its orders, fills, risk verdict and skips. */
  readonly report: (runId: RunId) => Effect.Effect<RunReport, RunNotFound | RepositoryError>
}>() {
  static readonly make = (options: TradeRunnerOptions = {}) =>
    Effect.gen(function*() {
      const repo = yield* TradeRepository
      const audit = yield* AuditLog
      const provider = yield* ExecutionProvider
      const feed = yield* PriceFeed
      const workerId = options.workerId ?? `worker-${(yield* Random.nextIntBetween(0, 0x7fffffff)).toString(16)}`
      const leaseMillis = Math.round((options.leaseSeconds ?? 30) * 1000)
      const batchSize = Math.max(1, options.submitBatchSize ?? 500)
      const providerTimeout = Duration.decode(options.providerTimeout ?? Duration.seconds(30))
      const settleSchedule = options.settleSchedule ?? Schedule.intersect(Schedule.recurs(5), Schedule.spaced("200 millis"))
      const progress = options.onProgress ?? (() => Effect.void)

      const timed = <A, E, R>(operation: string, ids: ReadonlyArray<string>, effect: Effect.Effect<A, E, R>) =>
        Effect.timeoutFail(effect, {
          duration: providerTimeout,
          onTimeout: () => new ExecutionTimeout({ provider: provider.name, operation, clientOrderIds: [...ids] })
        })

      const reportOf = (run: TradeRun) =>
        Effect.gen(function*() {
          const [orders, fills] = yield* Effect.all([repo.listOrders(run.id), repo.listFills(run.id)])
          return {
            run,
            orders,
            fills,
            ...(run.risk === undefined ? {} : { risk: run.risk }),
            skipped: run.recorded?.skipped ?? []
          } satisfies RunReport
        })

      const outcomeOf = (runId: RunId, dryRun: boolean) =>
        Effect.map(repo.summarize(runId), ({ run, counts }): RunOutcome => ({ run, counts, dryRun }))

      /** Several writes and their audit events as one unit. */
      const commit = <A, E>(write: Effect.Effect<A, E>, events: ReadonlyArray<AuditEventInput>) =>
        repo.withTransaction(Effect.zipLeft(write, audit.append(events)))

      const loadSnapshot = (run: TradeRun) =>
        Effect.gen(function*() {
          const snapshot = yield* repo.getSnapshot(run.snapshotId)
          if (snapshot.status !== "success" || snapshot.frozenAt === undefined) {
            return yield* new SnapshotNotReady({
              snapshotId: snapshot.id,
              status: snapshot.status,
              frozen: snapshot.frozenAt !== undefined
            })
          }
          const actual = snapshotDigest(snapshot.items)
          if (actual !== snapshot.digest) {
            return yield* new SnapshotChanged({ snapshotId: snapshot.id, frozenDigest: snapshot.digest, actualDigest: actual })
          }
          return snapshot
        })

      /** Reads the market and the account, builds the orders, and persists them with what they came from. */
      const buildOrders = (holder: LeaseHolder, run: TradeRun, snapshot: DecisionSnapshot) =>
        Effect.gen(function*() {
          const { params } = run
          const account = params.portfolioValue === undefined || params.positions === undefined
            ? yield* timed("account", [], provider.account)
            : undefined
          const positions: ReadonlyArray<Position> = params.positions ?? account?.positions ?? []
          const symbols = [...new Set<Symbol>([...snapshot.items.map((i) => i.symbol), ...positions.map((p) => p.symbol)])]
          const quotes = yield* feed.quotes(symbols)
          const itemPrice = new Map(snapshot.items.flatMap((i) => (i.price === undefined ? [] : [[i.symbol, i.price] as const])))
          const portfolioValue = params.portfolioValue ?? (yield* accountValue(account!, positions, quotes, itemPrice))
          // Cash the provider reports goes with the positions it reports; otherwise the builder derives it.
          const cash = params.cash ?? (params.positions === undefined ? account?.cash : undefined)
          // The run's builder settings carry the builder's own names; the rest is data or risk.
          const { positions: _p, securities: _s, risk: _r, riskPolicy: _rp, cash: _c, portfolioValue: _v, ...settings } = params
          const built = yield* OrderBuilder.build({
            ...settings,
            runId: run.id,
            items: snapshot.items,
            prices: [...quotes.values()],
            positions,
            securities: params.securities ?? [],
            portfolioValue,
            ...(cash === undefined ? {} : { cash }),
            sources: {
              items: `snapshot ${snapshot.id}`,
              prices: `price feed`,
              positions: params.positions === undefined ? `${provider.name} account` : `run ${run.id} positions`,
              securities: `run ${run.id} securities`,
              params: `run ${run.id} params`
            }
          })
          yield* yieldToHost
          const now = yield* nowIso
          const fresh = { runId: run.id, status: "NEW", filledQuantity: Dec.ZERO, commission: Dec.ZERO, createdAt: now, updatedAt: now } as const
          const orders: Array<TradeOrder> = built.orders.map((draft) => tradeOrder(draft, fresh))
          const recorded: RunRecord = {
            settings: built.plan.settings,
            prices: [...quotes.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)),
            positions: [...built.plan.positions].map(([symbol, quantity]) => ({ symbol, quantity })),
            securities: [...built.plan.securities.values()],
            skipped: built.skipped,
            builtAt: now
          }
          yield* commit(repo.saveOrders(holder, orders, recorded), [{
            type: "trade_run.orders_built",
            runId: run.id,
            payload: {
              orders: orders.length,
              skipped: built.skipped,
              trimmed: built.trimmed,
              settings: built.plan.settings,
              prices: quotes.size
            }
          }])
          yield* progress({ runId: run.id, phase: "built", orders: orders.length })
          return { run: { ...run, recorded }, orders }
        })

      const evaluateRisk = (run: TradeRun, snapshot: DecisionSnapshot, orders: ReadonlyArray<TradeOrder>) =>
        Effect.gen(function*() {
          const recorded = run.recorded!
          const sectors = new Map<Symbol, string>()
          for (const s of recorded.securities) if (s.sector !== undefined) sectors.set(s.symbol, s.sector)
          for (const i of snapshot.items) if (i.sector !== undefined) sectors.set(i.symbol, i.sector)
          return RiskEngine.evaluate({
            orders,
            limits: run.params.risk ?? {},
            ...(run.params.riskPolicy === undefined ? {} : { policy: run.params.riskPolicy }),
            portfolioValue: recorded.settings.portfolioValue,
            cash: recorded.settings.cash,
            positions: recorded.positions,
            quotes: recorded.prices,
            sectors,
            asOf: Date.parse(yield* nowIso)
          })
        })

      const toSubmit = (order: TradeOrder, snapshotPrices: SnapshotPrices): SubmitOrder => {
        const snapshotPrice = snapshotPrices.get(order.symbol)
        return {
          runId: order.runId,
          clientOrderId: order.clientOrderId,
          symbol: order.symbol,
          side: order.side,
          quantity: order.quantity,
          orderType: order.orderType,
          ...(order.limitPrice === undefined ? {} : { limitPrice: order.limitPrice }),
          referencePrice: order.referencePrice,
          ...(snapshotPrice === undefined ? {} : { snapshotPrice })
        }
      }

      /** Writes what the reports change and keeps the ledger in step. */
      const applyReports = (holder: LeaseHolder, ledger: Ledger.Ledger, reports: ReadonlyArray<ExecutionReport>) =>
        Effect.gen(function*() {
          const changes = yield* Ledger.fromReports(ledger, reports)
          if (Ledger.isEmpty(changes)) return
          yield* commit(repo.updateOrders(holder, changes.updates, changes.fills), changes.events)
          Ledger.commit(ledger, changes)
        })

      /**
       * Reports for orders whose outcome is unknown: asks `status()` until the provider knows them all or the
       * schedule runs out, then sends again only what it still does not know (it never received them).
       */
      const settle = (orders: ReadonlyArray<TradeOrder>, snapshotPrices: SnapshotPrices) =>
        Effect.gen(function*() {
          const ids = orders.map((o) => o.clientOrderId)
          const ask = timed("status", ids, provider.status(ids))
          const known = yield* Effect.retry(
            Effect.filterOrFail(ask, (reports) => reports.length >= ids.length, () => "incomplete" as const),
            settleSchedule
          ).pipe(Effect.catchIf((e) => e === "incomplete", () => ask))
          const seen = new Set(known.map((r) => r.clientOrderId))
          const missing = orders.filter((o) => !seen.has(o.clientOrderId))
          if (missing.length === 0) return known
          const sent = yield* timed(
            "submit",
            missing.map((o) => o.clientOrderId),
            provider.submit(missing.map((o) => toSubmit(o, snapshotPrices)))
          )
          return [...known, ...sent]
        })

      /**
       * Hands a batch to the provider. Its orders are marked `SUBMITTED` first, fenced by the lease, in a
       * transaction that also records what the provider answered for the batch before (`previous`): a run
       * commits once a batch, not twice. Nothing is sent before its mark is written, and a batch whose
       * answer was not written yet (the process stopped) is in `SUBMITTED` and is asked about with
       * `status()` when the run resumes. Answers with the provider's reports, to be written with the next.
       */
      const submitBatch = (
        holder: LeaseHolder,
        ledger: Ledger.Ledger,
        batch: ReadonlyArray<TradeOrder>,
        previous: ReadonlyArray<ExecutionReport>,
        snapshotPrices: SnapshotPrices
      ) =>
        Effect.gen(function*() {
          yield* markSubmitted(holder, ledger, batch, previous)
          const ids = batch.map((o) => o.clientOrderId)
          return yield* timed("submit", ids, provider.submit(batch.map((o) => toSubmit(o, snapshotPrices)))).pipe(
            Effect.catchTag("ExecutionTimeout", () => settle(batch, snapshotPrices))
          )
        })

      /**
       * The previous batch's answers and `NEW → SUBMITTED` for this one, written together and then applied to
       * the ledger. Its own step, so the changes are dropped once written rather than kept through the
       * provider's answer (at 50,000 orders, what outlives a batch is promoted to the old generation).
       */
      const markSubmitted = (
        holder: LeaseHolder,
        ledger: Ledger.Ledger,
        batch: ReadonlyArray<TradeOrder>,
        previous: ReadonlyArray<ExecutionReport>
      ) =>
        Effect.gen(function*() {
          const changes = merge(yield* Ledger.fromReports(ledger, previous), yield* Ledger.submitted(batch))
          yield* commit(repo.updateOrders(holder, changes.updates, changes.fills), changes.events)
          Ledger.commit(ledger, changes)
        })

      const finish = (
        holder: LeaseHolder,
        run: RunInFlight,
        to: RunStatus,
        closing: Ledger.Changes,
        detail: { readonly error?: string; readonly risk?: RiskVerdict; readonly dryRun: boolean },
        orders: ReadonlyArray<TradeOrder>
      ) =>
        Effect.gen(function*() {
          yield* RunState.transition(run.id, run.status, to)
          const finalOrders = applyClosing(orders, closing)
          const events: Array<AuditEventInput> = [
            ...closing.events,
            runTransition(run, to, detail.error === undefined ? {} : { error: detail.error }),
            executeEvent(run, finalOrders, detail)
          ]
          yield* commit(
            Effect.zipRight(
              closing.updates.length === 0 && closing.fills.length === 0
                ? Effect.void
                : repo.updateOrders(holder, closing.updates, closing.fills),
              repo.updateRun(holder, {
                status: { from: run.status, to },
                ...(detail.error === undefined ? {} : { error: detail.error })
              })
            ),
            events
          )
        })

      const executeEvent = (
        run: RunInFlight,
        orders: ReadonlyArray<TradeOrder>,
        detail: { readonly error?: string; readonly risk?: RiskVerdict; readonly dryRun: boolean }
      ): AuditEventInput => ({
        type: "trade_run.execute",
        runId: run.id,
        payload: {
          snapshotId: run.snapshotId,
          dryRun: detail.dryRun,
          provider: provider.name,
          riskParams: { limits: run.params.risk ?? {}, policy: run.params.riskPolicy ?? "block_run" },
          risk: detail.risk === undefined ? null : { passed: detail.risk.passed, reasons: detail.risk.reasons },
          counts: countByStatus(orders),
          error: detail.error ?? null
        }
      })

      /**
       * Everything after the claim up to the first submission: the snapshot verified, the orders built (or
       * found), the risk verdict. Ends the run when it is blocked, and a dry run here. What the submissions
       * need is handed on in a ledger, and nothing else of this phase (the snapshot's items, the orders as
       * built) stays reachable while a large run is being sent.
       */
      const prepare = (holder: LeaseHolder, claimed: TradeRun, dryRun: boolean) =>
        Effect.gen(function*() {
          // A turn for the host between the steps that hold the thread longest on a synchronous driver
          // (at 50,000 names each of them for a few hundred milliseconds or more): what the host did before
          // the claim, reading the snapshot back, building, saving the orders, and each batch.
          yield* yieldToHost
          const snapshot = yield* loadSnapshot(claimed)
          yield* yieldToHost
          let run = claimed
          let orders = yield* repo.listOrders(run.id)
          if (orders.length === 0 || run.recorded === undefined) {
            ;({ run, orders } = yield* buildOrders(holder, run, snapshot))
          }
          yield* yieldToHost

          // Risk is judged before anything is sent; once orders are out, the verdict that let them go stands.
          const alreadySent = orders.some((o) => o.status !== "NEW")
          const verdict = alreadySent && run.risk !== undefined ? run.risk : yield* evaluateRisk(run, snapshot, orders)
          if (verdict !== run.risk) {
            yield* commit(repo.updateRun(holder, { risk: verdict }), [{
              type: "trade_run.risk",
              runId: run.id,
              payload: { dryRun, passed: verdict.passed, policy: verdict.policy, reasons: verdict.reasons, violations: verdict.violations }
            }])
            run = { ...run, risk: verdict }
          }

          if (dryRun) {
            yield* audit.append([executeEvent(run, orders, { risk: verdict, dryRun })])
            return undefined
          }

          const rejectedReason = new Map(verdict.rejected.map((r) => [r.clientOrderId, r.reason]))
          if (!verdict.passed) {
            const reasons = verdict.reasons.join(", ")
            const fresh = orders.filter((o) => o.status === "NEW")
            const rejected = yield* Ledger.close(fresh.filter((o) => rejectedReason.has(o.clientOrderId)), "REJECTED", (o) => rejectedReason.get(o.clientOrderId)!)
            const canceled = yield* Ledger.close(fresh.filter((o) => !rejectedReason.has(o.clientOrderId)), "CANCELED", () => "run_blocked")
            yield* finish(holder, run, "blocked", merge(rejected, canceled), { error: `blocked by risk: ${reasons}`, risk: verdict, dryRun }, orders)
            return undefined
          }

          const ledger = Ledger.make(orders, yield* repo.listFills(run.id))
          const dropped = orders.filter((o) => o.status === "NEW" && rejectedReason.has(o.clientOrderId))
          if (dropped.length > 0) {
            const changes = yield* Ledger.close(dropped, "REJECTED", (o) => rejectedReason.get(o.clientOrderId)!)
            yield* commit(repo.updateOrders(holder, changes.updates, []), changes.events)
            Ledger.commit(ledger, changes)
          }
          const snapshotPrices: SnapshotPrices = new Map(
            snapshot.items.flatMap((i) => (i.price === undefined ? [] : [[i.symbol, i.price] as const]))
          )
          return { run: inFlight(run), verdict, ledger, snapshotPrices }
        })

      /** Sends what is left to send, settling first what an earlier attempt left in flight, then ends the run. */
      const submitAll = (
        holder: LeaseHolder,
        run: RunInFlight,
        verdict: RiskVerdict,
        ledger: Ledger.Ledger,
        snapshotPrices: SnapshotPrices
      ) =>
        Effect.gen(function*() {
          const unsettled = [...ledger.orders.values()].filter((o) => o.status === "SUBMITTED" || o.status === "PARTIAL")
          if (unsettled.length > 0) {
            yield* repo.renewLease(holder, leaseMillis)
            yield* applyReports(holder, ledger, yield* settle(unsettled, snapshotPrices))
          }

          // By id: each batch takes its orders from the ledger as they are then, so the orders as they were
          // before sending are not all kept alive beside their updated selves until the last batch.
          const accepted = new Set<ClientOrderId>(verdict.accepted)
          const pending: Array<ClientOrderId> = []
          for (const o of ledger.orders.values()) if (o.status === "NEW" && accepted.has(o.clientOrderId)) pending.push(o.clientOrderId)
          let sent = 0
          let answered: ReadonlyArray<ExecutionReport> = []
          for (const ids of chunks(pending, batchSize)) {
            // Before a batch, not after one: after the last, its answers go straight into the run's end.
            yield* yieldToHost
            answered = yield* submitBatch(holder, ledger, ids.map((id) => ledger.orders.get(id)!), answered, snapshotPrices)
            sent += ids.length
            yield* progress({ runId: run.id, phase: "submitting", done: sent, total: pending.length })
          }

          // The last batch's answers are written with the run's end.
          const last = yield* Ledger.fromReports(ledger, answered)
          return yield* finish(holder, run, "done", last, { risk: verdict, dryRun: false }, [...ledger.orders.values()])
        })

      /** Everything after the claim, up to the run's end (or, for a dry run, its risk verdict). */
      const proceed = (holder: LeaseHolder, claimed: TradeRun, dryRun: boolean) =>
        Effect.flatMap(prepare(holder, claimed, dryRun), (prepared) =>
          prepared === undefined
            ? Effect.void
            : submitAll(holder, prepared.run, prepared.verdict, prepared.ledger, prepared.snapshotPrices))

      /** Records a typed failure on the run: `failed`, its error, and nothing left waiting to be sent. */
      const failRun = (holder: LeaseHolder, error: RunFailure, dryRun: boolean) =>
        Effect.gen(function*() {
          const run = yield* repo.getRun(holder.runId)
          if (!RunState.canTransition(run.status, "failed")) return
          const orders = yield* repo.listOrders(run.id)
          const unsent = yield* Ledger.close(orders.filter((o) => o.status === "NEW"), "CANCELED", () => "run_failed")
          return yield* finish(holder, run, "failed", unsent, { error: `${error._tag}: ${error.message}`, dryRun }, orders)
        }).pipe(
          // `canTransition` was checked and NEW orders may always be canceled: an illegal transition here is a bug.
          Effect.catchTag("IllegalTransition", Effect.die)
        )

      /** Renews the lease while the run executes; a lease taken over ends the execution. */
      const heartbeat = (holder: LeaseHolder) =>
        repo.renewLease(holder, leaseMillis).pipe(
          Effect.catchTag("RepositoryError", () => Effect.void),
          Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1, Math.floor(leaseMillis / 3))))),
          Effect.zipRight(Effect.never)
        )

      /** The audit events of taking a run up: its start, or its resumption by this worker. */
      const claimEvents = (before: RunSummary, claimed: TradeRun): ReadonlyArray<AuditEventInput> =>
        before.status === "queued" && claimed.status === "running"
          ? [runTransition(before, "running", { worker: workerId, attempt: claimed.attempts })]
          : claimed.status === "running" && before.lease?.owner !== workerId
          ? [{
            type: "trade_run.resume",
            runId: claimed.id,
            payload: { worker: workerId, attempt: claimed.attempts, previousOwner: before.lease?.owner ?? null }
          }]
          : []

      /** Everything after a successful claim: the run under a renewed lease, failures recorded, the lease given back. */
      const carryOut = (claimed: TradeRun, dryRun: boolean) =>
        Effect.gen(function*() {
          const holder: LeaseHolder = { runId: claimed.id, owner: workerId }
          yield* Effect.raceFirst(proceed(holder, claimed, dryRun), heartbeat(holder)).pipe(
            Effect.catchIf(isRunFailure, (error) => failRun(holder, error, dryRun)),
            Effect.ensuring(Effect.ignore(repo.releaseLease(holder))),
            // Stopped (a signal, a host shutting down): the run is resumable, and whoever stopped it is told which.
            Effect.onInterrupt(() => Effect.logWarning("trade run interrupted; execute it again to resume").pipe(Effect.annotateLogs({ runId: claimed.id, dryRun })))
          )
          return yield* outcomeOf(claimed.id, dryRun)
        })

      const execute = Effect.fn("TradeRunner.execute")(function*(runId: RunId, options?: { readonly dryRun?: boolean }) {
        const dryRun = options?.dryRun ?? false
        // The cheap look first: a finished run is answered from a few rows, with no writes.
        const existing = (yield* repo.summarize(runId)).run
        if (RunState.isTerminal(existing.status)) return yield* outcomeOf(runId, dryRun)

        const claim = yield* repo.withTransaction(Effect.gen(function*() {
          const result = yield* repo.claimRun(runId, { owner: workerId, leaseMillis, start: !dryRun })
          if (result._tag === "Claimed") yield* audit.append(claimEvents(existing, result.run))
          return result
        }))
        if (claim._tag === "Held") {
          return yield* new RunHeld({ runId, owner: claim.lease.owner, expiresAt: claim.lease.expiresAt })
        }
        if (claim._tag === "Finished") return yield* outcomeOf(runId, dryRun)
        return yield* carryOut(claim.run, dryRun)
      })

      const executeNext = Effect.fn("TradeRunner.executeNext")(function*() {
        const claimed = yield* repo.withTransaction(Effect.gen(function*() {
          const run = yield* repo.claimNextQueued({ owner: workerId, leaseMillis })
          if (run !== undefined) yield* audit.append(claimEvents({ ...run, status: "queued" }, run))
          return run
        }))
        if (claimed === undefined) return undefined
        return yield* carryOut(claimed, false)
      })

      const report = (runId: RunId) => Effect.flatMap(repo.getRun(runId), reportOf)

      const replay = Effect.fn("TradeRunner.replay")(function*(runId: RunId) {
        const run = yield* repo.getRun(runId)
        const snapshot = yield* repo.getSnapshot(run.snapshotId)
        const [orders, fills, events] = yield* Effect.all([repo.listOrders(runId), repo.listFills(runId), audit.list({ runId })])
        return Replay.compare({ run, snapshot, orders, fills, events })
      })

      return TradeRunner.of({ workerId, execute, executeNext, replay, report })
    })

  static readonly layer = (options: TradeRunnerOptions = {}) => Layer.effect(TradeRunner, TradeRunner.make(options))

  /** Options from the environment: `TRADE_EXEC_LEASE_SECONDS`, `TRADE_EXEC_WORKER_ID`. */
  static readonly layerConfig = (options: Omit<TradeRunnerOptions, "leaseSeconds" | "workerId"> = {}) =>
    Layer.effect(
      TradeRunner,
      Effect.gen(function*() {
        const leaseSeconds = yield* Config.number("TRADE_EXEC_LEASE_SECONDS").pipe(
          Config.validate({ message: "TRADE_EXEC_LEASE_SECONDS must be a positive number of seconds", validation: (n) => n > 0 }),
          Config.withDefault(30)
        )
        const workerId = yield* Config.option(Config.nonEmptyString("TRADE_EXEC_WORKER_ID"))
        return yield* TradeRunner.make({ ...options, leaseSeconds, ...Option.match(workerId, { onNone: () => ({}), onSome: (id) => ({ workerId: id }) }) })
      })
    )
}

/**
 * Cash plus the market value of the positions, each at its feed price, else its snapshot price, else its
 * average cost. A position with none of these cannot be valued, and guessing would size every order wrong.
 */
const accountValue = (
  account: { readonly cash: Dec.Decimal },
  positions: ReadonlyArray<Position>,
  quotes: ReadonlyMap<Symbol, Quote>,
  itemPrice: ReadonlyMap<Symbol, Dec.Decimal>
): Either.Either<Dec.Decimal, InvalidInput> => {
  let value = account.cash
  for (const p of positions) {
    const price = quotes.get(p.symbol)?.price ?? itemPrice.get(p.symbol) ?? p.avgCost
    if (price === undefined) {
      return Either.left(new InvalidInput({
        source: "account",
        field: "portfolioValue",
        value: p.symbol,
        reason: `cannot be derived: no price for the held symbol ${p.symbol}; give the portfolio value explicitly`
      }))
    }
    value = Dec.add(value, Dec.mul(p.quantity, price))
  }
  return Either.right(value)
}

const merge = (a: Ledger.Changes, b: Ledger.Changes): Ledger.Changes => ({
  updates: [...a.updates, ...b.updates],
  fills: [...a.fills, ...b.fills],
  events: [...a.events, ...b.events]
})

const applyClosing = (orders: ReadonlyArray<TradeOrder>, closing: Ledger.Changes): ReadonlyArray<TradeOrder> => {
  if (closing.updates.length === 0) return orders
  const updates = new Map(closing.updates.map((u) => [u.clientOrderId, u]))
  return orders.map((o) => {
    const update = updates.get(o.clientOrderId)
    return update === undefined ? o : applyOrderUpdate(o, update)
  })
}
