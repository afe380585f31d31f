/**
 * The schema, as embedded migrations applied when a SQL layer is built (`Migrator.fromRecord`, as
 * `@effect/cluster`'s SQL storage does). A database created by an older version is migrated forward;
 * nothing is ever dropped and recreated.
 *
 * Exact decimals are TEXT in SQLite (a NUMERIC column there would turn `1.50` into a binary double) and
 * NUMERIC in PostgreSQL (arbitrary precision, returned as text by the driver). Instants are ISO-8601 text
 * in both, which sorts as time. JSON documents (run params, records, risk verdicts, audit payloads) are
 * canonical JSON text.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

/** The decimal column type of the dialect. */
const decimalType = (sql: SqlClient.SqlClient) => sql.onDialectOrElse({ pg: () => "NUMERIC", orElse: () => "TEXT" })

const initial = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const DEC = decimalType(sql)
  const statements = [
    `CREATE TABLE decision_snapshots (
      id TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('pending', 'success', 'failed')),
      digest TEXT NOT NULL,
      frozen_at TEXT,
      source TEXT,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE snapshot_items (
      snapshot_id TEXT NOT NULL REFERENCES decision_snapshots (id),
      position INTEGER NOT NULL,
      symbol TEXT NOT NULL,
      weight ${DEC} NOT NULL,
      score ${DEC},
      rank INTEGER,
      sector TEXT,
      price ${DEC},
      PRIMARY KEY (snapshot_id, position),
      UNIQUE (snapshot_id, symbol)
    )`,
    `CREATE TABLE trade_runs (
      id TEXT PRIMARY KEY,
      snapshot_id TEXT NOT NULL REFERENCES decision_snapshots (id),
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'blocked')),
      mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
      params TEXT NOT NULL,
      recorded TEXT,
      risk TEXT,
      error TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_expires_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT
    )`,
    `CREATE TABLE trade_orders (
      run_id TEXT NOT NULL REFERENCES trade_runs (id),
      client_order_id TEXT NOT NULL,
      position INTEGER NOT NULL,
      symbol TEXT NOT NULL,
      side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
      quantity ${DEC} NOT NULL,
      order_type TEXT NOT NULL CHECK (order_type IN ('MKT', 'LMT')),
      limit_price ${DEC},
      reference_price ${DEC} NOT NULL,
      current_quantity ${DEC} NOT NULL,
      target_quantity ${DEC} NOT NULL,
      target_weight ${DEC} NOT NULL,
      sector TEXT,
      status TEXT NOT NULL CHECK (status IN ('NEW', 'SUBMITTED', 'PARTIAL', 'FILLED', 'CANCELED', 'REJECTED')),
      filled_quantity ${DEC} NOT NULL,
      avg_fill_price ${DEC},
      commission ${DEC} NOT NULL,
      reject_reason TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (run_id, client_order_id),
      UNIQUE (run_id, position)
    )`,
    `CREATE TABLE trade_fills (
      execution_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      client_order_id TEXT NOT NULL,
      symbol TEXT NOT NULL,
      side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
      quantity ${DEC} NOT NULL,
      price ${DEC} NOT NULL,
      commission ${DEC} NOT NULL,
      time TEXT NOT NULL,
      FOREIGN KEY (run_id, client_order_id) REFERENCES trade_orders (run_id, client_order_id)
    )`,
    `CREATE TABLE audit_events (
      seq INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      type TEXT NOT NULL,
      run_id TEXT,
      payload TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    )`,
    // The chain's head in one row: appending locks it, so concurrent writers chain one after the other.
    `CREATE TABLE audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq INTEGER NOT NULL,
      hash TEXT NOT NULL
    )`,
    `INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${"0".repeat(64)}')`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/** Lookups the flow and the worker make on every run: a run's fills and events, the queue of runs. */
const indexes = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX trade_fills_by_run ON trade_fills (run_id, client_order_id)`
  yield* sql`CREATE INDEX audit_events_by_run ON audit_events (run_id, seq)`
  yield* sql`CREATE INDEX trade_runs_by_status ON trade_runs (status, created_at, id)`
})

/**
 * The paper broker's own book, for a paper account that outlives the process (the CLI, workers): what it
 * received, by client order id, and the cash and positions its fills left. Kept apart from the run tables
 * on purpose: it stands for the broker's side.
 */
const paperBroker = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const DEC = decimalType(sql)
  yield* sql.unsafe(`CREATE TABLE paper_orders (
    client_order_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    fills TEXT NOT NULL,
    reject_reason TEXT,
    received_at TEXT NOT NULL
  )`)
  yield* sql.unsafe(`CREATE TABLE paper_account (id INTEGER PRIMARY KEY CHECK (id = 1), cash ${DEC} NOT NULL)`)
  yield* sql.unsafe(`CREATE TABLE paper_positions (symbol TEXT PRIMARY KEY, quantity ${DEC} NOT NULL)`)
})

/**
 * A run's documents (its params, the record it built from, its risk verdict) move to a table of their own.
 * They run to hundreds of kilobytes for a large decision, and a database rewrites a whole row to change
 * any column of it: the run's status, its lease, its timestamps change many times per run.
 */
const runDocuments = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE trade_run_documents (
    run_id TEXT PRIMARY KEY REFERENCES trade_runs (id),
    params TEXT NOT NULL,
    recorded TEXT,
    risk TEXT
  )`
  yield* sql`INSERT INTO trade_run_documents (run_id, params, recorded, risk) SELECT id, params, recorded, risk FROM trade_runs`
  for (const column of ["params", "recorded", "risk"]) yield* sql.unsafe(`ALTER TABLE trade_runs DROP COLUMN ${column}`)
})

