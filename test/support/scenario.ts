/**
 * Scenarios for the process-level tests: a database with runs of n orders to execute, and a runtime in
 * the test process over the same database (with the paper broker's book in it) to resume and inspect.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll } from "@effect/vitest"
import { type Duration, Effect, Layer, ManagedRuntime, Schedule } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseLive, SqliteLive } from "../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId } from "../../src/domain/Ids.js"
import type { Quote } from "../../src/domain/Market.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { item } from "./world.js"

export const symbols = (n: number) => Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, "0")}`)

/** The snapshot price of the i-th symbol of `queueRun`, times `factor` (a market that moved). */
export const priceOf = (i: number, factor: Dec.DecimalInput = 1) => Dec.mul(Dec.unsafe(`${10 + (i % 90)}.25`), Dec.unsafe(factor))

export const openDatabase = (
  db: string,
  workerId = "inspector",
  options: { readonly readonly?: boolean; readonly market?: ReadonlyArray<Quote> } = {}
) => {
  const storage = options.readonly === true ? SqliteLive({ filename: db, readonly: true }) : DatabaseLive(db)
  const market = PriceFeed.layerMemory(options.market ?? [])
  const broker = SqlPaperBook.layer({ cash: 1_000_000_000 }).pipe(
    Layer.provide(market),
    Layer.provide(storage)
  )
  const layer = TradeRunner.layer({ workerId, leaseSeconds: 1, settleSchedule: Schedule.recurs(0) }).pipe(
    Layer.provideMerge(Layer.mergeAll(storage, broker, market))
  )
  return ManagedRuntime.make(layer)
}

export type Runtime = ReturnType<typeof openDatabase>

/**
 * `name.db`, a SQLite file in a fresh temporary folder, opened in this process; after the tests around the
 * call (the file's, or a describe's) it is closed and the folder removed.
 */
export const temporaryDatabase = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `trade-exec-${name}-`))
  const db = join(dir, `${name}.db`)
  const runtime = openDatabase(db)
  afterAll(async () => {
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, db, runtime }
}

/**
 * A queued run that buys n names (one order each), sized from explicit params. `resting`: limit orders 50 bps
 * under the snapshot's price, which the paper broker keeps working until the market comes down to them.
 */
export const queueRun = (n: number, options: { readonly resting?: boolean; readonly cancelAfter?: Duration.Duration } = {}) =>
  Effect.gen(function*() {
    const repo = yield* TradeRepository
    const snapshot = yield* repo.createSnapshot({
      items: symbols(n).map((s, i) => item(s, Dec.unsafe(`${1 / (n + 1)}`), { price: priceOf(i) }))
    })
    return yield* repo.createRun({
      snapshotId: snapshot.id,
      params: {
        portfolioValue: Dec.unsafe(100_000_000),
        cash: Dec.unsafe(100_000_000),
        positions: [],
        ...(options.resting === true ? { orderType: "LMT", limitOffsetBps: Dec.unsafe(-50) } as const : {}),
        ...(options.cancelAfter === undefined ? {} : { cancelAfter: options.cancelAfter })
      }
    })
  })

/** Executes a run in this process, waiting out another process's lease. */
export const resume = (runId: RunId) =>
  Effect.flatMap(TradeRunner, (runner) => runner.execute(runId)).pipe(
    Effect.retry({ while: (e) => e._tag === "RunHeld", schedule: Schedule.spaced("300 millis") })
  )

/** Everything that must hold for a run that is done: one order per client order id, fills unique and summing up, chain intact. */
export const invariants = (runId: RunId) =>
  Effect.gen(function*() {
    const repo = yield* TradeRepository
    const sql = yield* SqlClient.SqlClient
    const run = yield* repo.getRun(runId)
    const orders = yield* repo.listOrders(runId)
    const fills = yield* repo.listFills(runId)
    const ids = orders.map((o) => o.clientOrderId)
    const filledOk = orders.every((o) =>
      Dec.eq(o.filledQuantity, Dec.sum(fills.filter((f) => f.clientOrderId === o.clientOrderId).map((f) => f.quantity))))
    const brokerRows = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM paper_orders WHERE run_id = ${runId}`
    const brokerDistinct = yield* sql<{ n: number | string }>`SELECT COUNT(DISTINCT client_order_id) AS n FROM paper_orders WHERE run_id = ${runId}`
    const orphanFills = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM trade_fills f
      LEFT JOIN trade_orders o ON o.run_id = f.run_id AND o.client_order_id = f.client_order_id WHERE o.client_order_id IS NULL`
    const orphanOrders = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM trade_orders o
      LEFT JOIN trade_runs r ON r.id = o.run_id WHERE r.id IS NULL`
    const audit = yield* (yield* AuditLog).verify
    const replay = yield* (yield* TradeRunner).replay(runId)
    return {
      status: run.status,
      orders: orders.length,
      distinctOrders: new Set(ids).size,
      fills: fills.length,
      distinctFills: new Set(fills.map((f) => f.executionId)).size,
      filled: orders.filter((o) => o.status === "FILLED").length,
      filledEqualsFills: filledOk,
      brokerOrders: Number(brokerRows[0]!.n),
      brokerDistinct: Number(brokerDistinct[0]!.n),
      orphanFills: Number(orphanFills[0]!.n),
      orphanOrders: Number(orphanOrders[0]!.n),
      auditOk: audit.ok,
      replayMatches: replay.matches
    }
  })

/**
 * What `invariants` reads of a run that ended done with `orders` orders: each once here and once at the
 * broker, `fills` unique fills summing up to what each order filled, the audit chain and the replay intact.
 */
export const completedRun = (orders: number, fills: number) => ({
  status: "done",
  orders,
  distinctOrders: orders,
  distinctFills: fills,
  filledEqualsFills: true,
  brokerOrders: orders,
  brokerDistinct: orders,
  auditOk: true,
  replayMatches: true
})

export const brokerAccount = Effect.flatMap(ExecutionProvider, (p) => p.account)
