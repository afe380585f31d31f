/**
 * `TradeRepository` on `@effect/sql`: one code path for SQLite and PostgreSQL, with dialect branches only
 * where the two must differ (a cast, `FOR UPDATE SKIP LOCKED`).
 *
 * The constraints do the guarding: `(run_id, client_order_id)` is the orders' primary key, execution ids
 * are the fills' primary key, fills reference their order, orders their run, runs their snapshot. Every
 * write to a run starts by fencing its lease (`UPDATE … WHERE lease_owner = ?`), which in the same stroke
 * takes the write lock (SQLite) or the run's row lock (PostgreSQL), so a worker that lost the lease writes
 * nothing and two writers of one run queue up instead of interleaving.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, RunId, SnapshotId } from "../../src/domain/Ids.js"
import type { SnapshotItem } from "../../src/domain/Snapshot.js"
import type { Fill, OrderStatus, TradeOrder } from "../../src/domain/Order.js"
import { newId } from "../../src/internal/newId.js"
import { nowIso } from "../../src/internal/nowIso.js"
import { yieldToHost } from "../../src/internal/yieldToHost.js"
import { LeaseLost, RepositoryError, RunNotFound, SnapshotNotFound } from "../../src/ports/errors.js"
import {
  type Claim,
  type ClaimRequest,
  countOrders,
  type LeaseHolder,
  type NextRun,
  type OrderUpdate,
  queuedRun,
  snapshotDigest,
  TradeRepository
} from "../../src/ports/TradeRepository.js"
import * as RunState from "../../src/RunState.js"
import * as Bulk from "./bulk.js"
import * as Rows from "./rows.js"
import { chunks, isPostgres, refail, transactionOf } from "./support.js"

/** Snapshot items read per statement. */
const ITEM_PAGE = 5000
/** Orders or fills read per statement. */
const LIST_PAGE = 5000

