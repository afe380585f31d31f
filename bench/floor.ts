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

/** Written by the migrations, before either side's timing. */
const MIGRATIONS_TABLE = "trade_execution_migrations"

/**
 * What a run's file holds of it: every row of the tables a run writes (the file holds that one run). A row
 * in any other table (a paper book's, with a broker that keeps one) would be work the floor leaves out, and
 * is refused.
 */
export const runRows = (file: string): RunRows => {
  const db = new Database(file, { readonly: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as Array<string>
    for (const table of tables) {
      if (table === MIGRATIONS_TABLE || (RUN_TABLES as ReadonlyArray<string>).includes(table)) continue
      const { n } = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }
      if (n > 0) throw new Error(`the run left ${n} rows in ${table}, which the floors do not write`)
    }
    const read = (table: RunTable): TableRows => {
      const statement = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw(true)
      return { columns: statement.columns().map((c) => c.name), rows: statement.all() as Array<Array<unknown>> }
    }
    return Object.fromEntries(RUN_TABLES.map((table) => [table, read(table)])) as RunRows
  } finally {
    db.close()
  }
}

/**
 * The first difference between the rows a floor left and the run's, as text (`undefined` when they are the
 * same), the rows of each table compared in any order and their values as text: a floor may store a row's
 * integer as PostgreSQL's number or SQLite's, and list its rows in its own order.
 */
export const rowsDiffer = (run: RunRows, left: RunRows): string | undefined => {
  const asText = (rows: TableRows, columns: ReadonlyArray<string>) => {
    const at = columns.map((c) => columnOf(rows, c))
    return rows.rows.map((row) => JSON.stringify(at.map((i) => (row[i] === null ? null : String(row[i]))))).sort()
  }
  for (const table of RUN_TABLES) {
    const { columns } = run[table]
    const expected = asText(run[table], columns)
    const actual = asText(left[table], columns)
    if (actual.length !== expected.length) return `${table}: ${actual.length} rows, the run's ${expected.length}`
    const at = expected.findIndex((row, i) => row !== actual[i])
    if (at !== -1) return `${table}: ${actual[at]} where the run has ${expected[at]}`
  }
  return undefined
}

/** Where `name` sits in a table's rows. */
const columnOf = (rows: TableRows, name: string): number => {
  const i = rows.columns.indexOf(name)
  if (i === -1) throw new Error(`the run's rows have no column ${name}`)
  return i
}

/** `rows` with some of their values replaced. */
const withValues = (rows: TableRows, values: Readonly<Record<string, unknown>>): ReadonlyArray<ReadonlyArray<unknown>> => {
  const replaced = Object.entries(values).map(([name, value]) => [columnOf(rows, name), value] as const)
  return rows.rows.map((row) => {
    const copy = [...row]
    for (const [i, value] of replaced) copy[i] = value
    return copy
  })
}

/**
 * The rows of the steps before the run's last: the run as it was created and while it ran, its orders as
 * they were saved (`NEW`, nothing filled) and as they were sent.
 */
const stepsOf = (source: RunRows) => {
  const saved = { status: "NEW", filled_quantity: "0", avg_fill_price: null, commission: "0", reject_reason: null }
  return {
    queued: withValues(source.trade_runs, { status: "queued" }),
    running: withValues(source.trade_runs, { status: "running" }),
    saved: withValues(source.trade_orders, saved),
    sent: withValues(source.trade_orders, { ...saved, status: "SUBMITTED" })
  }
}

/** What the run sets when an order ends, and what it sets when the run ends. */
const ORDER_OUTCOME = ["status", "filled_quantity", "avg_fill_price", "commission", "reject_reason", "updated_at"]
const RUN_STATUS = ["status", "updated_at"]

/**
 * The floor's statements in the order the run makes its writes, each made by a dialect's `insert` (rows
 * into a table) or `update` (the `set` columns of the rows found by their `key` columns).
 */
const inRunOrder = <S>(
  source: RunRows,
  insert: (table: RunTable, rows: ReadonlyArray<ReadonlyArray<unknown>>) => S,
  update: (table: RunTable, set: ReadonlyArray<string>, key: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>) => S
): Array<S> => {
  const steps = stepsOf(source)
  return [
    insert("decision_snapshots", source.decision_snapshots.rows),
    insert("snapshot_items", source.snapshot_items.rows),
    insert("trade_runs", steps.queued),
    insert("trade_run_documents", source.trade_run_documents.rows),
    update("trade_runs", RUN_STATUS, ["id"], steps.running),
    insert("trade_orders", steps.saved),
    update("trade_orders", ["status", "updated_at"], ["run_id", "client_order_id"], steps.sent),
    insert("trade_fills", source.trade_fills.rows),
    update("trade_orders", ORDER_OUTCOME, ["run_id", "client_order_id"], source.trade_orders.rows),
    insert("audit_events", source.audit_events.rows),
    update("trade_runs", RUN_STATUS, ["id"], source.trade_runs.rows),
    update("audit_head", source.audit_head.columns.filter((c) => c !== "id"), ["id"], source.audit_head.rows)
  ]
}

