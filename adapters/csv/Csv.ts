/**
 * A small RFC 4180 reader: text → records, each with the physical line it starts on.
 *
 * Written here rather than taken from a package because every error a user sees must name the line of
 * the file, and a quoted field may span lines: the line count has to come from the scanner itself.
 *
 * Accepted beyond the letter of RFC 4180, because spreadsheets and scripts write it:
 * - LF, CRLF and lone CR line breaks, mixed; a UTF-8 byte order mark at the start;
 * - spaces and tabs around a field, quoted or not (they are not part of the value; spaces inside the
 *   quotes are);
 * - blank lines (nothing but spaces or tabs) anywhere: they are skipped, and still counted as lines.
 * Refused, since guessing would change data: a quote inside an unquoted field, text after a closing
 * quote, a quote never closed.
 *
 * One pass over the text; values are slices of it, so a file of any size reads in linear time.
 */
import { Either, Predicate, Schema } from "effect"

export interface CsvRecord {
  /** 1-based physical line of the file on which the record starts. */
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

/** The text is not well-formed CSV. `field` is the 0-based position of the field in its record. */
export class CsvSyntaxError extends Schema.TaggedError<CsvSyntaxError>()("CsvSyntaxError", {
  line: Schema.Number,
  field: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `line ${this.line}, field ${this.field + 1}: ${this.reason}`
  }
}

/** What the cursor answered is its error, told by tag (a record has none). */
export const isCsvSyntaxError = (read: CsvRecord | CsvSyntaxError): read is CsvSyntaxError => Predicate.isTagged(read, "CsvSyntaxError")

const QUOTE = 34
const COMMA = 44
const LF = 10
const CR = 13
const SPACE = 32
const TAB = 9

const isBlank = (c: number) => c === SPACE || c === TAB
const isBreak = (c: number) => c === LF || c === CR

export interface CsvCursor {
  /** The next record, `undefined` after the last one, or the syntax error that stops the reading. */
  readonly next: () => CsvRecord | CsvSyntaxError | undefined
}

/**
 * Reads records one at a time, so a caller can check the header and each row as it goes and name a
 * column in a syntax error. After an error or the end, `next` keeps returning the same answer.
 */
export const cursor = (input: string): CsvCursor => {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const length = text.length
  let pos = 0
  let line = 1
  let stopped: CsvSyntaxError | undefined

  // Past one line break at `pos` (CRLF counts once).
  const skipBreak = () => {
    if (text.charCodeAt(pos) === CR && text.charCodeAt(pos + 1) === LF) pos += 2
    else pos += 1
    line++
  }

  const fail = (errorLine: number, field: number, reason: string): CsvSyntaxError => {
    stopped = new CsvSyntaxError({ line: errorLine, field, reason })
    pos = length
    return stopped
  }

  const next = (): CsvRecord | CsvSyntaxError | undefined => {
    if (stopped !== undefined) return stopped
    // Skip blank lines: they hold no data, and a trailing one is what most editors leave.
    for (;;) {
      let p = pos
      while (p < length && isBlank(text.charCodeAt(p))) p++
      if (p >= length) {
        pos = length
        return undefined
      }
      if (!isBreak(text.charCodeAt(p))) break
      pos = p
      skipBreak()
    }

    const recordLine = line
    const fields: Array<string> = []
    for (;;) {
      const index = fields.length
      while (pos < length && isBlank(text.charCodeAt(pos))) pos++
      let value: string
      if (text.charCodeAt(pos) === QUOTE) {
        const openLine = line
        pos++
        // Pieces between doubled quotes; almost always a single slice.
        let pieces: Array<string> | undefined
        let start = pos
        for (;;) {
          if (pos >= length) {
            return fail(openLine, index, `a quoted field opened on line ${openLine} is never closed`)
          }
          const c = text.charCodeAt(pos)
          if (c === QUOTE) {
            if (text.charCodeAt(pos + 1) === QUOTE) {
              ;(pieces ??= []).push(text.slice(start, pos + 1))
              pos += 2
              start = pos
              continue
            }
            break
          }
          if (c === CR) {
            if (text.charCodeAt(pos + 1) === LF) pos++
            line++
          } else if (c === LF) {
            line++
          }
          pos++
        }
        const last = text.slice(start, pos)
        value = pieces === undefined ? last : pieces.join("") + last
        pos++ // the closing quote
        while (pos < length && isBlank(text.charCodeAt(pos))) pos++
        if (pos < length) {
          const c = text.charCodeAt(pos)
          if (c !== COMMA && !isBreak(c)) {
            return fail(line, index, "has text after its closing quote; quote the whole field and double any quote inside it (\"\")")
          }
        }
      } else {
        const start = pos
        let end = pos
        while (pos < length) {
          const c = text.charCodeAt(pos)
          if (c === COMMA || isBreak(c)) break
          if (c === QUOTE) {
            return fail(line, index, "has a quote inside an unquoted field; quote the whole field and double the quote (\"\")")
          }
          pos++
          if (!isBlank(c)) end = pos
        }
        value = text.slice(start, end)
      }
      fields.push(value)
      if (pos >= length) break
      const c = text.charCodeAt(pos)
      if (c === COMMA) {
        pos++
        continue
      }
      skipBreak()
      break
    }
    return { line: recordLine, fields }
  }

  return { next }
}

/** All records of a text, or its first syntax error. */
export const parse = (text: string): Either.Either<ReadonlyArray<CsvRecord>, CsvSyntaxError> => {
  const records: Array<CsvRecord> = []
  const reader = cursor(text)
  for (;;) {
    const record = reader.next()
    if (record === undefined) return Either.right(records)
    if (isCsvSyntaxError(record)) return Either.left(record)
    records.push(record)
  }
}