const plus = (iso: string, millis: number) => new Date(Date.parse(iso) + millis).toISOString()

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const pg = isPostgres(sql)
  const transaction = transactionOf(sql)
  const bulk = Bulk.make(sql)
  const itemColumns = sql.literal(Rows.ITEM_READ_COLUMNS.join(", "))
  const orderColumns = sql.literal(Rows.ORDER_READ_COLUMNS.join(", "))
  const fillColumns = sql.literal(Rows.FILL_READ_COLUMNS.join(", "))

  /** One transaction; any SqlError inside it (or of the commit) becomes a RepositoryError naming the operation. */
  const atomically = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) => refail(operation)(transaction(effect))

  const query = <A>(operation: string, effect: Effect.Effect<A, SqlError>) => refail(operation)(effect)

  /** A run with its documents. */
  const selectRuns = sql`SELECT r.*, d.params, d.recorded, d.risk FROM trade_runs r
    JOIN trade_run_documents d ON d.run_id = r.id`

  /** A run without its documents: what a summary needs. */
  const runSummaryRow = (id: string) =>
    Effect.map(
      sql<Rows.RunRow>`SELECT id, snapshot_id, status, mode, error, attempts, lease_owner, lease_expires_at,
        next_check_at, cancel_requested_at, created_at, updated_at, started_at, finished_at FROM trade_runs WHERE id = ${id}`,
      (rows) => rows[0]
    )

  const runRow = (id: string) =>
    Effect.map(sql<Rows.RunRow>`${selectRuns} WHERE r.id = ${id}`, (rows) => rows[0])

  const getRun = (id: RunId) =>
    Effect.gen(function*() {
      const row = yield* query("getRun", runRow(id))
      if (row === undefined) return yield* new RunNotFound({ runId: id })
      return yield* Rows.runFromRow(row)
    })

  const getSnapshot = (id: SnapshotId) =>
    Effect.gen(function*() {
      const [row] = yield* query("getSnapshot", sql<Rows.SnapshotRow>`SELECT * FROM decision_snapshots WHERE id = ${id}`)
      if (row === undefined) return yield* new SnapshotNotFound({ snapshotId: id })
      // A page at a time: a page's rows are read into items and dropped before the next, where 50,000
      // rows read at once lived long enough to be promoted to the old generation.
      const items: Array<SnapshotItem> = []
      for (let after = -1;;) {
        const page = yield* query(
          "getSnapshot",
          sql`SELECT ${itemColumns} FROM snapshot_items
            WHERE snapshot_id = ${id} AND position > ${after} ORDER BY position LIMIT ${ITEM_PAGE}`.values
        )
        for (const values of page) items.push(Rows.itemFromValues(values))
        if (page.length < ITEM_PAGE) break
        after = Rows.itemPosition(page.at(-1)!)
      }
      return Rows.snapshotFromRow(row, items)
    })

  /**
   * Proves the lease is still ours, and keeps it so until the transaction ends: SQLite's transactions hold
   * the write lock from their first statement (BEGIN IMMEDIATE), PostgreSQL locks the run's row. A read,
   * not a write, so the run's row (with its JSON) is not rewritten on every batch.
   */
  const fence = (holder: LeaseHolder) =>
    Effect.gen(function*() {
      const lock = sql.literal(pg ? "FOR UPDATE" : "")
      const rows = yield* sql`SELECT id FROM trade_runs WHERE id = ${holder.runId} AND lease_owner = ${holder.owner} ${lock}`
      if (rows.length === 0) return yield* new LeaseLost({ runId: holder.runId, owner: holder.owner })
    })

  /**
   * PostgreSQL: `effect` with the planner held to nested loops over an index, then its settings put back.
   * Left to itself it hashes all of a run's orders to update a batch of them (its estimate of a join with
   * an array is poor, and a table just filled has no statistics): at 50,000 orders that made the updates
   * quadratic, 57 µs a row against 16 µs as key lookups (measured). The settings are the transaction's
   * (`set_config(…, true)`), and a failure rolls them back with the rest.
   */
  const asKeyLookups = <A, E>(effect: Effect.Effect<A, E>) =>
    !pg ? effect : Effect.gen(function*() {
      const [before] = yield* sql<{ h: string; m: string; b: string }>`SELECT current_setting('enable_hashjoin') AS h,
        current_setting('enable_mergejoin') AS m, current_setting('enable_bitmapscan') AS b`
      yield* sql`SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
        set_config('enable_bitmapscan', 'off', true)`
      const result = yield* effect
      yield* sql`SELECT set_config('enable_hashjoin', ${before!.h}, true), set_config('enable_mergejoin', ${before!.m}, true),
        set_config('enable_bitmapscan', ${before!.b}, true)`
      return result
    })

  const insertOrders = (orders: ReadonlyArray<TradeOrder>) =>
    bulk.insert("trade_orders", Rows.ORDER_COLUMNS, orders, Rows.orderValues)

  /**
   * PostgreSQL: claims that may start a run take one transaction-scoped lock first, so two of them never both
   * find the account free. SQLite's transactions are serialized already (BEGIN IMMEDIATE).
   */
  const accountLock = pg ? sql`SELECT pg_advisory_xact_lock(7240317001)` : Effect.void

  /** The running run other than `except`, if any. */
  const runningOtherThan = (except: string) =>
    Effect.map(
      sql<{ id: RunId }>`SELECT id FROM trade_runs WHERE status = 'running' AND id <> ${except} ORDER BY started_at, id LIMIT 1`,
      (rows) => rows[0]?.id
    )

  const claimRun = (id: RunId, request: ClaimRequest) =>
    atomically("claimRun", Effect.gen(function*() {
      const now = yield* nowIso
      const expiresAt = plus(now, request.leaseMillis)
      if (request.start && request.exclusive === true) {
        yield* accountLock
        const [current] = yield* sql<{ status: string }>`SELECT status FROM trade_runs WHERE id = ${id}`
        const working = current?.status === "queued" ? yield* runningOtherThan(id) : undefined
        if (working !== undefined) {
          return { _tag: "AccountBusy", run: yield* getRun(id), workingRunId: working } satisfies Claim
        }
      }
      const start = request.start
        ? sql`status = 'running',
            started_at = CASE WHEN status = 'queued' THEN ${now} ELSE started_at END,
            attempts = attempts + CASE WHEN status = 'queued' OR lease_owner IS NULL OR lease_owner <> ${request.owner}
              THEN 1 ELSE 0 END,`
        : sql``
      const statuses = request.settle === true ? sql`` : sql`AND status IN ('queued', 'running')`
      const claimed = yield* sql`UPDATE trade_runs SET ${start}
          lease_owner = ${request.owner}, lease_expires_at = ${expiresAt}, next_check_at = NULL, updated_at = ${now}
        WHERE id = ${id} ${statuses}
          AND (lease_owner IS NULL OR lease_owner = ${request.owner} OR lease_expires_at <= ${now})
        RETURNING id`
      const run = yield* getRun(id)
      if (claimed.length > 0) return { _tag: "Claimed", run } satisfies Claim
      if (RunState.isTerminal(run.status) && request.settle !== true) return { _tag: "Finished", run } satisfies Claim
      return { _tag: "Held", run, lease: run.lease! } satisfies Claim
    }))

  const claimNext = (request: Omit<ClaimRequest, "start" | "settle">) =>
    atomically("claimNext", Effect.gen(function*() {
      const now = yield* nowIso
      const expiresAt = plus(now, request.leaseMillis)
      // PostgreSQL: workers racing for runs each skip the rows another has locked.
      const lock = sql.literal(pg ? "FOR UPDATE SKIP LOCKED" : "")
      // A running run whose holder died, or that nobody holds and whose next check has come.
      const due = sql`status = 'running' AND (lease_expires_at <= ${now}
        OR (lease_owner IS NULL AND (next_check_at IS NULL OR next_check_at <= ${now})))`
      const [candidate] = yield* sql<{ id: RunId; lease_owner: string | null }>`SELECT id, lease_owner FROM trade_runs
        WHERE ${due} ORDER BY started_at, id LIMIT 1 ${lock}`
      const [resumed] = candidate === undefined ? [] : yield* sql<{ id: RunId }>`UPDATE trade_runs SET
          attempts = attempts + 1, lease_owner = ${request.owner}, lease_expires_at = ${expiresAt},
          next_check_at = NULL, updated_at = ${now}
        WHERE id = ${candidate.id} AND ${due}
        RETURNING id`
      if (resumed !== undefined) {
        const run = yield* Effect.catchTag(getRun(resumed.id), "RunNotFound", Effect.die)
        return { run, started: false, previousOwner: candidate!.lease_owner ?? undefined } satisfies NextRun
      }
      if (request.exclusive === true) {
        yield* accountLock
        const [working] = yield* sql`SELECT id FROM trade_runs WHERE status = 'running' LIMIT 1`
        if (working !== undefined) return undefined
      }
      const claimable = sql`status = 'queued' AND (lease_owner IS NULL OR lease_expires_at <= ${now})`
      const [row] = yield* sql<{ id: RunId }>`UPDATE trade_runs SET status = 'running', started_at = ${now},
          attempts = attempts + 1, lease_owner = ${request.owner},
          lease_expires_at = ${expiresAt}, updated_at = ${now}
        WHERE id = (SELECT id FROM trade_runs WHERE ${claimable} ORDER BY created_at, id LIMIT 1 ${lock})
          AND ${claimable}
        RETURNING id`
      if (row === undefined) return undefined
      return { run: yield* Effect.catchTag(getRun(row.id), "RunNotFound", Effect.die), started: true } satisfies NextRun
    }))

  const service = TradeRepository.of({
    createSnapshot: (input) =>
      atomically("createSnapshot", Effect.gen(function*() {
        const id = input.id ?? (yield* newId("snap")) as SnapshotId
        const now = yield* nowIso
        const freeze = input.freeze ?? true
        const [existing] = yield* sql`SELECT id FROM decision_snapshots WHERE id = ${id}`
        if (existing !== undefined) {
          return yield* new RepositoryError({ operation: "createSnapshot", reason: `snapshot ${id} already exists` })
        }
        const row: Rows.SnapshotRow = {
          id,
          status: input.status ?? "success",
          digest: freeze ? snapshotDigest(input.items) : "",
          frozen_at: freeze ? now : null,
          source: input.source ?? null,
          created_at: now
        }
        yield* sql`INSERT INTO decision_snapshots ${sql.insert(row)}`
        yield* bulk.insert("snapshot_items", Rows.ITEM_COLUMNS, input.items, (out, item, i) => Rows.itemValues(out, id, i, item))
        return Rows.snapshotFromRow(row, input.items)
      })),

    freezeSnapshot: (id) =>
      atomically("freezeSnapshot", Effect.gen(function*() {
        const snapshot = yield* getSnapshot(id)
        if (snapshot.frozenAt !== undefined) return snapshot
        const frozenAt = yield* nowIso
        const digest = snapshotDigest(snapshot.items)
        yield* sql`UPDATE decision_snapshots SET digest = ${digest}, frozen_at = ${frozenAt}
          WHERE id = ${id} AND frozen_at IS NULL`
        return { ...snapshot, digest, frozenAt }
      })),

    getSnapshot,

    createRun: (input) =>
      atomically("createRun", Effect.gen(function*() {
        const [snapshot] = yield* sql`SELECT id FROM decision_snapshots WHERE id = ${input.snapshotId}`
        if (snapshot === undefined) return yield* new SnapshotNotFound({ snapshotId: input.snapshotId })
        const id = input.id ?? (yield* newId("run")) as RunId
        const [existing] = yield* sql`SELECT id FROM trade_runs WHERE id = ${id}`
        if (existing !== undefined) {
          return yield* new RepositoryError({ operation: "createRun", reason: `run ${id} already exists` })
        }
        const run = queuedRun(input, id, yield* nowIso)
        yield* sql`INSERT INTO trade_runs ${
          sql.insert({
            id: run.id,
            snapshot_id: run.snapshotId,
            status: run.status,
            mode: run.mode,
            attempts: run.attempts,
            created_at: run.createdAt,
            updated_at: run.updatedAt
          })
        }`
        yield* sql`INSERT INTO trade_run_documents ${sql.insert({ run_id: run.id, params: Rows.toJson(run.params) })}`
        return run
      })),

    getRun,

    listRuns: (filter) =>
      Effect.gen(function*() {
        const where = filter?.status === undefined ? sql`` : sql`WHERE r.status = ${filter.status}`
        const limit = filter?.limit === undefined ? sql`` : sql`LIMIT ${filter.limit}`
        const rows = yield* query(
          "listRuns",
          sql<Rows.RunRow>`${selectRuns} ${where} ORDER BY r.created_at DESC, r.id DESC ${limit}`
        )
        return yield* Effect.forEach(rows, Rows.runFromRow)
      }),

    claimRun,
    claimNext,
    accountHolder: query("accountHolder", runningOtherThan("")),
    tradedSince: (runId, since) =>
      query(
        "tradedSince",
        Effect.map(
          sql<{ id: RunId }>`SELECT r.id FROM trade_runs r WHERE r.id <> ${runId} AND r.started_at IS NOT NULL
            AND (
              ((r.finished_at IS NULL OR r.finished_at >= ${since})
                AND EXISTS (SELECT 1 FROM trade_fills f WHERE f.run_id = r.id))
              OR (r.status = 'failed' AND EXISTS (SELECT 1 FROM trade_fills f
                WHERE f.run_id = r.id AND f.recorded_at >= ${since}))
            )
            ORDER BY r.started_at DESC, r.id DESC LIMIT 1`,
          (rows) => rows[0]?.id
        )
      ),

    renewLease: (holder, leaseMillis) =>
      atomically("renewLease", Effect.gen(function*() {
        const now = yield* nowIso
        const rows = yield* sql`UPDATE trade_runs SET lease_expires_at = ${plus(now, leaseMillis)}, updated_at = ${now}
          WHERE id = ${holder.runId} AND lease_owner = ${holder.owner} RETURNING id`
        if (rows.length === 0) return yield* new LeaseLost({ runId: holder.runId, owner: holder.owner })
      })),

    releaseLease: (holder, nextCheckAt) =>
      query(
        "releaseLease",
        Effect.flatMap(nowIso, (now) =>
          sql`UPDATE trade_runs SET lease_owner = NULL, lease_expires_at = NULL, next_check_at = ${nextCheckAt ?? null},
            updated_at = ${now}
            WHERE id = ${holder.runId} AND lease_owner = ${holder.owner}`)
      ).pipe(Effect.asVoid),

    saveOrders: (holder, orders, recorded) =>
      atomically("saveOrders", Effect.gen(function*() {
        yield* fence(holder)
        const [existing] = yield* sql`SELECT client_order_id FROM trade_orders WHERE run_id = ${holder.runId} LIMIT 1`
        if (existing !== undefined) {
          return yield* new RepositoryError({ operation: "saveOrders", reason: `run ${holder.runId} already has orders` })
        }
        const seen = new Set<ClientOrderId>()
        for (const order of orders) {
          if (seen.has(order.clientOrderId)) {
            return yield* new RepositoryError({
              operation: "saveOrders",
              reason: `duplicate client order id ${order.clientOrderId} in run ${holder.runId}`
            })
          }
          seen.add(order.clientOrderId)
        }
        yield* insertOrders(orders)
        yield* sql`UPDATE trade_run_documents SET recorded = ${Rows.toJson(recorded)} WHERE run_id = ${holder.runId}`
      })),

    // A page at a time, with a turn for the host between two: the 48,229 orders of a 50,000-name run read in
    // one statement held the process 1.1 s, and its fills 0.7 s, before its report could be printed.
    listOrders: (runId) =>
      query(
        "listOrders",
        Effect.gen(function*() {
          const orders: Array<TradeOrder> = []
          let after = -1
          for (;;) {
            const page = yield* sql`SELECT ${orderColumns} FROM trade_orders
              WHERE run_id = ${runId} AND position > ${after} ORDER BY position LIMIT ${LIST_PAGE}`.values
            for (const values of page) orders.push(Rows.orderFromValues(runId, values))
            if (page.length < LIST_PAGE) return orders
            after = Rows.orderPosition(page[page.length - 1]!)
            yield* yieldToHost
          }
        })
      ),

    listFills: (runId) =>
      query(
        "listFills",
        Effect.gen(function*() {
          const fills: Array<Fill> = []
          let page = yield* sql`SELECT ${fillColumns} FROM trade_fills
            WHERE run_id = ${runId} ORDER BY time, execution_id LIMIT ${LIST_PAGE}`.values
          for (;;) {
            for (const values of page) fills.push(Rows.fillFromValues(values))
            if (page.length < LIST_PAGE) return fills
            const last = Rows.fillKey(page[page.length - 1]!)
            yield* yieldToHost
            page = yield* sql`SELECT ${fillColumns} FROM trade_fills
              WHERE run_id = ${runId} AND (time > ${last.time} OR (time = ${last.time} AND execution_id > ${last.executionId}))
              ORDER BY time, execution_id LIMIT ${LIST_PAGE}`.values
          }
        })
      ),

    updateOrders: (holder, updates, fills) =>
      atomically("updateOrders", Effect.gen(function*() {
        const now = yield* nowIso
        yield* fence(holder)
        if (fills.length > 0) {
          // Fills come with their order's update, which the compare-and-set below proves exists; only a
          // fill without one needs looking up (the foreign key would refuse it too, less clearly).
          const known = new Set<string>()
          for (const u of updates) known.add(u.clientOrderId)
          const unknown = new Set<string>()
          for (const f of fills) if (!known.has(f.clientOrderId)) unknown.add(f.clientOrderId)
          for (const batch of chunks([...unknown])) {
            const rows = yield* sql<{ client_order_id: string }>`SELECT client_order_id FROM trade_orders
              WHERE run_id = ${holder.runId} AND ${sql.in("client_order_id", batch)}`
            for (const row of rows) known.add(row.client_order_id)
          }
          const stray = unknown.size === 0 ? undefined : fills.find((f) => !known.has(f.clientOrderId))
          if (stray !== undefined) {
            return yield* new RepositoryError({
              operation: "updateOrders",
              reason: `fill ${stray.executionId} is for ${stray.clientOrderId}, which is not an order of run ${holder.runId}`
            })
          }
          yield* bulk.insert(
            "trade_fills",
            Rows.FILL_COLUMNS,
            fills,
            (out, f) => Rows.fillValues(out, holder.runId, f, now),
            "ON CONFLICT (execution_id) DO NOTHING"
          )
        }
        if (updates.length === 0) return
        const num = (column: string) => (pg ? `CAST(${column} AS numeric)` : column)
        // Every row joins the table on its whole primary key (run and client order id, both columns of the
        // rows), so each update is one key lookup whatever the planner knows of the table.
        const moved = yield* asKeyLookups(bulk.withValues<OrderUpdate>(
          "update trade_orders",
          `UPDATE trade_orders SET status = v.column3, filled_quantity = ${num("v.column4")},
            avg_fill_price = ${num("v.column5")}, commission = ${num("v.column6")}, reject_reason = v.column7,
            updated_at = v.column8 FROM`,
          () => `WHERE trade_orders.run_id = v.column9 AND trade_orders.client_order_id = v.column1
            AND trade_orders.status = v.column2`,
          9,
          updates,
          (out, u) => {
            out.push(
              u.clientOrderId,
              u.from,
              u.to,
              Dec.toString(u.filledQuantity),
              u.avgFillPrice === undefined ? null : Dec.toString(u.avgFillPrice),
              Dec.toString(u.commission),
              u.rejectReason ?? null,
              now,
              holder.runId
            )
          },
          []
        ))
        // Compare-and-set: an order that was not in the status the update expects is not moved, and then
        // nothing of this call is. Which one it was is looked up only then.
        if (moved !== updates.length) {
          // Rows this statement moved now carry `to` and this call's time; a stale one kept its own.
          const current = new Map<string, string>()
          for (const batch of chunks(updates.map((u) => u.clientOrderId))) {
            const rows = yield* sql<{ client_order_id: string; status: string; updated_at: string }>`SELECT
              client_order_id, status, updated_at FROM trade_orders
              WHERE run_id = ${holder.runId} AND ${sql.in("client_order_id", batch)}`
            for (const row of rows) current.set(row.client_order_id, `${row.status} ${row.updated_at}`)
          }
          const stale = updates.find((u) => current.get(u.clientOrderId) !== `${u.to} ${now}`) ?? updates[0]!
          return yield* new RepositoryError({
            operation: "updateOrders",
            reason: `order ${stale.clientOrderId} of run ${holder.runId} is not ${stale.from} (or does not exist)`
          })
        }
      })),

    updateRun: (holder, update) =>
      atomically("updateRun", Effect.gen(function*() {
        const now = yield* nowIso
        yield* fence(holder)
        if (update.status !== undefined) {
          const [current] = yield* sql<{ status: string }>`SELECT status FROM trade_runs WHERE id = ${holder.runId}`
          if (current?.status !== update.status.from) {
            return yield* new RepositoryError({
              operation: "updateRun",
              reason: `run ${holder.runId} is ${current?.status}, not ${update.status.from}`
            })
          }
        }
        const finished = update.status !== undefined && RunState.isTerminal(update.status.to)
        const changes: Record<string, unknown> = { updated_at: now }
        if (update.status !== undefined) changes.status = update.status.to
        if (update.error !== undefined) changes.error = update.error
        if (update.cancelRequestedAt !== undefined) changes.cancel_requested_at = update.cancelRequestedAt
        if (finished) changes.finished_at = now
        yield* sql`UPDATE trade_runs SET ${sql.update(changes)} WHERE id = ${holder.runId}`
        if (update.risk !== undefined) {
          yield* sql`UPDATE trade_run_documents SET risk = ${Rows.toJson(update.risk)} WHERE run_id = ${holder.runId}`
        }
      })),

    requestCancel: (runId, at) =>
      atomically("requestCancel", Effect.gen(function*() {
        // No fence: the request is not a step of the run but a note its holder reads at its next check.
        const changed = yield* sql<{ id: string }>`UPDATE trade_runs SET cancel_requested_at = ${at}, updated_at = ${yield* nowIso}
          WHERE id = ${runId} AND status = 'running' AND cancel_requested_at IS NULL RETURNING id`
        const row = yield* runSummaryRow(runId)
        if (row === undefined) return yield* new RunNotFound({ runId })
        return { run: Rows.summaryFromRow(row), recorded: changed.length > 0 }
      })),

    cancelRequestedAt: (runId) =>
      Effect.gen(function*() {
        const [row] = yield* sql<{ cancel_requested_at: string | null }>`SELECT cancel_requested_at FROM trade_runs WHERE id = ${runId}`
        if (row === undefined) return yield* new RunNotFound({ runId })
        return row.cancel_requested_at ?? undefined
      }).pipe(refail("cancelRequestedAt")),

    summarize: (runId) =>
      Effect.gen(function*() {
        const row = yield* runSummaryRow(runId)
        if (row === undefined) return yield* new RunNotFound({ runId })
        const byStatus = yield* sql<{ status: OrderStatus; n: number | string }>`SELECT status, COUNT(*) AS n
          FROM trade_orders WHERE run_id = ${runId} GROUP BY status`
        const [fills] = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM trade_fills WHERE run_id = ${runId}`
        const counts = { ...countOrders([], Number(fills?.n ?? 0)) }
        for (const { status, n } of byStatus) {
          counts[status] = Number(n)
          counts.orders += Number(n)
        }
        return { run: Rows.summaryFromRow(row), counts }
      }).pipe(refail("summarize")),

    withTransaction: (effect) => atomically("transaction", effect)
  })
  return service
})