export const floor = async (file: string, source: RunRows): Promise<number> => {
  const schema = ManagedRuntime.make(SqliteLive({ filename: file }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const db = new Database(file)
  // The same settings as SqliteLive's: WAL, synchronous NORMAL.
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  const insert = (table: RunTable, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
    const { columns } = source[table]
    return [db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`), rows] as const
  }
  const update = (table: RunTable, set: ReadonlyArray<string>, key: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
    const at = [...set, ...key].map((c) => columnOf(source[table], c))
    return [
      db.prepare(`UPDATE ${table} SET ${set.map((c) => `${c} = ?`).join(", ")} WHERE ${key.map((c) => `${c} = ?`).join(" AND ")}`),
      rows.map((row) => at.map((i) => row[i]))
    ] as const
  }
  // Made before the timing: what is timed is the statements and their rows.
  const statements = inRunOrder(source, insert, update)

  const start = performance.now()
  db.transaction(() => {
    for (const [statement, rows] of statements) for (const row of rows) statement.run(...row)
  })()
  const ms = performance.now() - start
  db.close()
  return ms
}

/** What the floor needs of `pg`'s client (pg ships no types and the project has no `@types/pg`). */
interface PgConnection {
  connect(): Promise<void>
  query(text: string, values?: ReadonlyArray<unknown>): Promise<{ readonly rows: Array<Record<string, unknown>> }>
  end(): Promise<void>
}

/**
 * The same rows as `floor`, written through `pg` in one transaction into a migrated schema (`url`'s
 * search_path): one statement a table and a step, each column's values passed as one text array through
 * `unnest` and cast to the column's type, as the PostgreSQL repository itself writes its rows. With
 * `readBack`, what the schema then holds is read back (after the timing) for the caller to compare.
 */
export const floorPg = async (
  url: string,
  source: RunRows,
  readBack?: (left: RunRows) => void
): Promise<number> => {
  const schema = ManagedRuntime.make(PgLive({ url }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const pg = createRequire(import.meta.url)("pg") as { Client: new (config: { connectionString: string }) => PgConnection }
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const types = new Map<string, string>()
  const { rows: described } = await db.query(
    "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()"
  )
  for (const c of described) types.set(`${String(c.table_name)}.${String(c.column_name)}`, String(c.data_type))
  const typeOf = (table: string, column: string) => {
    const type = types.get(`${table}.${column}`)
    if (type === undefined) throw new Error(`the schema has no column ${table}.${column}`)
    return type
  }
  /** The rows' values of `names` as one array of text a column: the parameters of `unnested(table, names)`. */
  const arrays = (table: RunTable, names: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>) =>
    names.map((name) => {
      const c = columnOf(source[table], name)
      return rows.map((row) => (row[c] === null || row[c] === undefined ? null : String(row[c])))
    })
  const unnested = (table: RunTable, names: ReadonlyArray<string>) =>
    `SELECT ${names.map((n) => `v.${n}::${typeOf(table, n)}`).join(", ")}
     FROM unnest(${names.map((_, i) => `$${i + 1}::text[]`).join(", ")}) AS v(${names.join(", ")})`
  type Statement = readonly [text: string, values: ReadonlyArray<ReadonlyArray<string | null>>]
  const insert = (table: RunTable, rows: ReadonlyArray<ReadonlyArray<unknown>>): Statement => {
    const { columns } = source[table]
    return [`INSERT INTO ${table} (${columns.join(", ")}) ${unnested(table, columns)}`, arrays(table, columns, rows)] as const
  }
  const update = (table: RunTable, set: ReadonlyArray<string>, key: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): Statement => {
    const names = [...set, ...key]
    return [
      `UPDATE ${table} t SET ${set.map((n) => `${n} = u.${n}`).join(", ")} FROM (${unnested(table, names)}) AS u(${names.join(", ")})
       WHERE ${key.map((n) => `t.${n} = u.${n}`).join(" AND ")}`,
      arrays(table, names, rows)
    ] as const
  }
  // Made before the timing, as the SQLite floor's are: what is timed is the statements and their rows.
  const statements = inRunOrder(source, insert, update)

  const start = performance.now()
  await db.query("BEGIN")
  for (const [text, values] of statements) await db.query(text, values)
  await db.query("COMMIT")
  const ms = performance.now() - start
  if (readBack !== undefined) {
    const left: Partial<Record<RunTable, TableRows>> = {}
    for (const table of RUN_TABLES) {
      const { columns } = source[table]
      const { rows } = await db.query(`SELECT ${columns.join(", ")} FROM ${table}`)
      left[table] = { columns, rows: rows.map((row) => columns.map((c) => row[c])) }
    }
    readBack(left as RunRows)
  }
  await db.end()
  return ms
}
