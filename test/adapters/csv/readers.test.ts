import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Either, Schema } from "effect"
import fc from "fast-check"
import {
  parseInstant,
  parseItems,
  parsePositions,
  parsePrices,
  parseSecurities
} from "../../../adapters/csv/readers.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { InvalidInput } from "../../../src/domain/errors.js"
import { Position, Quote, Security } from "../../../src/domain/Market.js"
import { SnapshotItem } from "../../../src/domain/Snapshot.js"
import * as OrderBuilder from "../../../src/OrderBuilder.js"

type Parser = (text: string, source: string) => Either.Either<ReadonlyArray<unknown>, InvalidInput>

const ok = <A>(result: Either.Either<ReadonlyArray<A>, InvalidInput>): ReadonlyArray<A> => {
  if (Either.isLeft(result)) throw new Error(`expected the file to be accepted, got: ${result.left.message}`)
  return result.right
}

const refused = (parser: Parser, text: string, source = "input.csv"): InvalidInput => {
  const result = parser(text, source)
  if (Either.isRight(result)) throw new Error("expected the file to be refused")
  return result.left
}

/** Decimals as canonical text, so expectations read like the file. */
const plain = (value: unknown): unknown =>
  BigDecimal.isBigDecimal(value)
    ? Dec.toString(value)
    : Array.isArray(value)
    ? value.map(plain)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
    : value

