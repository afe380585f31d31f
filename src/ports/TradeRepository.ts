/**
 * Where snapshots, runs, orders and fills live. The TradeRunner's idempotency rests on this port:
 * - a run is claimed atomically with a lease; a second worker is refused while the lease holds, and may
 *   take the run over once it has expired;
 * - every write to a run's orders and fills is fenced by the lease: a worker that lost it writes nothing;
 * - client order ids are unique per run and execution ids unique across all fills;
 * - status changes are compare-and-set (`from` must be the current status), so two writers cannot both
 *   move the same order.
 * `withTransaction` makes several writes (and audit events) one atomic unit.
 */
import { Context, Effect, Layer } from "effect"
import { digestOf } from "../Digest.js"
import * as Dec from "../domain/Decimal.js"
import type { ClientOrderId, ExecutionId, RunId, SnapshotId } from "../domain/Ids.js"
import { type Fill, type OrderStatus, type TradeOrder, tradeOrder } from "../domain/Order.js"
import type { RiskVerdict } from "../domain/Risk.js"
import type { Lease, OrderCounts, RunMode, RunParams, RunRecord, RunStatus, RunSummary, TradeRun } from "../domain/Run.js"
import type { DecisionSnapshot, SnapshotItem, SnapshotStatus } from "../domain/Snapshot.js"
import { newId } from "../internal/newId.js"
import { nowIso } from "../internal/nowIso.js"
import * as RunState from "../RunState.js"
import { LeaseLost, RepositoryError, RunNotFound, SnapshotNotFound } from "./errors.js"
import { transaction, write } from "./internal/memoryTransaction.js"

/** Orders counted by status. */
export const countOrders = (orders: ReadonlyArray<{ readonly status: OrderStatus }>, fills: number): OrderCounts => {
  const counts = { orders: orders.length, fills, NEW: 0, SUBMITTED: 0, PARTIAL: 0, FILLED: 0, CANCELED: 0, REJECTED: 0 }
  for (const o of orders) counts[o.status] += 1
  return counts
}

const byTimeThenId = (a: Fill, b: Fill) =>
  a.time < b.time ? -1 : a.time > b.time ? 1 : a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0

/** The digest a snapshot is frozen with: sha-256 over its items in canonical form. */
export const snapshotDigest = (items: ReadonlyArray<SnapshotItem>): string => digestOf(items)

export interface NewSnapshot {
  readonly id?: SnapshotId
  readonly items: ReadonlyArray<SnapshotItem>
  /** Default `success`. */
  readonly status?: SnapshotStatus
  /** Default true: the digest is fixed now. */
  readonly freeze?: boolean
  /** Where the items came from (a file path, a research job id). */
  readonly source?: string
}

/** A new run as every repository stores it: queued, paper unless said otherwise, no params by default. */
export const queuedRun = (input: NewRun, id: RunId, now: string): TradeRun => ({
  id,
  snapshotId: input.snapshotId,
  status: "queued",
  mode: input.mode ?? "paper",
  params: input.params ?? {},
  attempts: 0,
  createdAt: now,
  updatedAt: now
})

export interface NewRun {
  readonly id?: RunId
  readonly snapshotId: SnapshotId
  /** Default `paper`. */
  readonly mode?: RunMode
  readonly params?: RunParams
}

/** Who writes: the run and the worker holding its lease. */
export interface LeaseHolder {
  readonly runId: RunId
  readonly owner: string
}

export type Claim =
  | { readonly _tag: "Claimed"; readonly run: TradeRun }
  | { readonly _tag: "Held"; readonly run: TradeRun; readonly lease: Lease }
  | { readonly _tag: "Finished"; readonly run: TradeRun }
  /** The run would start while another run holds the account: one account, one run trading at a time. */
  | { readonly _tag: "AccountBusy"; readonly run: TradeRun; readonly workingRunId: RunId }

/** A run a worker took: a queued one it started, or a running one it resumed (due, or its holder died). */
export interface NextRun {
  readonly run: TradeRun
  readonly started: boolean
  /** Who held a resumed run before (a holder that died), if anyone. */
  readonly previousOwner?: string | undefined
}

