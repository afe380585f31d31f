import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseLive } from "../../../adapters/sql/layers.js"
import { migrate, migrations, MIGRATIONS_TABLE } from "../../../adapters/sql/migrations.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { RunId, SnapshotId } from "../../../src/domain/Ids.js"
import { snapshotDigest, TradeRepository } from "../../../src/ports/TradeRepository.js"
import { describePg, freshSchema, pgAvailable } from "../../support/postgres.js"
import { item } from "../../support/world.js"

const dir = mkdtempSync(join(tmpdir(), "trade-exec-migrate-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a snapshot and a run as the first version did: its schema, its rows. */
const firstVersion = Effect.gen(function*() {
  yield* migrate(1)
  const sql = yield* SqlClient.SqlClient
  const items = [item("AAA", "0.123456789")]
  const at = "2026-11-01T09:00:00.000Z"
  yield* sql`INSERT INTO decision_snapshots (id, status, digest, frozen_at, source, created_at)
    VALUES ('snap_v1', 'success', ${snapshotDigest(items)}, ${at}, NULL, ${at})`
  yield* sql`INSERT INTO snapshot_items (snapshot_id, position, symbol, weight) VALUES ('snap_v1', 0, 'AAA', '0.123456789')`
  yield* sql`INSERT INTO trade_runs (id, snapshot_id, status, mode, params, attempts, created_at, updated_at)
    VALUES ('run_v1', 'snap_v1', 'queued', 'paper', '{"portfolioValue":"1000.5"}', 0, ${at}, ${at})`
})

const migratedForward = (db: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* TradeRepository
    const applied = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(MIGRATIONS_TABLE)} ORDER BY migration_id`
    expect(applied.map((r) => Number(r.migration_id))).toEqual(Object.keys(migrations).map((k) => Number(k.split("_")[0])))
    const run = yield* repo.getRun("run_v1" as RunId)
    expect(Dec.toString(run.params.portfolioValue!)).toBe("1000.5")
    const snapshot = yield* repo.getSnapshot("snap_v1" as SnapshotId)
    expect(Dec.toString(snapshot.items[0]!.weight)).toBe("0.123456789")
    // the tables of later versions exist and work
    expect(yield* sql`SELECT * FROM paper_orders`).toEqual([])
  }).pipe(Effect.provide(DatabaseLive(db)))

describe("migrations", () => {
  it.effect("move a SQLite database of the first version forward, keeping its data", () =>
    Effect.gen(function*() {
      const db = join(dir, "v1.db")
      yield* firstVersion.pipe(Effect.provide(SqliteClient.layer({ filename: db })))
      yield* migratedForward(db)
      // and building the layer again changes nothing
      yield* migratedForward(db)
    }))
})

const schema = pgAvailable || process.env.CI ? await freshSchema("migrate") : undefined
describePg("migrations on PostgreSQL", () => {
  afterAll(() => schema?.drop())
  it.effect("move a database of the first version forward, keeping its data", () =>
    Effect.gen(function*() {
      const url = schema?.url ?? "postgres://unreachable"
      yield* firstVersion.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) }).pipe(Layer.provide(Reactivity.layer))))
      yield* migratedForward(url)
    }))
})

const emptySchema = pgAvailable || process.env.CI ? await freshSchema("migrate_race") : undefined
describePg("the first start of several workers on one empty PostgreSQL schema", () => {
  afterAll(() => emptySchema?.drop())
  it.effect("sets the schema up once, whichever worker comes first, and every worker opens it", () =>
    Effect.gen(function*() {
      const url = emptySchema?.url ?? "postgres://unreachable"
      // Each opening has its own pool, as separate worker processes would: the migrations race on the server.
      const opened = yield* Effect.all(
        Array.from({ length: 6 }, () =>
          Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            const applied = yield* sql<{ n: string }>`SELECT count(*) AS n FROM ${sql(MIGRATIONS_TABLE)}`
            return Number(applied[0]!.n)
          }).pipe(Effect.provide(DatabaseLive(url)))),
        { concurrency: "unbounded" }
      )
      expect(opened).toEqual(Array(6).fill(Object.keys(migrations).length))
    }))
})
