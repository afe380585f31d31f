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
 * search_path): one statement a table and a step, each column's values passed as one text array and cast
 * to the column's type through `unnest`, as the PostgreSQL repository itself writes its rows.
 */
export const floorPg = async (url: string, source: RunRows): Promise<number> => {
  const schema = ManagedRuntime.make(PgLive({ url }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const pg = createRequire(import.meta.url)("pg") as { Client: new (config: { connectionString: string }) => PgConnection }
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const types = new Map<string, string>()
  const { rows: described } = await db.query(
    "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()"
  ) as { rows: Array<{ table_name: string; column_name: string; data_type: string }> }
  for (const c of described) types.set(`${c.table_name}.${c.column_name}`, c.data_type)
  const typeOf = (table: string, column: string) => {
    const type = types.get(`${table}.${column}`)
    if (type === undefined) throw new Error(`the schema has no column ${table}.${column}`)
    return type
  }
  /** `columns` of `rows` as one text array each, the statement's parameters from `$first` on. */
  const arrays = (columns: ReadonlyArray<number>, rows: ReadonlyArray<ReadonlyArray<unknown>>) =>
    columns.map((c) => rows.map((row) => (row[c] === null || row[c] === undefined ? null : String(row[c]))))
  /** `unnest($1::text[], …) AS v(a, …)` with each column cast to its type in `SELECT`. */
  const unnested = (table: RunTable, names: ReadonlyArray<string>) =>
    `SELECT ${names.map((n) => `v.${n}::${typeOf(table, n)}`).join(", ")}
     FROM unnest(${names.map((_, i) => `$${i + 1}::text[]`).join(", ")}) AS v(${names.join(", ")})`
  const insertAll = (table: RunTable, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
    const { columns } = source[table]
    return db.query(`INSERT INTO ${table} (${columns.join(", ")}) ${unnested(table, columns)}`, arrays(columns.map((_, i) => i), rows))
  }
  /** `UPDATE table SET set… FROM (rows) WHERE key… match`: the rows' values of `set` and `key` columns. */
  const updateAll = (table: RunTable, set: ReadonlyArray<string>, key: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
    const { columns } = source[table]
    const names = [...set, ...key]
    return db.query(
      `UPDATE ${table} t SET ${set.map((n) => `${n} = u.${n}`).join(", ")} FROM (${unnested(table, names)}) AS u(${names.join(", ")})
       WHERE ${key.map((n) => `t.${n} = u.${n}`).join(" AND ")}`,
      arrays(names.map((n) => columns.indexOf(n)), rows)
    )
  }
  const orders = source.trade_orders
  const col = (name: string) => orders.columns.indexOf(name)
  const asNew = orders.rows.map((row) => {
    const copy = [...row]
    copy[col("status")] = "NEW"
    copy[col("filled_quantity")] = "0"
    copy[col("avg_fill_price")] = null
    copy[col("commission")] = "0"
    copy[col("reject_reason")] = null
    return copy
  })
  const submitted = asNew.map((row) => {
    const copy = [...row]
    copy[col("status")] = "SUBMITTED"
    return copy
  })
  const runStatus = source.trade_runs.columns.indexOf("status")
  const runAs = (status: string) => source.trade_runs.rows.map((row) => row.map((v, i) => (i === runStatus ? status : v)))

  const start = performance.now()
  await db.query("BEGIN")
  await insertAll("decision_snapshots", source.decision_snapshots.rows)
  await insertAll("snapshot_items", source.snapshot_items.rows)
  await insertAll("trade_runs", runAs("queued"))
  await insertAll("trade_run_documents", source.trade_run_documents.rows)
  await updateAll("trade_runs", ["status", "updated_at"], ["id"], runAs("running"))
  await insertAll("trade_orders", asNew)
  await updateAll("trade_orders", ["status", "updated_at"], ["run_id", "client_order_id"], submitted)
  await insertAll("trade_fills", source.trade_fills.rows)
  await updateAll(
    "trade_orders",
    ["status", "filled_quantity", "avg_fill_price", "commission", "reject_reason", "updated_at"],
    ["run_id", "client_order_id"],
    orders.rows
  )
  await insertAll("audit_events", source.audit_events.rows)
  await updateAll("trade_runs", ["status", "updated_at"], ["id"], source.trade_runs.rows)
  await updateAll("audit_head", source.audit_head.columns.filter((c) => c !== "id"), ["id"], source.audit_head.rows)
  await db.query("COMMIT")
  const ms = performance.now() - start
  await db.end()
  return ms
}
