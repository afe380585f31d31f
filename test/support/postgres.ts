/**
 * The PostgreSQL the tests use: `TRADE_EXEC_TEST_PG_URL`, by default the local server's `test` database.
 * With `CI` set the PostgreSQL suites must run, so an unreachable server fails them; elsewhere they are
 * skipped with the reason printed. Each suite gets a schema of its own, so suites running in parallel and
 * earlier runs never see each other's rows.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import { describe } from "@effect/vitest"
import { Effect, Redacted } from "effect"

export const pgUrl = process.env.TRADE_EXEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const withAdmin = <A, E>(f: (sql: PgClient.PgClient) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(PgClient.make({ url: Redacted.make(pgUrl), connectTimeout: "3 seconds" }), f)
    ).pipe(Effect.provide(Reactivity.layer))
  )

const probe = await withAdmin((sql) => sql`SELECT 1 AS ok`).then(
  () => undefined,
  (error: unknown) => String((error as { message?: unknown })?.message ?? error)
)

export const pgAvailable = probe === undefined

/** `describe` for suites that need PostgreSQL. */
export const describePg: typeof describe = ((name: string, fn: () => void) => {
  if (pgAvailable || process.env.CI) return describe(name, fn)
  console.warn(`skipping "${name}": PostgreSQL at ${pgUrl} is unreachable (${probe}); set TRADE_EXEC_TEST_PG_URL or start a server`)
  return describe.skip(name, fn)
}) as typeof describe

/** A new empty schema, and the URL that makes it the search path. */
export const freshSchema = async (
  prefix = "te"
): Promise<{ readonly name: string; readonly url: string; readonly drop: () => Promise<void> }> => {
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`
  await withAdmin((sql) => sql.unsafe(`CREATE SCHEMA ${schema}`))
  const separator = pgUrl.includes("?") ? "&" : "?"
  return {
    name: schema,
    url: `${pgUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => withAdmin((sql) => sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined)
  }
}
