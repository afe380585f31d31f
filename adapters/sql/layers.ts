/**
 * The durable layers: `SqliteLive` (the embedded default: one file, WAL, a busy timeout, safe for several
 * processes) and `PgLive` (one database shared by many workers). Building either opens the database,
 * applies the embedded migrations, and provides `TradeRepository`, `AuditLog` and the `SqlClient`.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import type { ConfigError } from "effect/ConfigError"
import { AuditLog, auditKeyConfig } from "../../src/ports/AuditLog.js"
import { RepositoryError } from "../../src/ports/errors.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { migrate } from "./migrations.js"
import * as SqlAuditLog from "./SqlAuditLog.js"
import * as SqlTradeRepository from "./SqlTradeRepository.js"

export type Storage = TradeRepository | AuditLog | SqlClient.SqlClient

const describe = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "object" && cause !== null && "message" in cause
    ? String(cause.message)
    : String(cause)

/** Migrates, then builds the repository and the audit log over the SqlClient in context. */
const storage = (where: string, auditKey: Redacted.Redacted<string> | undefined) =>
  Layer.effectContext(Effect.gen(function*() {
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
  /** Opens the file read-only (for reports); every write is then a RepositoryError. */
  readonly readonly?: boolean
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

const sqliteClient = (options: SqliteOptions) =>
  Layer.scopedContext(Effect.gen(function*() {
    // better-sqlite3 throws when it cannot open or set up the file: that is bad input, not a crash.
    const client = yield* SqliteClient.make({ filename: options.filename, readonly: options.readonly ?? false }).pipe(
      Effect.catchAllDefect((cause) =>
        Effect.fail(new RepositoryError({
          operation: "open",
          reason: `cannot open SQLite database ${options.filename}: ${describe(cause)}`,
          cause
        }))
      )
    )
    yield* Effect.all([
      client`PRAGMA busy_timeout = ${client.literal(String(options.busyTimeoutMillis ?? 10_000))}`,
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
  /** The audit chain's key (HMAC-SHA-256); see `AuditLog`. */
  readonly auditKey?: Redacted.Redacted<string> | undefined
}

/** A PostgreSQL database shared by several workers. */
export const PgLive = (options: PgOptions): Layer.Layer<Storage, RepositoryError> =>
  storage(`PostgreSQL database ${redactUrl(options.url)}`, options.auditKey).pipe(
    Layer.provideMerge(
      PgClient.layer({
        url: Redacted.make(options.url),
        ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
        applicationName: "trade-execution"
      }).pipe(
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

/**
 * The storage a `--db` value names, its audit chain keyed with `TRADE_EXEC_AUDIT_KEY` when that is set
 * (read, and refused when malformed, before the database is opened).
 */
export const DatabaseLive = (target: string): Layer.Layer<Storage, RepositoryError | ConfigError> =>
  Layer.unwrapEffect(Effect.map(auditKeyConfig, (auditKey) =>
    isPostgresUrl(target) ? PgLive({ url: target, auditKey }) : SqliteLive({ filename: target, auditKey })))

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
