import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, ParseResult, Schema } from "effect"
import { fromJson, toJson } from "../../../adapters/sql/rows.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { ClientOrderId, Symbol } from "../../../src/domain/Ids.js"
import { RiskVerdict } from "../../../src/domain/Risk.js"
import { RunParams, RunRecord } from "../../../src/domain/Run.js"

const d = Dec.unsafe

/** What the Schema alone reads from the stored text: the reference the adapter's reading must equal. */
const bySchema = <A, I>(schema: Schema.Schema<A, I>, json: string) =>
  Schema.decodeUnknownEither(Schema.parseJson(schema))(json)

const record: RunRecord = {
  settings: {
    portfolioValue: d("1000000"),
    cash: d("1000000"),
    cashBufferRatio: d("0.02"),
    lotSize: d("1"),
    orderType: "MKT",
    liquidateMissing: false,
    modelVersion: "v1"
  },
  prices: [
    { symbol: "AAA" as Symbol, price: d("101.25") },
    { symbol: "BBB" as Symbol, price: d("0.0005"), bid: d("0.0004"), ask: d("0.0006"), volume: d("120000"), time: "2026-11-25T21:00:00.000Z" }
  ],
  positions: [{ symbol: "AAA" as Symbol, quantity: d("-300"), avgCost: d("99.5") }, { symbol: "CCC" as Symbol, quantity: d("7") }],
  securities: [{ symbol: "AAA" as Symbol, sector: "Tech", lotSize: d("100") }, { symbol: "BBB" as Symbol }],
  skipped: [{ symbol: "DDD" as Symbol, reason: "missing_price" }],
  builtAt: "2026-11-25T21:00:00.000Z"
}

const verdict: RiskVerdict = {
  passed: false,
  policy: "drop_orders",
  violations: [],
  reasons: ["max_order_notional:AAA"],
  accepted: ["AAA-B-1" as ClientOrderId, "BBB-S-2" as ClientOrderId],
  rejected: [{ clientOrderId: "CCC-B-3" as ClientOrderId, reason: "max_order_notional" }]
}

describe("stored JSON documents read back", () => {
  it.effect("a run record, its params and a verdict read back as the Schema reads them, member for member", () =>
    Effect.gen(function*() {
      const params: RunParams = { portfolioValue: d("1000000"), positions: record.positions, securities: record.securities }
      for (const [schema, value] of [[RunRecord, record], [RunParams, params], [RiskVerdict, verdict]] as const) {
        const json = toJson(value)
        const read = yield* fromJson(schema as Schema.Schema<unknown, unknown>, "document", json)
        const reference = Either.getOrThrow(bySchema(schema as Schema.Schema<unknown, unknown>, json))
        expect(read).toEqual(reference)
        // The same members in the same order: what is written from it again is the same text.
        expect(toJson(read)).toBe(json)
      }
    }))

  it.effect("a record whose arrays hold what the Schema refuses is refused with the Schema's own words", () =>
    Effect.gen(function*() {
      const json = toJson(record).replace(`"price":"101.25"`, `"price":"a lot"`)
      const error = yield* Effect.flip(fromJson(RunRecord, "run record", json))
      const reference = Either.flip(bySchema(RunRecord, json)).pipe(Either.getOrThrow)
      expect(error.reason).toBe(`stored run record is not valid: ${ParseResult.TreeFormatter.formatErrorSync(reference)}`)
      expect(error.reason).toContain(`"a lot" is not a decimal number`)
    }))

  it.effect("an element with a member the Schema does not know, or a decimal in another form, reads as the Schema reads it", () =>
    Effect.gen(function*() {
      const stored = JSON.parse(toJson(record)) as Record<string, Array<Record<string, unknown>>>
      stored.prices![0]!.venue = "XNAS"
      stored.positions![1]!.quantity = "7.000"
      stored.securities![0]!.lotSize = "1e2"
      const json = JSON.stringify(stored)
      const read = yield* fromJson(RunRecord, "run record", json)
      expect(read).toEqual(Either.getOrThrow(bySchema(RunRecord, json)))
      expect(read.prices[0]).not.toHaveProperty("venue")
      expect(Dec.toString(read.securities[0]!.lotSize!)).toBe("100")
    }))

  it.effect("a verdict's accepted order id that is not one is refused", () =>
    Effect.gen(function*() {
      const json = toJson(verdict).replace(`"AAA-B-1"`, `"AAA B 1"`)
      const error = yield* Effect.flip(fromJson(RiskVerdict, "risk verdict", json))
      expect(error.reason).toContain("stored risk verdict is not valid")
    }))
})
