/**
 * Statements over many rows, with their text built once per shape. A large run writes tens of thousands
 * of rows; going through the statement builder row object by row object costs more than the database
 * does. The two dialects take rows differently, each the way it executes fastest:
 *
 * - SQLite: multi-row `VALUES` lists with `?` placeholders, a flat list of values.
 * - PostgreSQL: one array parameter per column, spread into rows by `unnest` — one short statement text
 *   for any number of rows. A `VALUES` list of a few hundred rows is parsed and planned on every
 *   execution, and against a large table the planner turns the update join into a scan: at 50,000
 *   orders that was 200 µs a row, against 40 µs for `unnest` at any size (measured).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { yieldToHost } from "../../src/internal/yieldToHost.js"
import { BATCH_ROWS, isPostgres } from "./support.js"

/** Appends the values of one row, in the columns' order, to `out`. */
export type Write<A> = (out: Array<unknown>, item: A, index: number) => void

/** A column and how PostgreSQL casts its text: `text` (as is), `integer`, `numeric`. */
export type Column = readonly [name: string, type: "text" | "integer" | "numeric"]

/** Rows per PostgreSQL statement: the arrays of one statement stay a few megabytes at most. */
const PG_BATCH_ROWS = 5000

/**
 * On SQLite the host's event loop gets a turn after every this many rows of one write (16 statements,
 * tens of milliseconds): its driver is synchronous, and saving the 48,229 orders of a 50,000-name run
 * in their one transaction otherwise held the thread for a second (Ctrl-C waited for it). A turn costs
 * what the host does in it; PostgreSQL's statements wait on I/O, which gives the host its turns anyway.
 */
