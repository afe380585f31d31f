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

/** Rows a statement changed, from the driver's result: `changes` (better-sqlite3), `rowCount` (pg). */
const changedRows = (result: unknown): number => {
  const r = result as { readonly changes?: unknown; readonly rowCount?: unknown } | null
  const n = Number(r?.changes ?? r?.rowCount)
  if (!Number.isFinite(n)) throw new TypeError(`the driver reported no count of changed rows: ${String(result)}`)
  return n
}

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

  /** The values of `items[from, to)`, row by row, and then `trailing`, in one flat list. */
  const flatten = <A>(
    items: ReadonlyArray<A>,
    toRow: (item: A, index: number) => ReadonlyArray<unknown>,
    from: number,
    to: number,
    trailing: ReadonlyArray<unknown>
  ) => {
    const out: Array<unknown> = []
    for (let r = from; r < to; r++) {
      const row = toRow(items[r]!, r)
      for (let c = 0; c < row.length; c++) out.push(row[c])
    }
    for (const value of trailing) out.push(value)
    return out
  }

  /**
   * Runs `run(rowCount, params)` over the items in chunks: as many of BATCH_ROWS as fit, then the rest in
   * powers of two. A statement's text is prepared once per connection and row count, and a large one
   * costs milliseconds to prepare: with counts drawn from a handful of sizes, a run of any length
   * prepares each statement at most once, where a remainder of every size would prepare a new one.
   * Rows are made chunk by chunk, so a large run never holds all its rows' values at once.
   */
  const chunked = <A, B>(
    items: ReadonlyArray<A>,
    toRow: (item: A, index: number) => ReadonlyArray<unknown>,
    trailing: ReadonlyArray<unknown>,
    run: (rowCount: number, params: ReadonlyArray<unknown>) => Effect.Effect<B, SqlError>
  ) =>
    Effect.gen(function*() {
      const out: Array<B> = []
      let i = 0
      while (i < items.length) {
        const left = items.length - i
        const count = left >= BATCH_ROWS ? BATCH_ROWS : 2 ** Math.floor(Math.log2(left))
        out.push(yield* run(count, flatten(items, toRow, i, i + count, trailing)))
        i += count
      }
      return out
    })

  return {
    /**
     * `INSERT INTO table (columns) VALUES …` for every item, made a row by `toRow`, in chunks; `suffix` e.g.
     * `ON CONFLICT … DO NOTHING`.
     */
    insert: <A>(
      table: string,
      columns: ReadonlyArray<string>,
      items: ReadonlyArray<A>,
      toRow: (item: A, index: number) => ReadonlyArray<unknown>,
      suffix = ""
    ) =>
      chunked(items, toRow, [], (count, params) =>
        sql.unsafe(
          cached(`insert ${table} ${columns.join(",")} ${count} ${suffix}`, () =>
            `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${tuples(count, columns.length)} ${suffix}`),
          params
        )
      ).pipe(Effect.asVoid),

    /**
     * A statement over `(VALUES …) AS v` (columns `v.column1` …): `head` goes before the values, `tail`
     * after them and may use the placeholders `trailing` names (e.g. `[runId]`), numbered after the rows'.
     * Returns how many rows the statement changed, all chunks together: a count the driver reports, where
     * `RETURNING` would make a row object and a string for every row changed.
     */
    withValues: <I>(
      key: string,
      head: string,
      tail: (placeholder: (i: number) => string) => string,
      columns: number,
      items: ReadonlyArray<I>,
      toRow: (item: I, index: number) => ReadonlyArray<unknown>,
      trailing: ReadonlyArray<unknown>
    ) =>
      Effect.map(
        chunked(items, toRow, trailing, (count, params) => {
          const after = count * columns
          return Effect.map(
            sql.unsafe(
              cached(`${key} ${count}`, () =>
                `${head} (VALUES ${tuples(count, columns)}) AS v ${tail((i) => (pg ? `$${after + i + 1}` : "?"))}`),
              params
            ).raw,
            changedRows
          )
        }),
        (parts) => parts.reduce((a, b) => a + b, 0)
      )
  }
}
