/**
 * The durable layers: `SqliteLive` (the embedded default: one file, WAL, a busy timeout, safe for several
 * processes) and `PgLive` (one database shared by many workers). Building either opens the database,
 * applies the embedded migrations, and provides `TradeRepository`, `AuditLog` and the `SqlClient`.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from "node:fs"
import { dirname, resolve } from "node:path"
import type { ConfigError } from "effect/ConfigError"
import { AuditLog, auditKeyConfig } from "../../src/ports/AuditLog.js"
import { RepositoryError } from "../../src/ports/errors.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { migrate, MIGRATIONS_TABLE } from "./migrations.js"
import * as SqlAuditLog from "./SqlAuditLog.js"
import * as SqlTradeRepository from "./SqlTradeRepository.js"
import { isPostgres } from "./support.js"

export type Storage = TradeRepository | AuditLog | SqlClient.SqlClient

// The drivers are loaded when a database of their kind is opened, not with this module: a SQLite run has no
// use for pg (whose loading also starts Node's fetch implementation), and `--version` or `--help` for
// neither, nor for better-sqlite3's native binding.
const sqliteDriver = Effect.promise(() => import("@effect/sql-sqlite-node/SqliteClient"))
const pgDriver = Effect.promise(() => import("@effect/sql-pg/PgClient"))

const describe = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "object" && cause !== null && "message" in cause
    ? String(cause.message)
    : String(cause)

/**
 * Refuses a database that is not trade-exec's to use: one that holds tables but not trade-exec's
 * migrations table belongs to another application (or another version of the schema under the same
 * names), and migrating it would add a dozen tables to it, or fail half-way on a table of the same name
 * and another shape. An empty database, or one trade-exec made, passes.
 */
const refuseForeign = (where: string, tables: ReadonlyArray<{ readonly name: string }>): Effect.Effect<void, RepositoryError> => {
  const names = tables.map((t) => t.name)
  if (names.length === 0 || names.includes(MIGRATIONS_TABLE)) return Effect.void
  const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")}, …` : names.join(", ")
  return Effect.fail(new RepositoryError({
    operation: "open",
    reason: `${where} holds tables of another application (${shown}) and none of trade-exec's; it was left as it is: ` +
      "give trade-exec a database of its own (an empty one is set up)"
  }))
}

const openError = (where: string) => (e: SqlError) =>
  Effect.fail(new RepositoryError({ operation: "open", reason: `${where}: ${describe(e)}`, cause: e }))

/**
 * PostgreSQL: the schema `search_path` selects must exist (tables would otherwise go nowhere, or to a
 * schema the user did not name), and be empty or trade-exec's. SQLite files are looked at before they
 * are opened for writing (`sqliteClient`), since opening one already changes it (to WAL).
 */