const SQLITE_ROWS_BETWEEN_TURNS = 4096

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

  /**
   * `(?, @c1), (?, @c1)`: SQLite's placeholders for `rows` rows of `columns` values, a column the chunk
   * shares (`shared[c]`) named `@c<c>` in every row.
   */
  const tuples = (rows: number, columns: number, shared: ReadonlyArray<boolean>) => {
    const row = `(${Array.from({ length: columns }, (_, c) => (shared[c] === true ? `@c${c}` : "?")).join(", ")})`
    return Array.from({ length: rows }, () => row).join(", ")
  }

  /** `unnest($1::text[], …) AS v(a, …)`: PostgreSQL's rows from one text array per column. */
  const unnest = (names: ReadonlyArray<string>) =>
    `unnest(${names.map((_, i) => `$${i + 1}::text[]`).join(", ")}) AS v(${names.join(", ")})`

  const cached = (key: string, build: () => string) => {
    let text = texts.get(key)
    if (text === undefined) {
      text = build()
      texts.set(key, text)
    }
    return text
  }

  /**
   * SQLite: the values of `items[from, to)`, row by row, then `trailing`; a column whose value is the same in
   * every row of the chunk (the run's id, the moment of the write, a status all the rows share) is bound
   * once, by name, in an object after them (`shared` marks those columns, `key` says which they are, for the
   * statement's text). Binding a value costs about as much as storing it: a fifth to two fifths of a row's
   * values are such, and a chunk of 256 rows was ~25% faster so.
   */
  const flatten = <A>(
    items: ReadonlyArray<A>,
    write: Write<A>,
    columns: number,
    from: number,
    to: number,
    trailing: ReadonlyArray<unknown>
  ): { readonly values: Array<unknown>; readonly shared: ReadonlyArray<boolean>; readonly key: string } => {
    const flat: Array<unknown> = []
    for (let r = from; r < to; r++) write(flat, items[r]!, r)
    const rows = to - from
    const shared: Array<boolean> = []
    const named: Record<string, unknown> = {}
    let key = ""
    for (let c = 0; c < columns; c++) {
      const value = flat[c]
      let same = rows > 1
      for (let i = c + columns; same && i < flat.length; i += columns) same = flat[i] === value
      shared.push(same)
      key += same ? "1" : "0"
      if (same) named[`c${c}`] = value
    }
    if (!key.includes("1")) {
      for (const value of trailing) flat.push(value)
      return { values: flat, shared, key }
    }
    const kept: Array<number> = []
    for (let c = 0; c < columns; c++) if (!shared[c]) kept.push(c)
    const values: Array<unknown> = []
    for (let row = 0; row < flat.length; row += columns) {
      for (let k = 0; k < kept.length; k++) values.push(flat[row + kept[k]!])
    }
    for (const value of trailing) values.push(value)
    values.push(named)
    return { values, shared, key }
  }

  /**
   * PostgreSQL: the values of `items[from, to)` as one array per column, as text (a number is written
   * as its text; PostgreSQL casts it back), and then `trailing`.
   */
  const columnsOf = <A>(
    items: ReadonlyArray<A>,
    write: Write<A>,
    columns: number,
    from: number,
    to: number,
    trailing: ReadonlyArray<unknown>
  ) => {
    const arrays: Array<Array<unknown>> = Array.from({ length: columns }, () => [])
    const row: Array<unknown> = []
    for (let r = from; r < to; r++) {
      row.length = 0
      write(row, items[r]!, r)
      for (let c = 0; c < columns; c++) {
        const value = row[c]
        arrays[c]!.push(value === null || value === undefined || typeof value === "string" ? value ?? null : String(value))
      }
    }
    return [...arrays, ...trailing]
  }

  /**
   * Runs `run(rowCount, from)` over the items in chunks. SQLite: as many of BATCH_ROWS as fit, then the
   * rest in powers of two — a statement's text is prepared once per connection and row count, and a
   * large one costs milliseconds to prepare, so counts from a handful of sizes prepare each at most once.
   * PostgreSQL: chunks of PG_BATCH_ROWS, one statement text for all. Rows are made chunk by chunk, so a
   * large run never holds all its rows' values at once.
   */
  const chunked = <B>(
    length: number,
    run: (rowCount: number, from: number) => Effect.Effect<B, SqlError>
  ) =>
    Effect.gen(function*() {
      const out: Array<B> = []
      let i = 0
      while (i < length) {
        if (!pg && i > 0 && i % SQLITE_ROWS_BETWEEN_TURNS === 0) yield* yieldToHost
        const left = length - i
        const count = pg
          ? Math.min(left, PG_BATCH_ROWS)
          : left >= BATCH_ROWS
          ? BATCH_ROWS
          : 2 ** Math.floor(Math.log2(left))
        out.push(yield* run(count, i))
        i += count
      }
      return out
    })

  type Chunk = ReturnType<typeof flatten>

  const sqliteInsert = (key: string, table: string, names: ReadonlyArray<string>, suffix: string, count: number, chunk: Chunk) =>
    sql.unsafe(
      cached(`${key} ${count} ${chunk.key}`, () =>
        `INSERT INTO ${table} (${names.join(", ")}) VALUES ${tuples(count, names.length, chunk.shared)} ${suffix}`),
      chunk.values
    )

  const sqliteWithValues = (
    key: string,
    head: string,
    tail: (placeholder: (i: number) => string) => string,
    columns: number,
    count: number,
    chunk: Chunk
  ) =>
    sql.unsafe(
      cached(`${key} ${count} ${chunk.key}`, () => `${head} (VALUES ${tuples(count, columns, chunk.shared)}) AS v ${tail(() => "?")}`),
      chunk.values
    ).raw

  return {
    /**
     * `INSERT INTO table (columns) …` for every item, made a row by `write`, in chunks; `suffix` e.g.
     * `ON CONFLICT … DO NOTHING`.
     */
    insert: <A>(
      table: string,
      columns: ReadonlyArray<Column>,
      items: ReadonlyArray<A>,
      write: Write<A>,
      suffix = ""
    ) => {
      const names = columns.map(([name]) => name)
      const key = `insert ${table} ${names.join(",")} ${suffix}`
      return chunked(items.length, (count, from) =>
        pg
          ? sql.unsafe(
            cached(key, () => {
              const select = columns.map(([name, type]) => (type === "text" ? `v.${name}` : `CAST(v.${name} AS ${type})`))
              return `INSERT INTO ${table} (${names.join(", ")}) SELECT ${select.join(", ")} FROM ${unnest(names)} ${suffix}`
            }),
            columnsOf(items, write, names.length, from, from + count, [])
          )
          : sqliteInsert(key, table, names, suffix, count, flatten(items, write, names.length, from, from + count, []))
      ).pipe(Effect.asVoid)
    },

    /**
     * A statement over rows `v` with columns `v.column1` …, `v.columnN` (as text): `head` goes before
     * them, `tail` after and may use the placeholders `trailing` names (e.g. `[runId]`), numbered after
     * the rows'. Returns how many rows the statement changed, all chunks together: a count the driver
     * reports, where `RETURNING` would make a row object and a string for every row changed.
     */
    withValues: <I>(
      key: string,
      head: string,
      tail: (placeholder: (i: number) => string) => string,
      columns: number,
      items: ReadonlyArray<I>,
      write: Write<I>,
      trailing: ReadonlyArray<unknown>
    ) => {
      const names = Array.from({ length: columns }, (_, i) => `column${i + 1}`)
      return Effect.map(
        chunked(items.length, (count, from) =>
          Effect.map(
            pg
              ? sql.unsafe(
                cached(key, () => `${head} ${unnest(names)} ${tail((i) => `$${columns + i + 1}`)}`),
                columnsOf(items, write, columns, from, from + count, trailing)
              ).raw
              : sqliteWithValues(key, head, tail, columns, count, flatten(items, write, columns, from, from + count, trailing)),
            changedRows
          )),
        (parts) => parts.reduce((a, b) => a + b, 0)
      )
    }
  }
}
