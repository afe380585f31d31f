/**
 * The floor: the rows a full run leaves — snapshot and items, the run and its documents, its orders with
 * two status updates each, their fills, the audit events and the chain's head — written straight through
 * better-sqlite3 prepared statements in one transaction, into the same (migrated) schema. The rows are a
 * finished run's own, read back from its file (`runRows`), so the floor stores the same bytes the run
 * does: the run's ids, decimals, documents and event payloads, not stand-ins of another size. No Effect,
 * no validation, no hashing: the least this machine needs to put those rows on disk.
 */
import Database from "better-sqlite3"
import { Effect, ManagedRuntime } from "effect"
import { createRequire } from "node:module"
import { PgLive, SqliteLive } from "../adapters/sql/layers.js"
import * as Dec from "../src/domain/Decimal.js"
import type { Universe } from "./universe.js"

/** One table's rows as a finished run left them: its column names, and each row's values in that order. */
export interface TableRows {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
}

/** The tables a run writes, in the order the floor writes them (a table's references before it). */
const RUN_TABLES = [
  "decision_snapshots",
  "snapshot_items",
  "trade_runs",
  "trade_run_documents",
  "trade_orders",
  "trade_fills",
  "audit_events",
  "audit_head"
] as const
type RunTable = typeof RUN_TABLES[number]

export type RunRows = Readonly<Record<RunTable, TableRows>>

/** What a run's file holds of it: every row of the tables a run writes (the file holds that one run). */
export const runRows = (file: string): RunRows => {
  const db = new Database(file, { readonly: true })
  try {
    const read = (table: RunTable): TableRows => {
      const statement = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw(true)
      return { columns: statement.columns().map((c) => c.name), rows: statement.all() as Array<Array<unknown>> }
    }
    return Object.fromEntries(RUN_TABLES.map((table) => [table, read(table)])) as RunRows
  } finally {
    db.close()
  }
}