describe("CSV readers: the four input files into typed domain values", () => {
  describe("decision items (symbol, weight[, score, rank, sector, price])", () => {
    it("reads every column, found by name in any order and case, ignoring extra columns", () => {
      const text = [
        "\uFEFF Rank ,SECTOR,  Weight ,notes,Symbol,score,Price",
        `1,"Technology, Hardware",0.2,"said ""buy""`,
        `strongly",aapl ,0.91,189.50`,
        `2,  Energy  , -0.05 ,, " xom ",-1.5,112`,
        ",,0.1,,brk.b,,",
        "",
        "  ",
        ""
      ].join("\r\n")
      const items = ok(parseItems(text, "decision_items.csv"))
      expect(plain(items)).toEqual([
        { symbol: "AAPL", weight: "0.2", score: "0.91", rank: 1, sector: "Technology, Hardware", price: "189.5" },
        { symbol: "XOM", weight: "-0.05", score: "-1.5", rank: 2, sector: "Energy", price: "112" },
        { symbol: "BRK.B", weight: "0.1" }
      ])
      // What a snapshot freezes must be valid by the domain schema, optional fields absent (not undefined).
      for (const item of items) expect(() => Schema.encodeSync(SnapshotItem)(item)).not.toThrow()
      expect("score" in items[2]!).toBe(false)
    })

    it("reads the two required columns alone, with LF line breaks", () => {
      expect(plain(ok(parseItems("symbol,weight\nAAA,0.2\nBBB,0.1\n", "f")))).toEqual([
        { symbol: "AAA", weight: "0.2" },
        { symbol: "BBB", weight: "0.1" }
      ])
    })

    it("accepts a header with no data rows as no items", () => {
      expect(ok(parseItems("symbol,weight\r\n", "f"))).toEqual([])
    })

    it("ignores unnamed columns, such as the one a trailing comma makes", () => {
      expect(plain(ok(parseItems("symbol,weight,\nAAA,0.2,\n", "f")))).toEqual([{ symbol: "AAA", weight: "0.2" }])
    })

    it("gives values the order builder accepts as they are (the reference case: AAA BUY 36, BBB BUY 27)", () => {
      const items = ok(parseItems("symbol,weight\nAAA,0.2\nBBB,0.1\n", "items.csv"))
      const prices = ok(parsePrices("symbol,price\nAAA,50\nBBB,33\n", "prices.csv"))
      const built = OrderBuilder.build({ runId: "run-1", items, prices, portfolioValue: "10000", cashBufferRatio: "0.1" })
      if (Either.isLeft(built)) throw new Error(built.left.message)
      expect(built.right.orders.map((o) => `${o.symbol} ${o.side} ${Dec.toString(o.quantity)}`)).toEqual([
        "AAA BUY 36",
        "BBB BUY 27"
      ])
    })
  })

  describe("prices (symbol, price[, bid, ask, volume, time])", () => {
    it("reads every column and normalizes times to UTC milliseconds", () => {
      const text = [
        "time,Volume,ASK,bid,price,symbol,venue",
        "2026-11-25T14:30:00Z,1200000,189.52,189.48,189.5,AAPL,XNAS",
        `" 2026-11-25T09:30:00.5-05:00 ",0,112.1,112.1,112,xom,`,
        ",,,,33,BBB,"
      ].join("\n")
      const quotes = ok(parsePrices(text, "prices.csv"))
      expect(plain(quotes)).toEqual([
        { symbol: "AAPL", price: "189.5", bid: "189.48", ask: "189.52", volume: "1200000", time: "2026-11-25T14:30:00.000Z" },
        { symbol: "XOM", price: "112", bid: "112.1", ask: "112.1", volume: "0", time: "2026-11-25T14:30:00.500Z" },
        { symbol: "BBB", price: "33" }
      ])
      for (const quote of quotes) expect(() => Schema.encodeSync(Quote)(quote)).not.toThrow()
    })
  })

  describe("positions (symbol, quantity[, avg_cost])", () => {
    it("reads signed quantities and average costs, keeping zero quantities as written", () => {
      const text = "Avg_Cost , Quantity, Symbol\r\n101.25,100,AAA\r\n,-50,bbb\r\n0,0,CCC\r\n"
      const positions = ok(parsePositions(text, "positions.csv"))
      expect(plain(positions)).toEqual([
        { symbol: "AAA", quantity: "100", avgCost: "101.25" },
        { symbol: "BBB", quantity: "-50" },
        { symbol: "CCC", quantity: "0", avgCost: "0" }
      ])
      for (const position of positions) expect(() => Schema.encodeSync(Position)(position)).not.toThrow()
    })
  })

  describe("securities (symbol[, sector, lot_size, tick_size, min_quantity])", () => {
    it("reads every column", () => {
      const text = "symbol,min_quantity,tick_size,lot_size,sector\n7203.T,100,1,100,Consumer Discretionary\nAAPL,,0.01,,\nBTC-USD,0.0001,0.01,0.00000001,\"Crypto\"\n"
      const securities = ok(parseSecurities(text, "securities.csv"))
      expect(plain(securities)).toEqual([
        { symbol: "7203.T", sector: "Consumer Discretionary", lotSize: "100", tickSize: "1", minQuantity: "100" },
        { symbol: "AAPL", tickSize: "0.01" },
        { symbol: "BTC-USD", sector: "Crypto", lotSize: "0.00000001", tickSize: "0.01", minQuantity: "0.0001" }
      ])
      for (const security of securities) expect(() => Schema.encodeSync(Security)(security)).not.toThrow()
    })

    it("reads a file of symbols alone", () => {
      expect(plain(ok(parseSecurities("symbol\nAAA\n\nBBB", "f")))).toEqual([{ symbol: "AAA" }, { symbol: "BBB" }])
    })
  })

  describe("exactness: decimals are kept as written, never through floating point", () => {
    it.each([
      ["0.1234567890123456789", "0.1234567890123456789"],
      ["1e-7", "0.0000001"],
      ["1E-7", "0.0000001"],
      ["-0.000000000000000000001", "-0.000000000000000000001"],
      ["+.5", "0.5"],
      ["12345678901234567890.123456789", "12345678901234567890.123456789"],
      ["2.5e3", "2500"],
      ["0.30000000000000000001", "0.30000000000000000001"]
    ])("reads a weight of %s as exactly %s", (written, exact) => {
      const [item] = ok(parseItems(`symbol,weight\nAAA,${written}\n`, "f"))
      expect(Dec.toString(item!.weight)).toBe(exact)
    })

    it("keeps a price's exact value through every file", () => {
      const price = "0.1234567890123456789"
      expect(Dec.toString(ok(parseItems(`symbol,weight,price\nA,1,${price}`, "f"))[0]!.price!)).toBe(price)
      expect(Dec.toString(ok(parsePrices(`symbol,price,bid,ask\nA,${price},1e-7,${price}`, "f"))[0]!.bid!)).toBe("0.0000001")
      expect(Dec.toString(ok(parsePositions(`symbol,quantity,avg_cost\nA,1e-7,${price}`, "f"))[0]!.avgCost!)).toBe(price)
      expect(Dec.toString(ok(parseSecurities(`symbol,lot_size\nA,1e-7`, "f"))[0]!.lotSize!)).toBe("0.0000001")
    })
  })

  describe("bad input: the first problem, as an InvalidInput naming the file, line and column", () => {
    // [what, parser, text, line (undefined = the whole file), field, reason, value found]
    type Case = readonly [string, Parser, string, number | undefined, string, string, string | undefined]
    const ITEMS = "symbol,weight"
    const cases: ReadonlyArray<Case> = [
      // structure
      ["an empty items file", parseItems, "", undefined, "header", "the file is empty; it needs a header row naming the columns (symbol, weight, score, rank, sector, price)", undefined],
      ["a prices file of blank lines and a BOM", parsePrices, "\uFEFF\r\n  \r\n", undefined, "header", "the file is empty", undefined],
      ["items without a weight column", parseItems, "symbol,score\nAAA,1", 1, "weight", `required column is missing (columns found: "symbol", "score")`, undefined],
      ["prices without a symbol column", parsePrices, "ticker,price\nAAA,1", 1, "symbol", `required column is missing (columns found: "ticker", "price")`, undefined],
      ["positions separated by semicolons", parsePositions, "symbol;quantity\nAAA;1", 1, "symbol", "the file seems separated by ';' or tabs, but only ',' separates fields", undefined],
      ["securities with no header row", parseSecurities, "AAA,100\nBBB,100", 1, "symbol", `(columns found: "AAA", "100"); the first line must be a header naming the columns`, undefined],
      ["a header naming a column twice", parseItems, "symbol,Weight, weight \nAAA,1,2", 1, "weight", "column appears twice in the header (columns 2 and 3)", "weight"],
      ["a row with more fields than the header", parseItems, `${ITEMS}\nAAA,0.1\nBBB,1,000\n`, 3, "column 3", "is beyond the header: the row has 3 fields, the header 2 (quote a value that contains a comma)", "000"],
      ["a row with fewer fields than the header", parsePrices, "symbol,price,volume\nAAA,10\n", 2, "volume", "is missing: the row has 2 fields, the header 3", undefined],
      ["a quote never closed", parseItems, `symbol,weight,sector\nAAA,0.1,ok\nBBB,0.1,"Tech\nCCC,0.1,x\n`, 3, "sector", "a quoted field opened on line 3 is never closed", undefined],
      ["text after a closing quote", parseItems, `${ITEMS}\n"AAA"x,0.1`, 2, "symbol", "has text after its closing quote", undefined],
      ["a quote inside an unquoted field", parsePositions, `symbol,quantity\nAAA,1"0`, 2, "quantity", "has a quote inside an unquoted field", undefined],
      // symbols
      ["a duplicate symbol (after trimming and upper-casing)", parseItems, `${ITEMS}\nAAA,0.1\nBBB,0.1\n aaa ,0.2`, 4, "symbol", "appears twice (first on row 2)", "aaa"],
      ["a duplicate symbol in prices", parsePrices, "symbol,price\nAAA,1\n\nAAA,2", 4, "symbol", "appears twice (first on row 2)", "AAA"],
      ["a duplicate symbol after rows in symbol order", parsePrices, "symbol,price\nAAA,1\nBBB,1\nCCC,1\nBBB,2", 5, "symbol", "appears twice (first on row 3)", "BBB"],
      ["a duplicate symbol after the order broke", parsePositions, "symbol,quantity\nBBB,1\nAAA,1\nCCC,1\nDDD,1\nCCC,2", 6, "symbol", "appears twice (first on row 4)", "CCC"],
      ["an empty symbol", parseItems, `${ITEMS}\nAAA,0.1\n,0.2`, 3, "symbol", "is empty", ""],
      ["a quoted blank symbol", parsePositions, `symbol,quantity\n"  ",5`, 2, "symbol", "is empty", "  "],
      ["a symbol with forbidden characters", parseSecurities, "symbol\nAA$", 2, "symbol", "is not a valid symbol", "AA$"],
      // numbers
      ["an empty weight", parseItems, `${ITEMS}\nAAA,`, 2, "weight", "is empty", ""],
      ["a non-numeric weight", parseItems, `${ITEMS}\nAAA,abc`, 2, "weight", "is not a finite decimal number", "abc"],
      ["a NaN weight", parseItems, `${ITEMS}\nAAA,NaN`, 2, "weight", "is not a finite decimal number", "NaN"],
      ["an infinite weight", parseItems, `${ITEMS}\nAAA,-Infinity`, 2, "weight", "is not a finite decimal number", "-Infinity"],
      ["a weight with a thousands separator", parseItems, `${ITEMS}\nAAA,"1,000"`, 2, "weight", "is not a finite decimal number", "1,000"],
      ["a weight with a percent sign", parseItems, `${ITEMS}\nAAA,5%`, 2, "weight", "is not a finite decimal number", "5%"],
      ["an absurd exponent", parseItems, `${ITEMS}\nAAA,1e999999999`, 2, "weight", "is out of range", "1e999999999"],
      ["a zero item price", parseItems, "symbol,weight,price\nAAA,0.1,0", 2, "price", "must be greater than zero", "0"],
      ["a fractional rank", parseItems, "symbol,weight,rank\nAAA,0.1,1.5", 2, "rank", "must be a whole number", "1.5"],
      ["a rank too large for a number", parseItems, "symbol,weight,rank\nAAA,0.1,1e20", 2, "rank", "is too large", "1e20"],
      ["a price of 31 digits", parsePrices, "symbol,price\nAAA,1e30", 2, "price", "is out of range (at most 30 digits before the decimal point and 30 after it)", "1e30"],
      ["a weight with 31 decimals", parseItems, "symbol,weight\nAAA,0.0000000000000000000000000000001", 2, "weight", "is out of range", "0.0000000000000000000000000000001"],
      ["a negative price", parsePrices, "symbol,price\nAAA,-1", 2, "price", "must be greater than zero", "-1"],
      ["an empty price", parsePrices, "symbol,price\nAAA,  ", 2, "price", "is empty", ""],
      ["a zero bid", parsePrices, "symbol,price,bid\nAAA,10,0", 2, "bid", "must be greater than zero", "0"],
      ["a bid above the ask", parsePrices, "symbol,price,bid,ask\nAAA,10,10.02,10.01", 2, "bid", "is above the ask (10.01)", "10.02"],
      ["a negative volume", parsePrices, "symbol,price,volume\nAAA,10,-5", 2, "volume", "must not be negative", "-5"],
      ["an empty quantity", parsePositions, "symbol,quantity\nAAA,", 2, "quantity", "is empty", ""],
      ["a quantity with trailing garbage", parsePositions, "symbol,quantity\nAAA,12abc", 2, "quantity", "is not a finite decimal number", "12abc"],
      ["a negative average cost", parsePositions, "symbol,quantity,avg_cost\nAAA,1,-3", 2, "avg_cost", "must not be negative", "-3"],
      ["a zero lot size", parseSecurities, "symbol,lot_size\nAAA,0", 2, "lot_size", "must be greater than zero", "0"],
      ["a negative tick size", parseSecurities, "symbol,tick_size\nAAA,-0.01", 2, "tick_size", "must be greater than zero", "-0.01"],
      ["a negative minimum quantity", parseSecurities, "symbol,min_quantity\nAAA,-1", 2, "min_quantity", "must not be negative", "-1"],
      // times
      ["a time that is not a date", parsePrices, "symbol,price,time\nAAA,10,yesterday", 2, "time", "is not an ISO-8601 date-time", "yesterday"],
      ["a time without a UTC offset", parsePrices, "symbol,price,time\nAAA,10,2026-11-25T14:30:00", 2, "time", "has no UTC offset", "2026-11-25T14:30:00"],
      ["a date without a time", parsePrices, "symbol,price,time\nAAA,10,2026-11-25", 2, "time", "is a date without a time", "2026-11-25"],
      ["a day the month does not have", parsePrices, "symbol,price,time\nAAA,10,2026-02-29T00:00:00Z", 2, "time", "is not a real date and time", "2026-02-29T00:00:00Z"],
      ["an hour past 23", parsePrices, "symbol,price,time\nAAA,10,2026-11-25T24:00:00Z", 2, "time", "is not a real date and time", "2026-11-25T24:00:00Z"],
      // line numbers
      ["a bad row after a quoted field spanning lines", parseItems, `symbol,weight,sector\nAAA,0.1,"a\nb\nc"\nBBB,x,d`, 5, "weight", "is not a finite decimal number", "x"],
      ["a bad row after blank lines, counted", parsePositions, "\n\nsymbol,quantity\n\nAAA,1\r\n\r\nBBB,?", 7, "quantity", "is not a finite decimal number", "?"],
      ["a header that is not line 1, when missing a column", parseItems, "\n\nsymbol\nAAA", 3, "weight", "required column is missing", undefined]
    ]

    it("covers at least 30 malformed inputs across the four files", () => {
      expect(cases.length).toBeGreaterThanOrEqual(30)
      for (const parser of [parseItems, parsePrices, parsePositions, parseSecurities]) {
        expect(cases.filter((c) => c[1] === parser).length).toBeGreaterThanOrEqual(5)
      }
    })

    it.each(cases)("refuses %s", (_, parser, text, line, field, reason, value) => {
      const error = refused(parser, text, "data/input.csv")
      expect(error._tag).toBe("InvalidInput")
      expect(error.source).toBe("data/input.csv")
      expect(error.row).toBe(line)
      expect(error.field).toBe(field)
      expect(error.reason).toContain(reason)
      expect(error.value).toBe(value)
      const where = line === undefined ? "data/input.csv" : `data/input.csv row ${line}`
      expect(error.message.startsWith(`${where}, ${field}: `)).toBe(true)
    })

    it("reads as a person would in the message", () => {
      expect(refused(parseItems, "symbol,weight\nAAA,0.1\nBBB,abc\n", "decision_items.csv").message).toBe(
        `decision_items.csv row 3, weight: is not a finite decimal number (got "abc")`
      )
      expect(refused(parsePrices, "Symbol,Last\nAAA,1\n", "prices.csv").message).toBe(
        `prices.csv row 1, price: required column is missing (columns found: "Symbol", "Last")`
      )
    })

    it("refuses a repeated symbol at its second row, naming its first, in files in symbol order and in none", () => {
      const symbols = fc.array(fc.constantFrom("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG"), { maxLength: 9 })
      fc.assert(
        fc.property(symbols, fc.boolean(), (list, sorted) => {
          const rows = sorted ? [...list].sort() : list
          const text = ["symbol,price", ...rows.map((sym) => `${sym},1`)].join("\n")
          const repeat = rows.findIndex((sym, i) => rows.indexOf(sym) < i)
          const read = parsePrices(text, "prices.csv")
          if (repeat === -1) {
            expect(Either.isRight(read)).toBe(true)
          } else {
            const error = refused(parsePrices, text, "prices.csv")
            expect([error.row, error.field, error.reason]).toEqual([
              repeat + 2,
              "symbol",
              `appears twice (first on row ${rows.indexOf(rows[repeat]!) + 2})`
            ])
          }
        }),
        { numRuns: 2000 }
      )
    })

    it("reports the first problem in file order", () => {
      const error = refused(parseItems, `symbol,weight\nAAA,x\nBBB,"open`)
      expect([error.row, error.field]).toEqual([2, "weight"])
    })
  })

  describe("times (ISO-8601 with Z or an offset, normalized to UTC milliseconds)", () => {
    it.each([
      ["2026-11-25T14:30:00Z", "2026-11-25T14:30:00.000Z"],
      ["2026-11-25t14:30:00z", "2026-11-25T14:30:00.000Z"],
      ["2026-11-25 14:30Z", "2026-11-25T14:30:00.000Z"],
      ["2026-11-25T09:30:00-05:00", "2026-11-25T14:30:00.000Z"],
      ["2026-11-25T23:30:00+0530", "2026-11-25T18:00:00.000Z"],
      ["2026-11-26T01:00:00+09", "2026-11-25T16:00:00.000Z"],
      ["2026-12-31T22:00:00-03:00", "2027-01-01T01:00:00.000Z"],
      ["2028-02-29T12:00:00.123456789Z", "2028-02-29T12:00:00.123Z"],
      ["2026-11-25T14:30:59.9999Z", "2026-11-25T14:30:59.999Z"],
      ["2026-11-25T14:30:00,5Z", "2026-11-25T14:30:00.500Z"],
      ["0050-06-01T00:00:00Z", "0050-06-01T00:00:00.000Z"]
    ])("reads %s as %s", (written, utc) => {
      expect(parseInstant(written)).toEqual(Either.right(utc))
    })

    it.each([
      ["", "is not an ISO-8601 date-time"],
      ["1732545000", "is not an ISO-8601 date-time"],
      ["25/11/2026 14:30", "is not an ISO-8601 date-time"],
      ["2026-11-25T14:30:60Z", "is not a real date and time"],
      ["2026-13-01T00:00:00Z", "is not a real date and time"],
      ["2026-11-25T14:30:00+24:00", "is not a real date and time"],
      ["0000-01-01T00:00:00+01:00", "is out of range"]
    ])("refuses %j", (written, reason) => {
      const result = parseInstant(written)
      if (Either.isRight(result)) throw new Error(`expected ${written} to be refused`)
      expect(result.left).toContain(reason)
    })
  })

  describe("size", () => {
    // How fast is the benchmark's business (`npm run bench`, the csv case).
    it("checks every row of a 50,000-row items file", () => {
      const lines = ["symbol,weight,score,rank,sector,price"]
      for (let i = 0; i < 50_000; i++) lines.push(`S${i},0.00002,${i}.5,${i + 1},"Sector, ${i % 11}",${i + 1}.25`)
      const items = ok(parseItems(lines.join("\n"), "big.csv"))
      expect(items).toHaveLength(50_000)
      expect(items[49_999]).toMatchObject({ symbol: "S49999", rank: 50_000, sector: `Sector, ${49_999 % 11}` })
      expect(Dec.toString(items[49_999]!.price!)).toBe("50000.25")
    })
  })
})
