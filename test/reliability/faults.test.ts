/**
 * Storage that fails under the run: a read-only file, a full file, a PostgreSQL connection dropped
 * mid-run. Each is a typed error; the run is left failed or resumable; never orders without their run,
 * never fills without their order.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Reactivity from "@effect/experimental/Reactivity"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqliteLive } from "../../adapters/sql/layers.js"
import type { RunId, SnapshotId } from "../../src/domain/Ids.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { describePg, freshSchema, pgAvailable, pgUrl } from "../support/postgres.js"
import { spawnTrade } from "../support/processes.js"
import { invariants, openDatabase, queueRun, resume } from "../support/scenario.js"
import { item } from "../support/world.js"

const dir = mkdtempSync(join(tmpdir(), "trade-exec-faults-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const orphans = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [fills] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM trade_fills f LEFT JOIN trade_orders o
    ON o.run_id = f.run_id AND o.client_order_id = f.client_order_id WHERE o.client_order_id IS NULL`
  const [orders] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM trade_orders o LEFT JOIN trade_runs r
    ON r.id = o.run_id WHERE r.id IS NULL`
  const [unrecorded] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM trade_orders o JOIN trade_run_documents d
    ON d.run_id = o.run_id WHERE d.recorded IS NULL`
  return { fillsWithoutOrder: Number(fills!.n), ordersWithoutRun: Number(orders!.n), ordersWithoutRecord: Number(unrecorded!.n) }
})

describe("a SQLite file that cannot be written", () => {
  it("refuses the run with a typed error, writes nothing, and leaves the run queued", async () => {
    const db = join(dir, "readonly.db")
    const setup = openDatabase(db)
    const run = await setup.runPromise(queueRun(10))
    await setup.dispose()

    // Truly read-only, even for root: the immutable attribute. Where it is not available, SQLite's own
    // read-only mode stands in for it.
    let immutable = true
    try {
      execFileSync("chattr", ["+i", db])
    } catch {
      immutable = false
    }
    try {
      if (immutable) {
        // Opened for writing, the file is refused before SQLite opens it, which would leave -wal and -shm
        // files beside it and fail only at the first write.
        const writer = openDatabase(db, "writer")
        const refused = await writer.runPromise(Effect.flatMap(TradeRunner, (r) => r.execute(run.id))).then(() => undefined, String)
        await writer.dispose()
        expect(refused).toContain("readonly.db is read-only")
        expect(readdirSync(dir).filter((f) => f.startsWith("readonly.db"))).toEqual(["readonly.db"])
      }
      // Opened read-only, every write is a typed error.
      const readonly = openDatabase(db, "reader", { readonly: true })
      const error = await readonly.runPromise(Effect.flip(Effect.flatMap(TradeRunner, (r) => r.execute(run.id))))
      expect(error._tag).toBe("RepositoryError")
      expect(error.message).toContain("readonly database")
      const state = await readonly.runPromise(Effect.flatMap(TradeRepository, (r) => r.getRun(run.id)))
      expect(state.status).toBe("queued")
      expect(await readonly.runPromise(Effect.flatMap(TradeRepository, (r) => r.listOrders(run.id)))).toEqual([])
      await readonly.dispose()
    } finally {
      if (immutable) execFileSync("chattr", ["-i", db])
    }
    // Writable again: the same run executes as if nothing happened.
    const writable = openDatabase(db)
    await writable.runPromise(resume(run.id))
    expect(await writable.runPromise(invariants(run.id))).toMatchObject({ status: "done", orders: 10, fills: 10, auditOk: true })
    await writable.dispose()
  }, 60_000)
})

describe("a SQLite file that is full", () => {
  it("fails the write atomically, leaves the run resumable, and resumes once there is room", async () => {
    const db = join(dir, "full.db")
    const runtime = openDatabase(db)
    const run = await runtime.runPromise(queueRun(2000))
    // Allow only a few more pages than the file has now: saving 2000 orders cannot fit.
    await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.flatMap(sql<{ page_count: number }>`PRAGMA page_count`, ([row]) =>
        sql.unsafe(`PRAGMA max_page_count = ${row!.page_count + 4}`))))
    const error = await runtime.runPromise(Effect.flip(Effect.flatMap(TradeRunner, (r) => r.execute(run.id))))
    expect(error._tag).toBe("RepositoryError")
    expect(error.message).toMatch(/full/i)
    expect(await runtime.runPromise(Effect.flatMap(TradeRepository, (r) => r.listOrders(run.id)))).toEqual([])
    expect((await runtime.runPromise(Effect.flatMap(TradeRepository, (r) => r.getRun(run.id)))).status).toBe("running")
    expect(await runtime.runPromise(orphans)).toEqual({ fillsWithoutOrder: 0, ordersWithoutRun: 0, ordersWithoutRecord: 0 })

    await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("PRAGMA max_page_count = 1073741823")))
    await runtime.runPromise(resume(run.id))
    expect(await runtime.runPromise(invariants(run.id))).toMatchObject({ status: "done", orders: 2000, fills: 2000, brokerDistinct: 2000, auditOk: true })
    await runtime.dispose()
  }, 120_000)
})

describe("storage that is not there", () => {
  it("names a SQLite file that cannot be opened", async () => {
    const layer = SqliteLive({ filename: join(dir, "no", "such", "dir", "x.db") })
    const error = await Effect.runPromise(Effect.flip(Layer.build(layer).pipe(Effect.scoped)))
    expect(error._tag).toBe("RepositoryError")
    expect(error.message).toContain(join(dir, "no", "such", "dir", "x.db"))
  })

  it("names an unknown run, and a snapshot that is not frozen or did not succeed", async () => {
    const runtime = openDatabase(join(dir, "edges.db"))
    const missing = await runtime.runPromise(Effect.flip(Effect.flatMap(TradeRunner, (r) => r.execute("run_missing" as RunId))))
    expect(missing.message).toContain("run_missing")
    const { pending, failed } = await runtime.runPromise(Effect.gen(function*() {
      const repo = yield* TradeRepository
      const items = [item("AAA", "0.1", { price: undefined as never })].map(({ price: _, ...rest }) => rest)
      const unfrozen = yield* repo.createSnapshot({ id: "snap_unfrozen" as SnapshotId, items, freeze: false })
      const bad = yield* repo.createSnapshot({ id: "snap_failed" as SnapshotId, items, status: "failed" })
      return {
        pending: yield* repo.createRun({ snapshotId: unfrozen.id, params: { positions: [] } }),
        failed: yield* repo.createRun({ snapshotId: bad.id, params: { positions: [] } })
      }
    }))
    const a = await runtime.runPromise(Effect.flatMap(TradeRunner, (r) => r.execute(pending.id)))
    expect([a.run.status, a.run.error]).toEqual(["failed", "SnapshotNotReady: decision snapshot snap_unfrozen is not frozen; freeze it before trading it"])
    const b = await runtime.runPromise(Effect.flatMap(TradeRunner, (r) => r.execute(failed.id)))
    expect(b.run.error).toContain("snap_failed has status failed")
    await runtime.dispose()
  })
})

const schema = pgAvailable || process.env.CI ? await freshSchema("faults") : undefined
describePg("a PostgreSQL connection dropped mid-run", () => {
  afterAll(() => schema?.drop())

  it("surfaces as a typed error or is ridden out, and the run resumes to a consistent end", async () => {
    const db = schema?.url ?? "postgres://unreachable"
    const runtime = openDatabase(db)
    const run = await runtime.runPromise(queueRun(1500))
    const admin = ManagedRuntime.make(
      Layer.scopedContext(Effect.map(PgClient.make({ url: Redacted.make(pgUrl) }), (c) => PgClient.PgClient.context(c))).pipe(
        Layer.provide(Reactivity.layer)
      )
    )
    const child = spawnTrade({ TE_DB: db, TE_RUN: run.id, TE_LEASE_SECONDS: "1", TE_BATCH: "50" })
    let done = false
    let terminated = 0
    const running = Effect.flatMap(PgClient.PgClient, (sql) =>
      sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM ${sql.literal(schema!.name)}.trade_orders WHERE run_id = ${run.id} AND status <> 'NEW'`)
    const killer = (async () => {
      // Wait until orders are going out, so the connection drops mid-run, not while the process starts.
      while (!done && (await admin.runPromise(running))[0]!.n === 0) await new Promise((r) => setTimeout(r, 50))
      while (!done) {
        const rows = await admin.runPromise(Effect.flatMap(PgClient.PgClient, (sql) =>
          sql<{ pid: number }>`SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
            WHERE application_name = 'trade-execution' AND datname = current_database() AND pid <> pg_backend_pid()`))
        terminated += rows.length
        await new Promise((r) => setTimeout(r, 150))
      }
    })()
    const result = await child.result
    done = true
    await killer
    expect(terminated).toBeGreaterThan(0)
    // The process stopped on a typed error (the storage's, or a lease it could not renew) and the run
    // resumes to its end; or the pool reconnected and the run completed; or the paper broker, whose book
    // is in the same database, failed a request, which ends the run `failed` with the broker's error
    // (any failure but a missing price), recorded, and a resume leaves it so.
    const outcome = String(result.output?.error ?? result.output?.status)
    expect(["RepositoryError", "ExecutionError", "LeaseLost", "done", "failed"], JSON.stringify(result.output) + result.stderr).toContain(outcome)
    const settled = await runtime.runPromise(resume(run.id))
    const end = await runtime.runPromise(invariants(run.id))
    // Whatever the end: one order per client order id, here and at the broker; fills unique and summing
    // up to what each order filled; nothing orphaned; the audit chain intact.
    const consistent = {
      orders: 1500,
      distinctOrders: 1500,
      distinctFills: end.fills,
      filledEqualsFills: true,
      brokerDistinct: end.brokerOrders,
      orphanFills: 0,
      orphanOrders: 0,
      auditOk: true
    }
    if (settled.run.status === "failed") {
      expect(settled.run.error).toMatch(/^ExecutionError: paper \w+ failed: paper book: /)
      expect(end).toMatchObject({ ...consistent, status: "failed" })
    } else {
      expect(end).toMatchObject({ ...consistent, status: "done", fills: 1500, brokerDistinct: 1500 })
    }
    await admin.dispose()
    await runtime.dispose()
  }, 180_000)
})
