/**
 * Readers for the four input files of the CLI: decision items, prices, positions, securities.
 *
 * Each file is CSV with a header row; columns are found by name (trimmed, any case), in any order, and
 * columns the reader does not know are ignored. Every file is read and checked whole into typed domain
 * values, so a bad file is refused before anything is built from it. The first problem is reported as an
 * `InvalidInput` whose `source` is the path as given, `row` the 1-based physical line of the file the
 * record starts on (the header is line 1 unless blank lines precede it, so the first data row is
 * usually line 2 — the number an editor shows), `field` the column name, and `value` the text found.
 *
 * The rules mirror `BuildInput.validate` (same reasons, same symbol normalization, `Dec.parse` for
 * numbers) so a value refused here would be refused there, and the reverse; the builder checks again.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { Position, Quote, Security } from "../../src/domain/Market.js"
import type { SnapshotItem } from "../../src/domain/Snapshot.js"
import {
  type DecimalCheck,
  nonNegative,
  positive,
  readSymbol,
  reject,
  untilRejected
} from "../../src/internal/inputChecks.js"
import { cursor, isCsvSyntaxError } from "./Csv.js"

// ---------------------------------------------------------------------------------------------------------
// Columns of each file

export interface FileColumns {
  readonly required: ReadonlyArray<string>
  readonly optional: ReadonlyArray<string>
}

export const ITEM_COLUMNS: FileColumns = {
  required: ["symbol", "weight"],
  optional: ["score", "rank", "sector", "price"]
}
export const PRICE_COLUMNS: FileColumns = {
  required: ["symbol", "price"],
  optional: ["bid", "ask", "volume", "time"]
}
export const POSITION_COLUMNS: FileColumns = {
  required: ["symbol", "quantity"],
  optional: ["avg_cost"]
}
export const SECURITY_COLUMNS: FileColumns = {
  required: ["symbol"],
  optional: ["sector", "lot_size", "tick_size", "min_quantity"]
}

// ---------------------------------------------------------------------------------------------------------
// The table reader shared by the four files

/** One data record, by column name. */
interface Row {
  readonly source: string
  readonly line: number
  /** The field's text, or `undefined` when the file has no such column. */
  readonly get: (column: string) => string | undefined
}

const list = (names: ReadonlyArray<string>) => names.map((n) => JSON.stringify(n)).join(", ")

/**
 * Reads a header and its records, checks the structure (columns, field counts, duplicate symbols) and
 * hands each record to `read`. Symbols are normalized here since all four files are keyed by symbol.
 */
const table = <A>(
  text: string,
  source: string,
  columns: FileColumns,
  read: (row: Row, symbol: Symbol) => A
): Either.Either<ReadonlyArray<A>, InvalidInput> =>
  untilRejected(() => tableUnsafe(text, source, columns, read))

