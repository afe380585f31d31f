/**
 * What the SQL adapters share: one transaction discipline per dialect, SqlError → RepositoryError, and
 * batching under the drivers' parameter limits.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Predicate, Scope } from "effect"
import { chunks as chunksOf } from "../../src/internal/chunks.js"
import { RepositoryError } from "../../src/ports/errors.js"

/**
 * Rows per multi-row statement: ~20 columns × 256 stays far below SQLite's and PostgreSQL's limits on
 * parameters, and SQLite executes a statement of a few hundred rows faster per row than one of more.
 */
export const BATCH_ROWS = 256

/** Slices of at most BATCH_ROWS rows. */
export const chunks = <A>(items: ReadonlyArray<A>, size = BATCH_ROWS) => chunksOf(items, size)

const codeOf = (error: SqlError): string | undefined => {
  const code = (error.cause as { readonly code?: unknown } | undefined)?.code
  return typeof code === "string" ? code : undefined
}

const describe = (error: SqlError): string => {
  const cause = error.cause as { readonly message?: unknown } | undefined
  const detail = typeof cause?.message === "string" ? cause.message : error.message
  const code = codeOf(error)
  return code === undefined ? detail : `${detail} (${code})`
}

/**
 * Another process held the database longer than we wait: SQLite's busy timeout ran out (SQLITE_BUSY, or
 * SQLITE_BUSY_SNAPSHOT and the like), or PostgreSQL's lock timeout (55P03).
 */
export const isLocked = (error: SqlError): boolean => {
  const code = codeOf(error)
  return code !== undefined && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || code === "55P03")
}

/** Names the operation that failed and why, keeping the driver's error as the cause. */
const repositoryError = (operation: string, error: SqlError): RepositoryError =>
  isLocked(error)
    ? new RepositoryError({
      operation,
      reason: `the database is locked by another process, which held it longer than this one waits (SQLite's busy timeout, PostgreSQL's lock timeout); nothing was written, try again (${describe(error)})`,
      locked: true,
      cause: error
    })
    : new RepositoryError({ operation, reason: describe(error), cause: error })

const isSqlError = (error: unknown): error is SqlError => Predicate.isTagged(error, "SqlError")

/**
 * The one way the SQL repository and audit log report their driver's failures, in the style of
 * @effect/cluster's `PersistenceError.refail`: every `SqlError` of `effect` (caught by its tag, commit and
 * rollback failures included once `transactionOf` has made them failures) becomes the `RepositoryError`
 * naming `operation`, a lock held too long by another process marked `locked`; other errors pass as
 * they are. Here, not on `RepositoryError`: the core does not know the drivers' error codes.
 */
export const refail = (operation: string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError> | RepositoryError, R> =>
  Effect.mapError(effect, (error) => (isSqlError(error) ? repositoryError(operation, error) : error)) as Effect.Effect<
    A,
    Exclude<E, SqlError> | RepositoryError,
    R
  >

export const isPostgres = (sql: SqlClient.SqlClient): boolean => sql.onDialectOrElse({ pg: () => true, orElse: () => false })

/**
 * The transaction of the dialect. SQLite starts with `BEGIN IMMEDIATE`: a deferred transaction that reads
 * and then writes can fail at once with SQLITE_BUSY when another process wrote in between, where an
 * immediate one waits for the busy timeout instead. PostgreSQL uses the client's own transactions
 * (row locks and `FOR UPDATE` do the serializing).
 */
export const transactionOf = (sql: SqlClient.SqlClient) => {
  const run = isPostgres(sql) ? sql.withTransaction : immediate(sql)
  // A COMMIT or ROLLBACK that fails (the connection dropped mid-transaction) is a defect in @effect/sql;
  // here it is what it is, a storage failure the caller can handle.
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    Effect.catchSomeDefect(run(effect), (defect) =>
      defect instanceof SqlError ? Option.some(Effect.fail(defect)) : Option.none())
}

const immediate = (sql: SqlClient.SqlClient) =>
  SqlClient.makeWithTransaction({
      transactionTag: SqlClient.TransactionConnection,
      spanAttributes: [["db.system.name", "sqlite"]],
      acquireConnection: Effect.flatMap(Scope.make(), (scope) =>
        Effect.map(Scope.extend(sql.reserve, scope), (conn) => [scope, conn] as const)),
      begin: (conn) => conn.executeUnprepared("BEGIN IMMEDIATE", [], undefined),
      savepoint: (conn, id) => conn.executeUnprepared(`SAVEPOINT effect_sql_${id}`, [], undefined),
      commit: (conn) => conn.executeUnprepared("COMMIT", [], undefined),
      // A BEGIN that failed (the busy timeout ran out) leaves no transaction to roll back: the error
      // that says so would replace the one that matters, the lock.
      rollback: (conn) =>
        conn.executeUnprepared("ROLLBACK", [], undefined).pipe(
          Effect.catchIf((e) => /no transaction is active/.test(describe(e)), () => Effect.succeed([]))
        ),
      rollbackSavepoint: (conn, id) => conn.executeUnprepared(`ROLLBACK TO SAVEPOINT effect_sql_${id}`, [], undefined)
    })
