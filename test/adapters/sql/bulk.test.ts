/**
 * The bulk writer on SQLite: rows written in chunks, a column whose value every row of a chunk shares bound
 * once by name. Whatever is shared, every row reads back exactly as it was given.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Bulk from "../../../adapters/sql/bulk.js"
import { SqliteLive } from "../../../adapters/sql/layers.js"

const dir = mkdtempSync(join(tmpdir(), "trade-exec-bulk-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Row {
  readonly id: number
  /** The same in every row. */
  readonly run: string
  /** The same within the first 300 rows, then another. */
  readonly phase: string | null
  /** Different in every row. */
  readonly label: string
  /** Null in every row. */
  readonly note: null
}

const COLUMNS: ReadonlyArray<Bulk.Column> = [["id", "integer"], ["run", "text"], ["phase", "text"], ["label", "text"], ["note", "text"]]
const write: Bulk.Write<Row> = (out, r) => out.push(r.id, r.run, r.phase, r.label, r.note)

/** 600 rows: chunks of 256, 256, 64, 16 and 8, some of them across the change of `phase`. */
const rows: ReadonlyArray<Row> = Array.from({ length: 600 }, (_, i) => ({
  id: i,
  run: "run_1",
  phase: i < 300 ? "SUBMITTED" : null,
  label: `order ${i} 'quoted' "twice", é`,
  note: null
}))

const table = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS bulk_rows (id INTEGER PRIMARY KEY, run TEXT, phase TEXT, label TEXT, note TEXT)`
  yield* sql`DELETE FROM bulk_rows`
  return sql
})

const readBack = (sql: SqlClient.SqlClient) => sql<Row>`SELECT id, run, phase, label, note FROM bulk_rows ORDER BY id`

describe("the bulk writer on SQLite", () => {
  it.effect("writes every row exactly, a column the rows of a chunk share and one they do not alike", () =>
    Effect.gen(function*() {
      const sql = yield* table
      yield* sql.withTransaction(Bulk.make(sql).insert("bulk_rows", COLUMNS, rows, write))
      expect(yield* readBack(sql)).toEqual(rows)
    }).pipe(Effect.provide(SqliteLive({ filename: join(dir, "insert.db") }))))

  it.effect("writes a single row, with nothing to share", () =>
    Effect.gen(function*() {
      const sql = yield* table
      yield* Bulk.make(sql).insert("bulk_rows", COLUMNS, rows.slice(7, 8), write)
      expect(yield* readBack(sql)).toEqual(rows.slice(7, 8))
    }).pipe(Effect.provide(SqliteLive({ filename: join(dir, "one.db") }))))

  it.effect("updates through rows of values, with values after them in the statement's tail, and counts what it changed", () =>
    Effect.gen(function*() {
      const sql = yield* table
      const bulk = Bulk.make(sql)
      yield* sql.withTransaction(bulk.insert("bulk_rows", COLUMNS, rows, write))
      // Every row but the last 100 moves to FILLED with a label of its own; the run is named in the tail.
      const moved = rows.slice(0, 500).map((r) => ({ ...r, phase: "FILLED", label: `filled ${r.id}` }))
      const changed = yield* sql.withTransaction(bulk.withValues<Row>(
        "update bulk_rows",
        "UPDATE bulk_rows SET phase = v.column2, label = v.column3 FROM",
        (placeholder) => `WHERE bulk_rows.id = v.column1 AND bulk_rows.run = ${placeholder(0)}`,
        3,
        moved,
        (out, r) => out.push(r.id, r.phase, r.label),
        ["run_1"]
      ))
      expect(changed).toBe(500)
      expect(yield* readBack(sql)).toEqual([...moved, ...rows.slice(500)])
      // The same update for another run changes nothing.
      const none = yield* bulk.withValues<Row>(
        "update bulk_rows",
        "UPDATE bulk_rows SET phase = v.column2, label = v.column3 FROM",
        (placeholder) => `WHERE bulk_rows.id = v.column1 AND bulk_rows.run = ${placeholder(0)}`,
        3,
        moved,
        (out, r) => out.push(r.id, "CANCELED", r.label),
        ["run_2"]
      )
      expect(none).toBe(0)
    }).pipe(Effect.provide(SqliteLive({ filename: join(dir, "update.db") }))))
})