const ownDatabase = (where: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (!isPostgres(sql)) return
    const [current] = yield* sql<{ schema: string | null; path: string }>`SELECT current_schema() AS schema,
      current_setting('search_path') AS path`
    if (current?.schema == null) {
      return yield* new RepositoryError({
        operation: "open",
        reason: `${where}: no schema of its search_path (${current?.path ?? ""}) exists; create it, or name one that does`
      })
    }
    const tables = yield* sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = ${current.schema} ORDER BY table_name`
    yield* refuseForeign(where, tables)
  }).pipe(Effect.catchTag("SqlError", openError(where)))

/** Migrates, then builds the repository and the audit log over the SqlClient in context. */
const storage = (where: string, auditKey: Redacted.Redacted<string> | undefined) =>
  Layer.effectContext(Effect.gen(function*() {
    yield* ownDatabase(where)
    yield* migrate().pipe(
      Effect.mapError((e) => new RepositoryError({ operation: "migrate", reason: `${where}: ${describe(e)}`, cause: e }))
    )
    const repository = yield* SqlTradeRepository.make
    const audit = yield* SqlAuditLog.make({ key: auditKey })
    return Context.make(TradeRepository, repository).pipe(Context.add(AuditLog, audit))
  }))

export interface SqliteOptions {
  readonly filename: string
  /** How long a writer waits for another process's transaction before giving up. Default 10 s. */
  readonly busyTimeoutMillis?: number
  /**
   * Opens the file read-only (for reports); every write is then a RepositoryError. `"if-unwritable"`: only
   * when the file (or its directory) cannot be written, which otherwise refuses it. Either way a file that
   * cannot be written is never opened for writing: SQLite would open it, leave `-wal` and `-shm` files
   * beside it, and fail at the first write.
   */
  readonly readonly?: boolean | "if-unwritable"
  /** Refuses a file that does not exist instead of creating it (for commands about runs already there). */
  readonly mustExist?: boolean
  /**
   * `NORMAL` (default): with WAL, a commit survives the process being killed but not the machine losing
   * power, where the last commits may roll back; after such a loss a run resumes from an earlier point
   * and its orders are sent again, which providers answer from the orders they already have (they are
   * idempotent per client order id). `FULL` also syncs every commit to disk, at a few milliseconds each.
   */
  readonly synchronous?: "NORMAL" | "FULL"
  /** The audit chain's key (HMAC-SHA-256); see `AuditLog`. */
  readonly auditKey?: Redacted.Redacted<string> | undefined
}

const busyTimeout = (options: SqliteOptions): number => options.busyTimeoutMillis ?? 10_000

/** True when this process may write `path`. */
const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** Whether a SQLite file is in WAL mode: its header's write and read versions (bytes 18 and 19) are 2. */
const inWalMode = (path: string): boolean => {
  try {
    const fd = openSync(path, "r")
    try {
      const header = Buffer.alloc(20)
      return readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2 && header[19] === 2
    } finally {
      closeSync(fd)
    }
  } catch {
    return false
  }
}

/** A SQLite file name that is not a file of the file system: SQLite's in-memory and temporary databases. */
const isFile = (filename: string): boolean => filename !== "" && filename !== ":memory:" && !filename.startsWith("file:")

/** Whether to open the file read-only, or why it cannot be opened at all. */
const access = (options: SqliteOptions): Effect.Effect<boolean, RepositoryError> =>
  Effect.suspend(() => {
    const refuse = (reason: string) =>
      Effect.fail(new RepositoryError({ operation: "open", reason: `SQLite database ${options.filename} ${reason}` }))
    if (!isFile(options.filename)) return Effect.succeed(options.readonly === true)
    if (!existsSync(options.filename)) {
      return options.mustExist === true ? refuse("does not exist (nothing was created)") : Effect.succeed(options.readonly === true)
    }
    if (options.readonly === true) return Effect.succeed(true)
    // Its -wal and -shm files are made beside it: the directory must be writable too.
    const directoryWritable = writable(dirname(resolve(options.filename)))
    if (writable(options.filename) && directoryWritable) return Effect.succeed(false)
    if (options.readonly !== "if-unwritable") return refuse("is read-only (the file or its directory cannot be written); nothing was written")
    // Even to read a WAL file, SQLite needs its -shm file beside it, which it cannot make here.
    return !directoryWritable && inWalMode(options.filename) && !existsSync(`${options.filename}-shm`)
      ? refuse("is in WAL mode and its directory cannot be written: SQLite needs to make its -shm file beside it even to read it; make the directory writable, or copy the file into one that is")
      : Effect.succeed(true)
  })

/** The tables of an existing SQLite file, read without changing it (no WAL switch, no -wal or -shm). */
const sqliteTables = (filename: string, busyTimeoutMillis: number) =>
  Effect.scoped(Effect.gen(function*() {
    const SqliteClient = yield* sqliteDriver
    const probe = yield* SqliteClient.make({ filename, readonly: true, disableWAL: true })
    // Another process may be checkpointing the file as it closes: waited for, as a writer would be.
    yield* probe`PRAGMA busy_timeout = ${probe.literal(String(busyTimeoutMillis))}`
    return yield* probe<{ name: string }>`SELECT name FROM sqlite_master
      WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`
  })).pipe(
    Effect.catchAllDefect((cause) =>
      Effect.fail(new RepositoryError({ operation: "open", reason: `cannot open SQLite database ${filename}: ${describe(cause)}`, cause }))
    ),
    Effect.catchTag("SqlError", openError(`SQLite database ${filename}`))
  )

const sqliteClient = (options: SqliteOptions) =>
  Layer.scopedContext(Effect.gen(function*() {
    const readonly = yield* access(options)
    if (isFile(options.filename) && existsSync(options.filename)) {
      yield* refuseForeign(`SQLite database ${options.filename}`, yield* sqliteTables(options.filename, busyTimeout(options)))
    }
    const SqliteClient = yield* sqliteDriver
    // better-sqlite3 throws when it cannot open or set up the file: that is bad input, not a crash.
    const client = yield* SqliteClient.make({ filename: options.filename, readonly }).pipe(
      Effect.catchAllDefect((cause) =>
        Effect.fail(new RepositoryError({
          operation: "open",
          reason: `cannot open SQLite database ${options.filename}: ${describe(cause)}`,
          cause
        }))
      )
    )
    yield* Effect.all([
      client`PRAGMA busy_timeout = ${client.literal(String(busyTimeout(options)))}`,
      client`PRAGMA foreign_keys = ON`,
      client`PRAGMA synchronous = ${client.literal(options.synchronous ?? "NORMAL")}`
    ]).pipe(
      Effect.mapError((e) =>
        new RepositoryError({ operation: "open", reason: `cannot set up SQLite database ${options.filename}: ${describe(e.cause ?? e)}`, cause: e })
      )
    )
    return Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
  })).pipe(Layer.provide(Reactivity.layer))

/** The embedded default: a SQLite file, created and migrated when missing. */
export const SqliteLive = (options: SqliteOptions): Layer.Layer<Storage, RepositoryError> =>
  storage(`SQLite database ${options.filename}`, options.auditKey).pipe(Layer.provideMerge(sqliteClient(options)))

export interface PgOptions {
  /** `postgres://user@host:5432/database` */
  readonly url: string
  readonly maxConnections?: number
  /**
   * How long a statement waits for a lock another session holds before giving up (PostgreSQL's
   * `lock_timeout`), as SQLite's busy timeout does: the command then ends "locked" (exit 5), nothing
   * written, instead of waiting forever behind a stuck session. Default 10 s; a URL that sets
   * `lock_timeout` in its `options` keeps its own.
   */
  readonly lockTimeoutMillis?: number
  /** The audit chain's key (HMAC-SHA-256); see `AuditLog`. */
  readonly auditKey?: Redacted.Redacted<string> | undefined
}