export const floor = async (file: string, source: RunRows): Promise<number> => {
  const schema = ManagedRuntime.make(SqliteLive({ filename: file }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const db = new Database(file)
  // The same settings as SqliteLive's: WAL, synchronous NORMAL.
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  const insert = (table: RunTable) => {
    const { columns } = source[table]
    return db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
  }
  const column = (table: RunTable, name: string) => {
    const i = source[table].columns.indexOf(name)
    if (i === -1) throw new Error(`the run's ${table} has no column ${name}`)
    return i
  }
  const orders = source.trade_orders
  const at = {
    status: column("trade_orders", "status"),
    filled: column("trade_orders", "filled_quantity"),
    price: column("trade_orders", "avg_fill_price"),
    commission: column("trade_orders", "commission"),
    reason: column("trade_orders", "reject_reason"),
    run: column("trade_orders", "run_id"),
    id: column("trade_orders", "client_order_id"),
    updated: column("trade_orders", "updated_at")
  }
  const runAt = { id: column("trade_runs", "id"), status: column("trade_runs", "status"), updated: column("trade_runs", "updated_at") }
  const statements = {
    snapshot: insert("decision_snapshots"),
    item: insert("snapshot_items"),
    run: insert("trade_runs"),
    documents: insert("trade_run_documents"),
    runUpdate: db.prepare("UPDATE trade_runs SET status = ?, updated_at = ? WHERE id = ?"),
    order: insert("trade_orders"),
    submitted: db.prepare("UPDATE trade_orders SET status = 'SUBMITTED', updated_at = ? WHERE run_id = ? AND client_order_id = ?"),
    outcome: db.prepare(`UPDATE trade_orders SET status = ?, filled_quantity = ?, avg_fill_price = ?, commission = ?, reject_reason = ?,
      updated_at = ? WHERE run_id = ? AND client_order_id = ?`),
    fill: insert("trade_fills"),
    event: insert("audit_events"),
    head: db.prepare(`UPDATE audit_head SET ${source.audit_head.columns.map((c) => `${c} = ?`).join(", ")} WHERE id = 1`)
  }
  // Orders are saved NEW, with nothing filled: their outcome comes with the second update.
  const asNew = orders.rows.map((row) => {
    const copy = [...row]
    copy[at.status] = "NEW"
    copy[at.filled] = "0"
    copy[at.price] = null
    copy[at.commission] = "0"
    copy[at.reason] = null
    return copy
  })
  const runs = source.trade_runs.rows.map((row) => {
    const copy = [...row]
    copy[runAt.status] = "queued"
    return copy
  })

  const start = performance.now()
  db.transaction(() => {
    for (const row of source.decision_snapshots.rows) statements.snapshot.run(row)
    for (const row of source.snapshot_items.rows) statements.item.run(row)
    for (const row of runs) statements.run.run(row)
    for (const row of source.trade_run_documents.rows) statements.documents.run(row)
    for (const row of runs) statements.runUpdate.run("running", row[runAt.updated], row[runAt.id])
    for (const row of asNew) statements.order.run(row)
    for (const row of orders.rows) statements.submitted.run(row[at.updated], row[at.run], row[at.id])
    for (const row of source.trade_fills.rows) statements.fill.run(row)
    for (const row of orders.rows) {
      statements.outcome.run(row[at.status], row[at.filled], row[at.price], row[at.commission], row[at.reason], row[at.updated], row[at.run], row[at.id])
    }
    for (const row of source.audit_events.rows) statements.event.run(row)
    for (const row of source.trade_runs.rows) statements.runUpdate.run(row[runAt.status], row[runAt.updated], row[runAt.id])
    for (const row of source.audit_head.rows) statements.head.run(row)
  })()
  const ms = performance.now() - start
  db.close()
  return ms
}

/** What the floor needs of `pg`'s client (pg ships no types and the project has no `@types/pg`). */
interface PgConnection {
  connect(): Promise<void>
  query(text: string, values?: ReadonlyArray<unknown>): Promise<unknown>
  end(): Promise<void>
}

/**
 * The same rows as `floor`, written through `pg` in one transaction into a migrated schema (`url`'s
 * search_path): one multi-row statement a table and a step, each row set passed as arrays through `unnest`,
 * as the PostgreSQL repository itself writes them.
 */
export const floorPg = async (url: string, data: Universe, orders: number): Promise<number> => {
  const schema = ManagedRuntime.make(PgLive({ url }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const pg = createRequire(import.meta.url)("pg") as { Client: new (config: { connectionString: string }) => PgConnection }
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const now = "2026-11-25T21:00:00.000Z"
  const hash = "f".repeat(64)
  const picked = data.items.slice(0, orders)
  const ids = picked.map((item) => `${item.symbol}-B-floor`)
  const prices = picked.map((_, i) => Dec.toString(data.quotes[i]!.price))
  const events: Array<[string, string]> = []
  const event = (type: string, payload: string) => events.push([type, payload])

  const start = performance.now()
  await db.query("BEGIN")
  await db.query("INSERT INTO decision_snapshots (id, status, digest, frozen_at, source, created_at) VALUES ('snap_floor', 'success', $1, $2, NULL, $2)", [hash, now])
  await db.query(
    `INSERT INTO snapshot_items (snapshot_id, position, symbol, weight, score, rank, sector, price)
     SELECT 'snap_floor', * , NULL FROM unnest($1::int[], $2::text[], $3::numeric[], $4::numeric[], $5::int[], $6::text[])`,
    [
      data.items.map((_, i) => i),
      data.items.map((item) => item.symbol),
      data.items.map((item) => Dec.toString(item.weight)),
      data.items.map((item) => (item.score === undefined ? null : Dec.toString(item.score))),
      data.items.map((item) => item.rank ?? null),
      data.items.map((item) => item.sector ?? null)
    ]
  )
  await db.query("INSERT INTO trade_runs (id, snapshot_id, status, mode, attempts, created_at, updated_at) VALUES ('run_floor', 'snap_floor', 'queued', 'paper', 0, $1, $1)", [now])
  await db.query("INSERT INTO trade_run_documents (run_id, params) VALUES ('run_floor', '{}')")
  event("trade_run.transition", '{"from":"queued","to":"running"}')
  await db.query("UPDATE trade_runs SET status = 'running', updated_at = $1 WHERE id = 'run_floor'", [now])
  await db.query(
    `INSERT INTO trade_orders (run_id, client_order_id, position, symbol, side, quantity, order_type, limit_price, reference_price,
       current_quantity, target_quantity, target_weight, sector, status, filled_quantity, avg_fill_price, commission, reject_reason,
       created_at, updated_at)
     SELECT 'run_floor', v.id, v.position, v.symbol, 'BUY', 100, 'MKT', NULL, v.price, 0, 100, v.weight, v.sector, 'NEW', 0, NULL, 0,
       NULL, $6, $6
     FROM unnest($1::text[], $2::int[], $3::text[], $4::numeric[], $5::numeric[], $7::text[]) AS v(id, position, symbol, price, weight, sector)`,
    [ids, picked.map((_, i) => i), picked.map((item) => item.symbol), prices, picked.map((item) => Dec.toString(item.weight)), now, picked.map((item) => item.sector ?? null)]
  )
  event("trade_run.orders_built", `{"orders":${orders}}`)
  event("trade_run.risk", '{"passed":true}')
  for (const [to, filled] of [["SUBMITTED", "0"], ["FILLED", "100"]] as const) {
    if (to === "FILLED") {
      await db.query(
        `INSERT INTO trade_fills (execution_id, run_id, client_order_id, symbol, side, quantity, price, commission, time, recorded_at)
         SELECT v.id || '-F1', 'run_floor', v.id, v.symbol, 'BUY', 100, v.price, 0, $4, $4 FROM unnest($1::text[], $2::text[], $3::numeric[]) AS v(id, symbol, price)`,
        [ids, picked.map((item) => item.symbol), prices, now]
      )
    }
    await db.query(
      `UPDATE trade_orders o SET status = $2, filled_quantity = $3, avg_fill_price = v.price, updated_at = $4
       FROM unnest($1::text[], $5::numeric[]) AS v(id, price) WHERE o.run_id = 'run_floor' AND o.client_order_id = v.id`,
      [ids, to, filled, now, to === "FILLED" ? prices : ids.map(() => null)]
    )
    ids.forEach((id, i) =>
      event("trade_order.transition", `{"clientOrderId":"${id}","symbol":"${picked[i]!.symbol}","from":"${to === "FILLED" ? "SUBMITTED" : "NEW"}","to":"${to}"}`)
    )
  }
  await db.query("UPDATE trade_runs SET status = 'done', updated_at = $1 WHERE id = 'run_floor'", [now])
  event("trade_run.transition", '{"from":"running","to":"done"}')
  event("trade_run.execute", '{"dryRun":false}')
  await db.query(
    `INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash)
     SELECT v.seq, $3, v.type, 'run_floor', v.payload, $4, $4 FROM unnest($1::int[], $2::text[], $5::text[]) AS v(seq, type, payload)`,
    [events.map((_, i) => i + 1), events.map(([type]) => type), now, hash, events.map(([, payload]) => payload)]
  )
  await db.query("COMMIT")
  const ms = performance.now() - start
  await db.end()
  return ms
}