export interface ClaimRequest {
  readonly owner: string
  readonly leaseMillis: number
  /** True to start the run (`queued → running`); false to hold it as it is (a dry run, a cancel). */
  readonly start: boolean
  /**
   * Start it only while no other run is `running`: one account, one run trading at a time, so that two runs
   * never size from the same cash or buy one target twice (the runner always asks this).
   */
  readonly exclusive?: boolean
  /** Also a finished run, to settle its orders with the venue (reconcile); its status is not changed. */
  readonly settle?: boolean
}

/** A change to one order; `from` must be its current status. */
export interface OrderUpdate {
  readonly clientOrderId: ClientOrderId
  readonly from: OrderStatus
  readonly to: OrderStatus
  readonly filledQuantity: Dec.Decimal
  readonly avgFillPrice?: Dec.Decimal
  readonly commission: Dec.Decimal
  readonly rejectReason?: string
}

/** The order after an update: its average price and reject reason are the update's (absent clears them). */
export const applyOrderUpdate = (order: TradeOrder, update: OrderUpdate, updatedAt = order.updatedAt): TradeOrder =>
  tradeOrder(order, {
    runId: order.runId,
    status: update.to,
    filledQuantity: update.filledQuantity,
    avgFillPrice: update.avgFillPrice,
    commission: update.commission,
    rejectReason: update.rejectReason,
    createdAt: order.createdAt,
    updatedAt
  })

export interface RunUpdate {
  readonly status?: { readonly from: RunStatus; readonly to: RunStatus }
  readonly risk?: RiskVerdict
  readonly error?: string
  /** When someone asked for the run's working orders to be canceled. */
  readonly cancelRequestedAt?: string
}

/** A run is due for a check when it is running, nobody holds it (or its holder died) and its time has come. */
export const isDue = (run: Pick<TradeRun, "status" | "lease" | "nextCheckAt">, now: string): boolean =>
  run.status === "running" && (run.lease === undefined || run.lease.expiresAt <= now) &&
  (run.nextCheckAt === undefined || run.nextCheckAt <= now || run.lease !== undefined)

export interface RunFilter {
  readonly status?: RunStatus
  readonly limit?: number
}