const tableUnsafe = <A>(
  text: string,
  source: string,
  columns: FileColumns,
  read: (row: Row, symbol: Symbol) => A
): ReadonlyArray<A> => {
  const known = [...columns.required, ...columns.optional]
  const records = cursor(text)

  const header = records.next()
  if (header === undefined) {
    return reject(source, undefined, "header", undefined, `the file is empty; it needs a header row naming the columns (${known.join(", ")})`)
  }
  if (isCsvSyntaxError(header)) return reject(source, header.line, "header", undefined, header.reason)

  const names = header.fields.map((f) => f.trim().toLowerCase())
  const index = new Map<string, number>()
  names.forEach((name, i) => {
    if (!known.includes(name)) return // extra columns are ignored, so only ours must be unambiguous
    const first = index.get(name)
    if (first !== undefined) {
      reject(source, header.line, name, header.fields[i], `column appears twice in the header (columns ${first + 1} and ${i + 1})`)
    }
    index.set(name, i)
  })
  for (const name of columns.required) {
    if (index.has(name)) continue
    const hint = header.fields.some((f) => f.includes(";") || f.includes("\t"))
      ? "; the file seems separated by ';' or tabs, but only ',' separates fields"
      : index.size === 0
      ? "; the first line must be a header naming the columns"
      : ""
    reject(source, header.line, name, undefined, `required column is missing (columns found: ${list(header.fields)})${hint}`)
  }

  const columnName = (i: number) => names[i] || `column ${i + 1}`
  const out: Array<A> = []
  const firstLine = new Map<Symbol, number>()
  let fields: ReadonlyArray<string> = []
  let line = 0
  const row: Row = {
    source,
    get line() {
      return line
    },
    get: (column) => {
      const i = index.get(column)
      return i === undefined ? undefined : fields[i]
    }
  }

  for (;;) {
    const record = records.next()
    if (record === undefined) break
    if (isCsvSyntaxError(record)) return reject(source, record.line, columnName(record.field), undefined, record.reason)
    fields = record.fields
    line = record.line
    if (fields.length > names.length) {
      reject(
        source,
        line,
        `column ${names.length + 1}`,
        fields[names.length],
        `is beyond the header: the row has ${fields.length} fields, the header ${names.length} (quote a value that contains a comma)`
      )
    }
    if (fields.length < names.length) {
      reject(
        source,
        line,
        columnName(fields.length),
        undefined,
        `is missing: the row has ${fields.length} field${fields.length === 1 ? "" : "s"}, the header ${names.length}`
      )
    }
    const sym = symbol(row)
    const seen = firstLine.get(sym)
    if (seen !== undefined) reject(source, line, "symbol", row.get("symbol"), `appears twice (first on row ${seen})`)
    firstLine.set(sym, line)
    out.push(read(row, sym))
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Fields

const symbol = (row: Row): Symbol => readSymbol(row.source, row.line, row.get("symbol") ?? "")

/** `undefined` when the column is absent or the field empty. */
const optionalDecimal = (row: Row, column: string, check?: DecimalCheck): Dec.Decimal | undefined => {
  const raw = row.get(column)
  if (raw === undefined || raw.trim() === "") return undefined
  // Within the input range: what is computed from it can be stored and read back.
  const parsed = Either.getOrElse(Dec.readInput(raw), (reason) => reject(row.source, row.line, column, raw, reason))
  const problem = check?.(parsed)
  return problem === undefined ? parsed : reject(row.source, row.line, column, raw, problem)
}

const requiredDecimal = (row: Row, column: string, check?: DecimalCheck): Dec.Decimal =>
  optionalDecimal(row, column, check) ?? reject(row.source, row.line, column, row.get(column) ?? "", "is empty")

const optionalText = (row: Row, column: string): string | undefined => {
  const text = row.get(column)?.trim()
  return text === undefined || text === "" ? undefined : text
}

const INSTANT_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

const daysIn = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

/**
 * An ISO-8601 date-time with `Z` or an offset, as UTC `YYYY-MM-DDTHH:MM:SS.sssZ`; or why it is refused.
 * Fractions beyond milliseconds are truncated, never rounded: a quote is not moved forward in time.
 * A time with no offset is refused: it would mean a different instant on every machine.
 */
export const parseInstant = (raw: string): Either.Either<string, string> => {
  // A prices file is usually stamped with one time, or a few: the last answer is kept.
  if (raw === lastInstant?.raw) return lastInstant.result
  const result = readInstant(raw)
  lastInstant = { raw, result }
  return result
}

let lastInstant: { readonly raw: string; readonly result: Either.Either<string, string> } | undefined

const readInstant = (raw: string): Either.Either<string, string> => {
  const text = raw.trim()
  const m = INSTANT_TEXT.exec(text)
  if (m === null) {
    return Either.left(
      DATE_ONLY.test(text)
        ? "is a date without a time; give an ISO-8601 date-time with Z or an offset, e.g. 2026-11-25T14:30:00Z"
        : "is not an ISO-8601 date-time, e.g. 2026-11-25T14:30:00Z or 2026-11-25T09:30:00-05:00"
    )
  }
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m
  if (z === undefined && sign === undefined) {
    return Either.left("has no UTC offset; add Z or an offset such as -05:00, since a local time is ambiguous")
  }
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, "0"))
  const offsetHours = oh === undefined ? 0 : Number(oh)
  const offsetMinutes = om === undefined ? 0 : Number(om)
  if (
    month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 ||
    offsetHours > 23 || offsetMinutes > 59
  ) {
    return Either.left("is not a real date and time")
  }
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day) // not Date.UTC: it reads years 0-99 as 1900-1999
  date.setUTCHours(hour, minute, second, millis)
  const offset = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  const iso = new Date(date.getTime() - offset * 60_000).toISOString()
  return /^\d{4}-/.test(iso) ? Either.right(iso) : Either.left("is out of range (years 0000 to 9999 in UTC)")
}

const optionalInstant = (row: Row, column: string): string | undefined => {
  const raw = row.get(column)
  if (raw === undefined || raw.trim() === "") return undefined
  return Either.getOrElse(parseInstant(raw), (reason) => reject(row.source, row.line, column, raw, reason))
}

// ---------------------------------------------------------------------------------------------------------
// The four files, from text

/** Decision items: `symbol, weight[, score, rank, sector, price]`, in file order. */
export const parseItems = (text: string, source: string): Either.Either<ReadonlyArray<SnapshotItem>, InvalidInput> =>
  table(text, source, ITEM_COLUMNS, (row, sym): SnapshotItem => {
    const weight = requiredDecimal(row, "weight")
    const score = optionalDecimal(row, "score")
    const rank = optionalDecimal(row, "rank", (d) =>
      !Dec.isMultipleOf(d, Dec.ONE)
        ? "must be a whole number"
        : Number.isSafeInteger(Number(Dec.toString(d)))
        ? undefined
        : "is too large")
    const sector = optionalText(row, "sector")
    const price = optionalDecimal(row, "price", positive)
    return {
      symbol: sym,
      weight,
      ...(score === undefined ? {} : { score }),
      ...(rank === undefined ? {} : { rank: Number(Dec.toString(rank)) }),
      ...(sector === undefined ? {} : { sector }),
      ...(price === undefined ? {} : { price })
    }
  })

