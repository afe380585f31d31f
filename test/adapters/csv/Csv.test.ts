import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import { type CsvRecord, CsvSyntaxError, cursor, parse } from "../../../adapters/csv/Csv.js"

const records = (text: string): ReadonlyArray<CsvRecord> => {
  const result = parse(text)
  if (Either.isLeft(result)) throw new Error(`expected CSV, got ${result.left.message}`)
  return result.right
}

const rows = (text: string) => records(text).map((r) => r.fields)
const lines = (text: string) => records(text).map((r) => r.line)

const syntaxError = (text: string): CsvSyntaxError => {
  const result = parse(text)
  if (Either.isRight(result)) throw new Error("expected a syntax error")
  return result.left
}

describe("Csv.parse (RFC 4180 with the liberties spreadsheets take)", () => {
  describe("records and fields", () => {
    it("splits records on line breaks and fields on commas", () => {
      expect(rows("a,b\n1,2\n")).toEqual([["a", "b"], ["1", "2"]])
    })
    it("reads a last record without a line break", () => {
      expect(rows("a,b\n1,2")).toEqual([["a", "b"], ["1", "2"]])
    })
    it("keeps empty fields, including a trailing one", () => {
      expect(rows("a,,c,\n")).toEqual([["a", "", "c", ""]])
    })
    it("accepts CRLF, LF and lone CR line breaks, mixed", () => {
      expect(rows("a\r\nb\nc\rd")).toEqual([["a"], ["b"], ["c"], ["d"]])
      expect(lines("a\r\nb\nc\rd")).toEqual([1, 2, 3, 4])
    })
    it("drops a UTF-8 byte order mark", () => {
      expect(rows("\uFEFFsymbol,weight\nAAA,1")).toEqual([["symbol", "weight"], ["AAA", "1"]])
    })
    it("trims spaces and tabs around unquoted fields, not inside them", () => {
      expect(rows("  a b ,\tc\t, d")).toEqual([["a b", "c", "d"]])
    })
    it("returns no records for an empty text or one of blank lines", () => {
      expect(rows("")).toEqual([])
      expect(rows("\n\r\n  \n\t\n")).toEqual([])
      expect(rows("\uFEFF")).toEqual([])
    })
  })

  describe("quoted fields", () => {
    it("keeps commas inside quotes", () => {
      expect(rows(`"a,b",c`)).toEqual([["a,b", "c"]])
    })
    it("reads a doubled quote as one quote", () => {
      expect(rows(`"say ""hi""",""""`)).toEqual([[`say "hi"`, `"`]])
    })
    it("keeps line breaks inside quotes as written", () => {
      expect(rows(`"one\ntwo","three\r\nfour"\nnext`)).toEqual([["one\ntwo", "three\r\nfour"], ["next"]])
    })
    it("keeps spaces inside the quotes and drops those around them", () => {
      expect(rows(`  " a "  ,  "b"\t`)).toEqual([[" a ", "b"]])
    })
    it("reads an empty quoted field as an empty value, and a line of it as a record", () => {
      expect(rows(`""\n"",x`)).toEqual([[""], ["", "x"]])
    })
  })

  describe("line numbers", () => {
    it("numbers each record by the physical line it starts on", () => {
      expect(lines("h\na\nb\n")).toEqual([1, 2, 3])
    })
    it("counts the lines inside quoted fields", () => {
      const text = `h1,h2\n"a\nb\nc",1\nnext,2\r\n"x\r\ny",3\nlast,4`
      expect(lines(text)).toEqual([1, 2, 5, 6, 8])
    })
    it("counts blank lines it skips", () => {
      expect(lines("\n\nh\n\n  \na\r\n\r\nb\n\n")).toEqual([3, 6, 8])
    })
    it("does not count a byte order mark as a line", () => {
      expect(lines("\uFEFFh\na")).toEqual([1, 2])
    })
  })

  describe("syntax errors name the line and the field", () => {
    it("refuses a quote that is never closed, naming the line it opened on", () => {
      const error = syntaxError(`h1,h2\nok,1\nx,"unclosed\nmore\nlines`)
      expect([error.line, error.field]).toEqual([3, 1])
      expect(error.reason).toBe("a quoted field opened on line 3 is never closed")
    })
    it("refuses text after a closing quote", () => {
      const error = syntaxError(`h\n"a"b`)
      expect([error.line, error.field]).toEqual([2, 0])
      expect(error.reason).toContain("has text after its closing quote")
    })
    it("refuses a quote inside an unquoted field", () => {
      const error = syntaxError(`h1,h2\n1,ab"c`)
      expect([error.line, error.field]).toEqual([2, 1])
      expect(error.reason).toContain("has a quote inside an unquoted field")
    })
    it("names the line where the error is, after a multi-line field", () => {
      const error = syntaxError(`h1,h2\n"a\nb"x,1`)
      expect([error.line, error.field]).toEqual([3, 0])
    })
    it("keeps answering the same error once stopped", () => {
      const reader = cursor(`"open`)
      const first = reader.next()
      expect(first).toBeInstanceOf(CsvSyntaxError)
      expect(reader.next()).toBe(first)
    })
  })

  describe("round trip", () => {
    // Any table written the RFC 4180 way reads back as it was, with each record on its line.
    const field = fc.oneof(
      fc.string({ unit: fc.constantFrom("a", "B", "1", ".", " ", ",", "\"", "\n", "\r\n", "é") }),
      fc.stringMatching(/^[A-Z0-9.]{1,6}$/)
    )
    const quote = (value: string) => `"${value.replaceAll("\"", "\"\"")}"`
    it("reads back what a writer that quotes every field wrote", () => {
      fc.assert(
        fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { maxLength: 20 }), fc.boolean(), (table, crlf) => {
          const eol = crlf ? "\r\n" : "\n"
          const text = table.map((r) => r.map(quote).join(",")).join(eol)
          const got = records(text)
          expect(got.map((r) => r.fields)).toEqual(table)
          let line = 1
          table.forEach((r, i) => {
            expect(got[i]!.line).toBe(line)
            line += r.join(",").split(/\r\n|\n/).length
          })
        })
      )
    })
  })

  describe("size", () => {
    // How fast (and that it grows linearly) is the benchmark's business: `npm run bench` has a csv case.
    it("reads 50,000 rows with quoted fields, numbering each by the line it starts on", () => {
      const out = ["symbol,weight,sector,price"]
      for (let i = 0; i < 50_000; i++) out.push(`S${i},0.0001,"Tech, ""Large""\nCap",${i + 1}.25`)
      const got = records(out.join("\r\n"))
      expect(got).toHaveLength(50_001)
      expect(got[50_000]).toEqual({ line: 100_000, fields: ["S49999", "0.0001", `Tech, "Large"\nCap`, "50000.25"] })
    })
  })
})
