/**
 * Multi-row statements with their text built once per shape (table, columns, row count) and their values
 * passed as one flat list. A large run writes tens of thousands of rows; going through the statement
 * builder row object by row object costs more than the database does. Placeholders are the dialect's own
 * (`?` for SQLite, `$n` for PostgreSQL), the one thing that differs.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { BATCH_ROWS, isPostgres } from "./support.js"

export const make = (sql: SqlClient.SqlClient) => {
  const pg = isPostgres(sql)
  const texts = new Map<string, string>()

  /** `(?, ?), (?, ?)` or `($1, $2), ($3, $4)`, from placeholder number `first`. */
  const tuples = (rows: number, columns: number, first = 1) => {
    const out: Array<string> = []
    let n = first
    for (let r = 0; r < rows; r++) {
      const cells: Array<string> = []
      for (let c = 0; c < columns; c++) cells.push(pg ? `$${n++}` : "?")
      out.push(`(${cells.join(", ")})`)
    }
    return out.join(", ")
  }

  const cached = (key: string, build: () => string) => {
    let text = texts.get(key)
    if (text === undefined) {
      text = build()
      texts.set(key, text)
    }
    return text
  }

  /** The values of `rows[from, to)` and then `trailing`, in one flat list. */
  const flatten = (rows: ReadonlyArray<ReadonlyArray<unknown>>, from: number, to: number, trailing: ReadonlyArray<unknown>) => {
    const out: Array<unknown> = []
    for (let r = from; r < to; r++) {
      const row = rows[r]!
      for (let c = 0; c < row.length; c++) out.push(row[c])
    }
    for (const value of trailing) out.push(value)
    return out
  }

  /** Runs `run(rowCount, params)` for each chunk of at most BATCH_ROWS rows. */
  const chunked = <A>(
    rows: ReadonlyArray<ReadonlyArray<unknown>>,
    trailing: ReadonlyArray<unknown>,
    run: (rowCount: number, params: ReadonlyArray<unknown>) => Effect.Effect<A, SqlError>
  ) =>
    Effect.gen(function*() {
      const out: Array<A> = []
      for (let i = 0; i < rows.length; i += BATCH_ROWS) {
        const end = Math.min(rows.length, i + BATCH_ROWS)
        out.push(yield* run(end - i, flatten(rows, i, end, trailing)))
      }
      return out
    })

  return {
    /** `INSERT INTO table (columns) VALUES …` for every row, in chunks; `suffix` e.g. `ON CONFLICT … DO NOTHING`. */
    insert: (table: string, columns: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>, suffix = "") =>
      chunked(rows, [], (count, params) =>
        sql.unsafe(
          cached(`insert ${table} ${columns.join(",")} ${count} ${suffix}`, () =>
            `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${tuples(count, columns.length)} ${suffix}`),
          params
        )
      ).pipe(Effect.asVoid),

    /**
     * A statement over `(VALUES …) AS v` (columns `v.column1` …): `head` goes before the values, `tail`
     * after them and may use the placeholders `trailing` names (e.g. `[runId]`), numbered after the rows'.
     * Returns the rows the statement returns, all chunks together.
     */
    withValues: <A extends object>(
      key: string,
      head: string,
      tail: (placeholder: (i: number) => string) => string,
      rows: ReadonlyArray<ReadonlyArray<unknown>>,
      trailing: ReadonlyArray<unknown>
    ) =>
      Effect.map(
        chunked(rows, trailing, (count, params) => {
          const columns = rows[0]!.length
          const after = count * columns
          return sql.unsafe<A>(
            cached(`${key} ${count}`, () =>
              `${head} (VALUES ${tuples(count, columns)}) AS v ${tail((i) => (pg ? `$${after + i + 1}` : "?"))}`),
            params
          )
        }),
        (parts) => parts.flat()
      )
  }
}
