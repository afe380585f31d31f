import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { BuildInput } from "../../src/BuildInput.js"
import type { InvalidInput } from "../../src/domain/errors.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"

const valid: BuildInput = {
  runId: "run-1",
  items: [{ symbol: "AAA", weight: "0.2" }, { symbol: "BBB", weight: "0.1" }],
  prices: [{ symbol: "AAA", price: "50" }, { symbol: "BBB", price: "33" }],
  portfolioValue: "10000",
  sources: { items: "decision_items.csv", prices: "prices.csv" }
}

const invalid = (input: BuildInput): InvalidInput => {
  const result = OrderBuilder.build(input)
  if (Either.isRight(result)) throw new Error("expected the input to be refused")
  if (result.left._tag !== "InvalidInput") throw new Error(`expected invalid input, got ${result.left.message}`)
  return result.left
}

describe("bad input is a typed error that names the source, row and field", () => {
  it("accepts the valid baseline", () => {
    expect(Either.isRight(OrderBuilder.build(valid))).toBe(true)
  })

  const itemCases: ReadonlyArray<readonly [string, BuildInput["items"], number, string, string]> = [
    ["an empty symbol", [{ symbol: "AAA", weight: "0.1" }, { symbol: "  ", weight: "0.1" }], 2, "symbol", "is empty"],
    ["a missing symbol", [{ symbol: undefined, weight: "0.1" }], 1, "symbol", "is empty"],
    ["a symbol with forbidden characters", [{ symbol: "AA$", weight: "0.1" }], 1, "symbol", "is not a valid symbol"],
    ["a duplicate symbol (after normalizing)", [{ symbol: "AAA", weight: "0.1" }, { symbol: "aaa ", weight: "0.1" }], 2, "symbol", "appears twice (first on row 1)"],
    ["a non-numeric weight", [{ symbol: "AAA", weight: "abc" }], 1, "weight", "is not a finite decimal number"],
    ["a NaN weight (text)", [{ symbol: "AAA", weight: "NaN" }], 1, "weight", "is not a finite decimal number"],
    ["a NaN weight (number)", [{ symbol: "AAA", weight: Number.NaN }], 1, "weight", "is not a finite decimal number"],
    ["an infinite weight", [{ symbol: "AAA", weight: Number.POSITIVE_INFINITY }], 1, "weight", "is not a finite decimal number"],
    ["an 'Infinity' weight (text)", [{ symbol: "AAA", weight: "-Infinity" }], 1, "weight", "is not a finite decimal number"],
    ["an empty weight", [{ symbol: "AAA", weight: "" }], 1, "weight", "is empty"],
    ["a zero item price", [{ symbol: "AAA", weight: "0.1", price: "0" }], 1, "price", "must be greater than zero"],
    ["a negative item price", [{ symbol: "AAA", weight: "0.1", price: "-5" }], 1, "price", "must be greater than zero"],
    ["a fractional rank", [{ symbol: "AAA", weight: "0.1", rank: "1.5" }], 1, "rank", "must be a whole number"]
  ]
  it.each(itemCases)("refuses %s", (_, items, row, field, reason) => {
    const error = invalid({ ...valid, items })
    expect(error._tag).toBe("InvalidInput")
    expect(error.source).toBe("decision_items.csv")
    expect(error.row).toBe(row)
    expect(error.field).toBe(field)
    expect(error.reason).toContain(reason)
    expect(error.message).toContain(`decision_items.csv row ${row}, ${field}`)
  })

  it("names the row a caller gives (a file's line) rather than the array index", () => {
    const error = invalid({ ...valid, items: [{ symbol: "AAA", weight: "x", row: 7 }] })
    expect(error.row).toBe(7)
    expect(error.message).toBe(`decision_items.csv row 7, weight: is not a finite decimal number (got "x")`)
  })

  it.each([["0"], ["-1"], ["abc"]])("refuses a price of %s in the prices table, naming its row", (price) => {
    const error = invalid({ ...valid, prices: [{ symbol: "AAA", price: "50" }, { symbol: "BBB", price }] })
    expect([error.source, error.row, error.field]).toEqual(["prices.csv", 2, "price"])
  })

  it("refuses a duplicate symbol in the prices table", () => {
    const error = invalid({ ...valid, prices: [{ symbol: "AAA", price: "50" }, { symbol: "AAA", price: "51" }] })
    expect([error.source, error.row, error.field]).toEqual(["prices.csv", 2, "symbol"])
  })

  it("refuses a non-numeric position quantity", () => {
    const error = invalid({ ...valid, positions: [{ symbol: "AAA", quantity: "ten" }] })
    expect([error.source, error.row, error.field]).toEqual(["positions", 1, "quantity"])
  })

  const paramCases: ReadonlyArray<readonly [string, Partial<BuildInput>, string, string]> = [
    ["a zero portfolio value", { portfolioValue: "0" }, "portfolioValue", "must be greater than zero"],
    ["a negative portfolio value", { portfolioValue: -100 }, "portfolioValue", "must be greater than zero"],
    ["a missing portfolio value", { portfolioValue: undefined }, "portfolioValue", "is required"],
    ["a negative cash buffer", { cashBufferRatio: "-0.1" }, "cashBufferRatio", "must be at least 0 and less than 1"],
    ["a cash buffer of 1", { cashBufferRatio: 1 }, "cashBufferRatio", "must be at least 0 and less than 1"],
    ["a cash buffer above 1", { cashBufferRatio: "1.5" }, "cashBufferRatio", "must be at least 0 and less than 1"],
    ["a zero lot size", { lotSize: 0 }, "lotSize", "must be greater than zero"],
    ["a negative lot size", { lotSize: "-10" }, "lotSize", "must be greater than zero"],
    ["an unknown order type", { orderType: "STP" }, "orderType", "must be MKT or LMT"],
    ["a limit order without a limit", { orderType: "LMT" }, "orderType", "need a limitPrice or a limitOffsetBps"],
    ["a zero tick size", { tickSize: "0" }, "tickSize", "must be greater than zero"],
    ["a negative minimum notional", { minOrderNotional: "-1" }, "minOrderNotional", "must not be negative"]
  ]
  it.each(paramCases)("refuses %s", (_, patch, field, reason) => {
    const error = invalid({ ...valid, ...patch })
    expect(error.source).toBe("params")
    expect(error.row).toBeUndefined()
    expect(error.field).toBe(field)
    expect(error.reason).toContain(reason)
  })

  it("refuses a non-positive lot size in the securities table, naming its row", () => {
    const error = invalid({ ...valid, securities: [{ symbol: "AAA", lotSize: "100" }, { symbol: "BBB", lotSize: "0" }] })
    expect([error.source, error.row, error.field]).toEqual(["securities", 2, "lot_size"])
  })

  it("refuses to guess cash when a held symbol has no price", () => {
    const error = invalid({ ...valid, positions: [{ symbol: "ZZZ", quantity: "10" }] })
    expect(error.field).toBe("cash")
    expect(error.reason).toContain("ZZZ")
  })
})