/** Prices: `symbol, price[, bid, ask, volume, time]`; `time` normalized to UTC milliseconds. */
export const parsePrices = (text: string, source: string): Either.Either<ReadonlyArray<Quote>, InvalidInput> =>
  table(text, source, PRICE_COLUMNS, (row, sym): Quote => {
    const price = requiredDecimal(row, "price", positive)
    const bid = optionalDecimal(row, "bid", positive)
    const ask = optionalDecimal(row, "ask", positive)
    if (bid !== undefined && ask !== undefined && Dec.gt(bid, ask)) {
      reject(row.source, row.line, "bid", row.get("bid"), `is above the ask (${row.get("ask")?.trim()})`)
    }
    const volume = optionalDecimal(row, "volume", nonNegative)
    const time = optionalInstant(row, "time")
    return {
      symbol: sym,
      price,
      ...(bid === undefined ? {} : { bid }),
      ...(ask === undefined ? {} : { ask }),
      ...(volume === undefined ? {} : { volume }),
      ...(time === undefined ? {} : { time })
    }
  })

/** Positions: `symbol, quantity[, avg_cost]`; signed (negative = short); zero quantities are kept as written. */
export const parsePositions = (text: string, source: string): Either.Either<ReadonlyArray<Position>, InvalidInput> =>
  table(text, source, POSITION_COLUMNS, (row, sym): Position => {
    const quantity = requiredDecimal(row, "quantity")
    const avgCost = optionalDecimal(row, "avg_cost", nonNegative)
    return { symbol: sym, quantity, ...(avgCost === undefined ? {} : { avgCost }) }
  })

/** Securities: `symbol[, sector, lot_size, tick_size, min_quantity]`. */
export const parseSecurities = (text: string, source: string): Either.Either<ReadonlyArray<Security>, InvalidInput> =>
  table(text, source, SECURITY_COLUMNS, (row, sym): Security => {
    const sector = optionalText(row, "sector")
    const lotSize = optionalDecimal(row, "lot_size", positive)
    const tickSize = optionalDecimal(row, "tick_size", positive)
    const minQuantity = optionalDecimal(row, "min_quantity", nonNegative)
    return {
      symbol: sym,
      ...(sector === undefined ? {} : { sector }),
      ...(lotSize === undefined ? {} : { lotSize }),
      ...(tickSize === undefined ? {} : { tickSize }),
      ...(minQuantity === undefined ? {} : { minQuantity })
    }
  })

// ---------------------------------------------------------------------------------------------------------
// The four files, from disk

const fileError = (path: string, error: PlatformError): InvalidInput => {
  const reason = error._tag === "SystemError"
    ? error.reason === "NotFound"
      ? "does not exist"
      : error.reason === "PermissionDenied"
      ? "cannot be read: permission denied"
      : error.description?.startsWith("EISDIR") === true
      ? "is a directory, not a file"
      : `cannot be read: ${error.description ?? error.reason}`
    : `cannot be read: ${error.description ?? error.method}`
  return new InvalidInput({ source: path, field: "file", reason })
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const lenient = new TextDecoder("utf-8")

/** UTF-8 (a byte order mark is dropped); other encodings are refused, naming the first bad line. */
const decode = (path: string, bytes: Uint8Array): Either.Either<string, InvalidInput> => {
  try {
    return Either.right(utf8.decode(bytes))
  } catch {
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
      return Either.left(new InvalidInput({ source: path, row: 1, field: "file", reason: "is UTF-16 text; save it as UTF-8" }))
    }
    const text = lenient.decode(bytes)
    const bad = text.indexOf("\uFFFD")
    const line = bad < 0 ? 1 : countLines(text, bad)
    return Either.left(
      new InvalidInput({
        source: path,
        row: line,
        field: "file",
        reason: "is not UTF-8 text (an invalid byte on this line); save it as UTF-8"
      })
    )
  }
}

/** The 1-based line of `offset`, counting LF, CRLF and lone CR as the CSV reader does. */
const countLines = (text: string, offset: number): number => {
  let line = 1
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) line++
  }
  return line
}

/** The text of a file, or an `InvalidInput` with field `file` naming the path. */
export const readText = (path: string): Effect.Effect<string, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFile(path).pipe(
      Effect.mapError((error) => fileError(path, error)),
      Effect.flatMap((bytes) => decode(path, bytes))
    ))

export const readItems = Effect.fn("Csv.readItems")(function*(path: string) {
  return yield* parseItems(yield* readText(path), path)
})

export const readPrices = Effect.fn("Csv.readPrices")(function*(path: string) {
  return yield* parsePrices(yield* readText(path), path)
})

export const readPositions = Effect.fn("Csv.readPositions")(function*(path: string) {
  return yield* parsePositions(yield* readText(path), path)
})

export const readSecurities = Effect.fn("Csv.readSecurities")(function*(path: string) {
  return yield* parseSecurities(yield* readText(path), path)
})