export class TradeRepository extends Context.Tag("trade-execution/TradeRepository")<TradeRepository, {
  readonly createSnapshot: (input: NewSnapshot) => Effect.Effect<DecisionSnapshot, RepositoryError>
  /** Fixes the digest of a snapshot created unfrozen. Freezing a frozen snapshot changes nothing. */
  readonly freezeSnapshot: (id: SnapshotId) => Effect.Effect<DecisionSnapshot, SnapshotNotFound | RepositoryError>
  readonly getSnapshot: (id: SnapshotId) => Effect.Effect<DecisionSnapshot, SnapshotNotFound | RepositoryError>
  readonly createRun: (input: NewRun) => Effect.Effect<TradeRun, SnapshotNotFound | RepositoryError>
  readonly getRun: (id: RunId) => Effect.Effect<TradeRun, RunNotFound | RepositoryError>
  /** Newest first. */
  readonly listRuns: (filter?: RunFilter) => Effect.Effect<ReadonlyArray<TradeRun>, RepositoryError>
  /** Atomically takes the run's lease (and starts it when asked); refused while another lease holds. */
  readonly claimRun: (id: RunId, request: ClaimRequest) => Effect.Effect<Claim, RunNotFound | RepositoryError>
  /**
   * The next run a worker should take, claimed: first a running run that is due (its holder died, or its
   * working orders are due for a check), oldest first; else the oldest queued run nobody holds, started
   * (with `exclusive`, only while no run is `running`). `undefined` when there is none.
   */
  readonly claimNext: (request: Omit<ClaimRequest, "start" | "settle">) => Effect.Effect<NextRun | undefined, RepositoryError>
  /** The run that holds the account (the one `running`), if any. */
  readonly accountHolder: Effect.Effect<RunId | undefined, RepositoryError>
  /**
   * A run other than `runId` that traded on the account after `since` (an ISO instant), the last started:
   * one with fills that is running or finished at or after it (within the same millisecond, it may have
   * traded after); or a failed run with a fill recorded at or after it (`reconcile` records the late fills
   * of a failed run's working orders, long after the run ended). What a run built at `since` did not see.
   */
  readonly tradedSince: (runId: RunId, since: string) => Effect.Effect<RunId | undefined, RepositoryError>
  readonly renewLease: (holder: LeaseHolder, leaseMillis: number) => Effect.Effect<void, LeaseLost | RepositoryError>
  /**
   * Gives the lease up; a lease already lost is left to its new owner. `nextCheckAt`: when a run that still
   * has working orders is due for its next check (absent: due at once).
   */
  readonly releaseLease: (holder: LeaseHolder, nextCheckAt?: string) => Effect.Effect<void, RepositoryError>
  /** Persists a run's orders (status NEW) with what they were built from, all or nothing. */
  readonly saveOrders: (
    holder: LeaseHolder,
    orders: ReadonlyArray<TradeOrder>,
    recorded: RunRecord
  ) => Effect.Effect<void, LeaseLost | RepositoryError>
  /** In the order they were built (sells first). */
  readonly listOrders: (runId: RunId) => Effect.Effect<ReadonlyArray<TradeOrder>, RepositoryError>
  /** By fill time, then execution id. */
  readonly listFills: (runId: RunId) => Effect.Effect<ReadonlyArray<Fill>, RepositoryError>
  /** Records fills (an execution id already known is skipped) and order changes, all or nothing. */
  readonly updateOrders: (
    holder: LeaseHolder,
    updates: ReadonlyArray<OrderUpdate>,
    fills: ReadonlyArray<Fill>
  ) => Effect.Effect<void, LeaseLost | RepositoryError>
  readonly updateRun: (holder: LeaseHolder, update: RunUpdate) => Effect.Effect<void, LeaseLost | RepositoryError>
  /**
   * Records, without holding the run, that someone asked for a running run's working orders to be canceled:
   * the process that holds it sees the request at its next check. A run that is not running, or was asked
   * already, is left as it is. The run as it is afterwards, and whether this call recorded the request.
   */
  readonly requestCancel: (
    runId: RunId,
    at: string
  ) => Effect.Effect<{ readonly run: RunSummary; readonly recorded: boolean }, RunNotFound | RepositoryError>
  /** When a cancel of the run was asked, if it was: one column, cheap enough for a holder to read every batch. */
  readonly cancelRequestedAt: (runId: RunId) => Effect.Effect<string | undefined, RunNotFound | RepositoryError>
  /** The run without its payloads, and its orders counted by status: what an outcome needs, cheaply. */
  readonly summarize: (
    runId: RunId
  ) => Effect.Effect<{ readonly run: RunSummary; readonly counts: OrderCounts }, RunNotFound | RepositoryError>
  /** Runs `effect` as one transaction: it commits as a whole or not at all. */
  readonly withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RepositoryError, R>
}>() {
  /**
   * An in-memory repository with the same guarantees as the SQL one (atomic claims, fenced writes,
   * compare-and-set, transactions). `store` is exposed so tests can corrupt it on purpose.
   */
  static readonly makeMemory = Effect.gen(function*() {
    const store = {
      snapshots: new Map<SnapshotId, DecisionSnapshot>(),
      runs: new Map<RunId, TradeRun>(),
      orders: new Map<RunId, Map<ClientOrderId, TradeOrder>>(),
      fills: new Map<RunId, Array<Fill>>(),
      /** When a run's last fill was recorded. */
      lastFillAt: new Map<RunId, string>(),
      executionIds: new Set<ExecutionId>()
    }
    const lock = yield* Effect.makeSemaphore(1)
    const atomically = transaction(lock)

    const setRun = (run: TradeRun) =>
      write(() => {
        const before = store.runs.get(run.id)
        store.runs.set(run.id, run)
        return [run, () => (before === undefined ? store.runs.delete(run.id) : store.runs.set(run.id, before))] as const
      })

    const getRun = (id: RunId) =>
      Effect.suspend(() => {
        const run = store.runs.get(id)
        return run === undefined ? Effect.fail(new RunNotFound({ runId: id })) : Effect.succeed(run)
      })

    const getSnapshot = (id: SnapshotId) =>
      Effect.suspend(() => {
        const snapshot = store.snapshots.get(id)
        return snapshot === undefined ? Effect.fail(new SnapshotNotFound({ snapshotId: id })) : Effect.succeed(snapshot)
      })

    /** The run, if `holder` still holds its lease. */
    const fenced = (holder: LeaseHolder) =>
      Effect.suspend(() => {
        const run = store.runs.get(holder.runId)
        return run?.lease?.owner === holder.owner
          ? Effect.succeed(run)
          : Effect.fail(new LeaseLost({ runId: holder.runId, owner: holder.owner }))
      })

    const leaseUntil = (leaseMillis: number) =>
      Effect.map(nowIso, (now) => ({ now, expiresAt: new Date(Date.parse(now) + leaseMillis).toISOString() }))

    const accountHolder = (except?: RunId) => {
      for (const run of store.runs.values()) if (run.status === "running" && run.id !== except) return run.id
      return undefined
    }

    const claimNow = (run: TradeRun, request: ClaimRequest, now: string, expiresAt: string): Claim => {
      if (RunState.isTerminal(run.status) && request.settle !== true) return { _tag: "Finished", run }
      if (run.lease !== undefined && run.lease.owner !== request.owner && run.lease.expiresAt > now) {
        return { _tag: "Held", run, lease: run.lease }
      }
      const starting = request.start && run.status === "queued"
      const working = starting && request.exclusive === true ? accountHolder(run.id) : undefined
      if (working !== undefined) return { _tag: "AccountBusy", run, workingRunId: working }
      return {
        _tag: "Claimed",
        run: {
          ...run,
          status: starting ? "running" : run.status,
          lease: { owner: request.owner, expiresAt },
          // An attempt is a worker taking the run up, not the same worker carrying on with it.
          attempts: request.start && (run.status === "queued" || run.lease?.owner !== request.owner)
            ? run.attempts + 1
            : run.attempts,
          updatedAt: now,
          ...(starting ? { startedAt: now } : {})
        }
      }
    }

    const service = TradeRepository.of({
      createSnapshot: (input) =>
        Effect.gen(function*() {
          const id = input.id ?? (yield* newId("snap")) as SnapshotId
          const now = yield* nowIso
          const freeze = input.freeze ?? true
          const snapshot: DecisionSnapshot = {
            id,
            status: input.status ?? "success",
            digest: freeze ? snapshotDigest(input.items) : "",
            ...(freeze ? { frozenAt: now } : {}),
            ...(input.source === undefined ? {} : { source: input.source }),
            createdAt: now,
            items: input.items
          }
          if (store.snapshots.has(id)) {
            return yield* new RepositoryError({ operation: "createSnapshot", reason: `snapshot ${id} already exists` })
          }
          return yield* write(() => {
            store.snapshots.set(id, snapshot)
            return [snapshot, () => store.snapshots.delete(id)] as const
          })
        }),
      freezeSnapshot: (id) =>
        Effect.gen(function*() {
          const snapshot = yield* getSnapshot(id)
          if (snapshot.frozenAt !== undefined) return snapshot
          const frozen: DecisionSnapshot = { ...snapshot, digest: snapshotDigest(snapshot.items), frozenAt: yield* nowIso }
          return yield* write(() => {
            store.snapshots.set(id, frozen)
            return [frozen, () => store.snapshots.set(id, snapshot)] as const
          })
        }),
      getSnapshot,
      createRun: (input) =>
        Effect.gen(function*() {
          yield* getSnapshot(input.snapshotId)
          const id = input.id ?? (yield* newId("run")) as RunId
          if (store.runs.has(id)) {
            return yield* new RepositoryError({ operation: "createRun", reason: `run ${id} already exists` })
          }
          return yield* setRun(queuedRun(input, id, yield* nowIso))
        }),
      getRun,
      listRuns: (filter) =>
        Effect.sync(() => {
          const runs = [...store.runs.values()]
            .filter((r) => filter?.status === undefined || r.status === filter.status)
            .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
          return filter?.limit === undefined ? runs : runs.slice(0, filter.limit)
        }),
      claimRun: (id, request) =>
        atomically(Effect.gen(function*() {
          const run = yield* getRun(id)
          const { now, expiresAt } = yield* leaseUntil(request.leaseMillis)
          const claim = claimNow(run, request, now, expiresAt)
          if (claim._tag === "Claimed") yield* setRun(claim.run)
          return claim
        })),
      claimNext: (request) =>
        atomically(Effect.gen(function*() {
          const { now, expiresAt } = yield* leaseUntil(request.leaseMillis)
          const oldestFirst = (a: TradeRun, b: TradeRun) =>
            a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1
          const runs = [...store.runs.values()]
          const next = runs.filter((r) => isDue(r, now)).sort(oldestFirst)[0] ??
            (request.exclusive === true && accountHolder() !== undefined
              ? undefined
              : runs.filter((r) => r.status === "queued" && (r.lease === undefined || r.lease.expiresAt <= now)).sort(oldestFirst)[0])
          if (next === undefined) return undefined
          const claim = claimNow(next, { ...request, start: true }, now, expiresAt)
          if (claim._tag !== "Claimed") return undefined
          return {
            run: yield* setRun(claim.run),
            started: next.status === "queued",
            previousOwner: next.lease?.owner
          } satisfies NextRun
        })),
      accountHolder: Effect.sync(() => accountHolder()),
      tradedSince: (runId, since) =>
        Effect.sync(() => {
          const lateFill = (r: { readonly id: RunId; readonly status: RunStatus }) =>
            r.status === "failed" && (store.lastFillAt.get(r.id) ?? "") >= since
          const traded = [...store.runs.values()]
            .filter((r) =>
              r.id !== runId && r.startedAt !== undefined &&
              (((r.finishedAt === undefined || r.finishedAt >= since) && (store.fills.get(r.id)?.length ?? 0) > 0) ||
                lateFill(r))
            )
            .sort((a, b) => (a.startedAt! > b.startedAt! ? -1 : a.startedAt! < b.startedAt! ? 1 : a.id > b.id ? -1 : 1))
          return traded[0]?.id
        }),
      renewLease: (holder, leaseMillis) =>
        atomically(Effect.gen(function*() {
          const run = yield* fenced(holder)
          const { now, expiresAt } = yield* leaseUntil(leaseMillis)
          yield* setRun({ ...run, lease: { owner: holder.owner, expiresAt }, updatedAt: now })
        })),
      releaseLease: (holder, nextCheckAt) =>
        atomically(Effect.gen(function*() {
          const run = store.runs.get(holder.runId)
          if (run?.lease?.owner !== holder.owner) return
          const { lease: _, nextCheckAt: _n, ...rest } = run
          yield* setRun({ ...rest, ...(nextCheckAt === undefined ? {} : { nextCheckAt }), updatedAt: yield* nowIso })
        })),
      saveOrders: (holder, orders, recorded) =>
        atomically(Effect.gen(function*() {
          const run = yield* fenced(holder)
          if (store.orders.has(holder.runId)) {
            return yield* new RepositoryError({ operation: "saveOrders", reason: `run ${holder.runId} already has orders` })
          }
          const byId = new Map<ClientOrderId, TradeOrder>()
          for (const order of orders) {
            if (byId.has(order.clientOrderId)) {
              return yield* new RepositoryError({
                operation: "saveOrders",
                reason: `duplicate client order id ${order.clientOrderId} in run ${holder.runId}`
              })
            }
            byId.set(order.clientOrderId, order)
          }
          yield* write(() => {
            store.orders.set(holder.runId, byId)
            return [undefined, () => store.orders.delete(holder.runId)] as const
          })
          yield* setRun({ ...run, recorded, updatedAt: yield* nowIso })
        })),
      listOrders: (runId) => Effect.sync(() => [...(store.orders.get(runId)?.values() ?? [])]),
      listFills: (runId) => Effect.sync(() => [...(store.fills.get(runId) ?? [])].sort(byTimeThenId)),
      updateOrders: (holder, updates, fills) =>
        atomically(Effect.gen(function*() {
          yield* fenced(holder)
          const orders = store.orders.get(holder.runId) ?? new Map<ClientOrderId, TradeOrder>()
          const now = yield* nowIso
          for (const fill of fills) {
            if (store.executionIds.has(fill.executionId)) continue
            if (!orders.has(fill.clientOrderId)) {
              return yield* new RepositoryError({
                operation: "updateOrders",
                reason: `fill ${fill.executionId} is for ${fill.clientOrderId}, which is not an order of run ${holder.runId}`
              })
            }
            yield* write(() => {
              store.executionIds.add(fill.executionId)
              const list = store.fills.get(holder.runId) ?? []
              store.fills.set(holder.runId, list)
              list.push(fill)
              const lastFillAt = store.lastFillAt.get(holder.runId)
              store.lastFillAt.set(holder.runId, now)
              return [undefined, () => {
                store.executionIds.delete(fill.executionId)
                list.splice(list.indexOf(fill), 1)
                if (lastFillAt === undefined) store.lastFillAt.delete(holder.runId)
                else store.lastFillAt.set(holder.runId, lastFillAt)
              }] as const
            })
          }
          for (const update of updates) {
            const current = orders.get(update.clientOrderId)
            if (current === undefined || current.status !== update.from) {
              return yield* new RepositoryError({
                operation: "updateOrders",
                reason: current === undefined
                  ? `no order ${update.clientOrderId} in run ${holder.runId}`
                  : `order ${update.clientOrderId} is ${current.status}, not ${update.from}`
              })
            }
            const next = applyOrderUpdate(current, update, now)
            yield* write(() => {
              orders.set(update.clientOrderId, next)
              return [undefined, () => orders.set(update.clientOrderId, current)] as const
            })
          }
        })),
      updateRun: (holder, update) =>
        atomically(Effect.gen(function*() {
          const run = yield* fenced(holder)
          if (update.status !== undefined && run.status !== update.status.from) {
            return yield* new RepositoryError({
              operation: "updateRun",
              reason: `run ${run.id} is ${run.status}, not ${update.status.from}`
            })
          }
          const now = yield* nowIso
          const finished = update.status !== undefined && RunState.isTerminal(update.status.to)
          yield* setRun({
            ...run,
            ...(update.status === undefined ? {} : { status: update.status.to }),
            ...(update.risk === undefined ? {} : { risk: update.risk }),
            ...(update.error === undefined ? {} : { error: update.error }),
            ...(update.cancelRequestedAt === undefined ? {} : { cancelRequestedAt: update.cancelRequestedAt }),
            ...(finished ? { finishedAt: now } : {}),
            updatedAt: now
          })
        })),
      requestCancel: (runId, at) =>
        atomically(Effect.gen(function*() {
          const run = yield* getRun(runId)
          const recorded = run.status === "running" && run.cancelRequestedAt === undefined
          const after = recorded ? yield* setRun({ ...run, cancelRequestedAt: at, updatedAt: yield* nowIso }) : run
          const { params: _p, recorded: _r, risk: _k, ...summary } = after
          return { run: summary, recorded }
        })),
      cancelRequestedAt: (runId) => Effect.map(getRun(runId), (run) => run.cancelRequestedAt),
      summarize: (runId) =>
        Effect.map(getRun(runId), (run) => {
          const { params: _p, recorded: _r, risk: _k, ...summary } = run
          return { run: summary, counts: countOrders([...(store.orders.get(runId)?.values() ?? [])], store.fills.get(runId)?.length ?? 0) }
        }),
      withTransaction: atomically
    })
    return { service, store }
  })

  static readonly layerMemory: Layer.Layer<TradeRepository> = Layer.effect(
    TradeRepository,
    Effect.map(TradeRepository.makeMemory, ({ service }) => service)
  )
}