/**
 * PostgreSQL: room on each page of orders for their updated versions. Every order is updated twice
 * (submitted, filled) in columns no index covers; with full pages each update also writes new entries in
 * both of the table's indexes, with half-full ones PostgreSQL updates in place on the page (a "HOT"
 * update). Measured at 50,000 orders: 70 µs -> 49 µs per update, every one of them HOT. Pages written
 * before this stay as they were. SQLite updates rows in place and has no such setting.
 */
const orderFillfactor = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () => sql`ALTER TABLE trade_orders SET (fillfactor = 50)`,
    orElse: () => Effect.void
  })
})

/**
 * A run that follows its orders: when its next check is due (a running run with working orders, nobody
 * holding it), and when someone asked for its working orders to be canceled.
 */
const runFollowing = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE trade_runs ADD COLUMN next_check_at TEXT`
  yield* sql`ALTER TABLE trade_runs ADD COLUMN cancel_requested_at TEXT`
})

/**
 * The paper broker keeps limit orders working until the market reaches them: the quote an order last
 * traded against, so that one quote fills it once.
 */
const paperWorkingOrders = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE paper_orders ADD COLUMN last_traded_on TEXT`
})

/**
 * The audit chain's key, once it has one: from which event on it is keyed, and a check value (an HMAC of
 * that number under the key, never the key) that tells a verifier whether the key it holds is the chain's.
 * Both empty on a chain without a key, as every chain written before this was: those stay verifiable as
 * they are.
 */
const auditKey = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE audit_head ADD COLUMN keyed_from INTEGER`
  yield* sql`ALTER TABLE audit_head ADD COLUMN key_check TEXT`
})

/**
 * When each fill was recorded (its `time` is when the venue made it): a fill `reconcile` records for a run
 * that failed with orders working comes long after the run ended, and a dry run built in between was sized
 * without it. Empty for fills recorded before this.
 */
const fillRecordedAt = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE trade_fills ADD COLUMN recorded_at TEXT`
})

export const migrations = {
  "1_initial": initial,
  "2_indexes": indexes,
  "3_paper_broker": paperBroker,
  "4_run_documents": runDocuments,
  "5_order_fillfactor": orderFillfactor,
  "6_run_following": runFollowing,
  "7_paper_working_orders": paperWorkingOrders,
  "8_audit_key": auditKey,
  "9_fill_recorded_at": fillRecordedAt
} as const

export const MIGRATIONS_TABLE = "trade_execution_migrations"

/**
 * Serializes the first start of several workers on one PostgreSQL database. The Migrator locks its table
 * once the table exists, but creates it by trying to read it first: two workers on an empty schema both
 * find it missing and one fails creating it. An advisory lock held to the end of the migration's
 * transaction, and the table created under it, leave one worker migrating while the others wait and
 * then find nothing to do.
 */
const FIRST_START_LOCK = 7240317002

/** Applies the migrations this version knows (all by default), forward only. */
export const migrate = (upTo: number = Number.POSITIVE_INFINITY) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const migrator = Migrator.make({})({
      loader: Migrator.fromRecord(
        Object.fromEntries(Object.entries(migrations).filter(([key]) => Number(key.split("_")[0]) <= upTo))
      ),
      table: MIGRATIONS_TABLE
    })
    return yield* sql.onDialectOrElse({
      pg: () =>
        sql.withTransaction(
          sql`SELECT pg_advisory_xact_lock(${FIRST_START_LOCK})`.pipe(
            // The Migrator's own definition of its table, so that it finds the table and goes on as usual.
            Effect.zipRight(sql`CREATE TABLE IF NOT EXISTS ${sql(MIGRATIONS_TABLE)} (
              migration_id integer primary key,
              created_at timestamp with time zone not null default now(),
              name text not null
            )`),
            Effect.zipRight(migrator)
          )
        ),
      orElse: () => migrator
    })
  })