/** The URL with `-c lock_timeout=…` added to the options the server is started with, unless it sets its own. */
export const withLockTimeout = (url: string, millis: number): string => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url // the driver names what is wrong with it
  }
  const given = parsed.searchParams.get("options") ?? ""
  if (/\block_timeout\b/.test(given)) return url
  parsed.searchParams.set("options", `${given === "" ? "" : `${given} `}-c lock_timeout=${Math.round(millis)}`)
  return parsed.toString()
}

/** A PostgreSQL database shared by several workers. */
export const PgLive = (options: PgOptions): Layer.Layer<Storage, RepositoryError> =>
  storage(`PostgreSQL database ${redactUrl(options.url)}`, options.auditKey).pipe(
    Layer.provideMerge(
      Layer.unwrapEffect(Effect.map(pgDriver, (PgClient) =>
        PgClient.layer({
          url: Redacted.make(withLockTimeout(options.url, options.lockTimeoutMillis ?? 10_000)),
          ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
          applicationName: "trade-execution"
        }))).pipe(
        Layer.mapError((e) =>
          new RepositoryError({
            operation: "open",
            reason: `cannot connect to PostgreSQL ${redactUrl(options.url)}: ${describe(e.cause ?? e)}`,
            cause: e
          })
        )
      )
    )
  )

/** The URL without its password, for messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")

/** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite file name. */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target)

/** How a command uses the database it names. */
export interface DatabaseUse {
  /** Only about runs already there: a SQLite file that does not exist is refused, not created. */
  readonly existing?: boolean
  /** Only reads: a SQLite file that cannot be written is opened read-only instead of refused. */
  readonly readsOnly?: boolean
}

/** A command that only looks at runs already there: it never creates a database, nor writes one. */
export const READ_EXISTING: DatabaseUse = { existing: true, readsOnly: true }

/**
 * The storage a `--db` value names, its audit chain keyed with `TRADE_EXEC_AUDIT_KEY` when that is set
 * (read, and refused when malformed, before the database is opened).
 */
export const DatabaseLive = (target: string, use: DatabaseUse = {}): Layer.Layer<Storage, RepositoryError | ConfigError> =>
  Layer.unwrapEffect(Effect.map(auditKeyConfig, (auditKey) =>
    isPostgresUrl(target) ? PgLive({ url: target, auditKey }) : SqliteLive({
      filename: target,
      auditKey,
      ...(use.existing === true ? { mustExist: true } : {}),
      ...(use.readsOnly === true ? { readonly: "if-unwritable" as const } : {})
    })))

/**
 * Storage from the environment: `TRADE_EXEC_DB` (a SQLite file or a PostgreSQL URL), default
 * `./trade-exec.db`; `TRADE_EXEC_AUDIT_KEY`.
 */
export const layerConfig: Layer.Layer<Storage, RepositoryError | ConfigError> = Layer.unwrapEffect(
  Effect.map(Config.string("TRADE_EXEC_DB").pipe(Config.withDefault("trade-exec.db")), DatabaseLive)
)

/**
 * `SqliteLive` configured from `TRADE_EXEC_SQLITE_FILE` (default `./trade-exec.db`),
 * `TRADE_EXEC_SQLITE_SYNCHRONOUS` (`NORMAL` or `FULL`, default `NORMAL`) and `TRADE_EXEC_AUDIT_KEY`.
 */
export const SqliteLiveConfig: Layer.Layer<Storage, RepositoryError | ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      filename: Config.string("TRADE_EXEC_SQLITE_FILE").pipe(Config.withDefault("trade-exec.db")),
      synchronous: Config.literal("NORMAL", "FULL")("TRADE_EXEC_SQLITE_SYNCHRONOUS").pipe(Config.withDefault("NORMAL" as const)),
      auditKey: auditKeyConfig
    }),
    SqliteLive
  )
)

/** `PgLive` configured from `TRADE_EXEC_PG_URL` and `TRADE_EXEC_AUDIT_KEY`. */
export const PgLiveConfig: Layer.Layer<Storage, RepositoryError | ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({ url: Config.redacted("TRADE_EXEC_PG_URL"), auditKey: auditKeyConfig }),
    ({ url, auditKey }) => PgLive({ url: Redacted.value(url), auditKey })
  )
)
