/**
 * Where binary floating point lands a hair under a whole number of lots and `Math.floor` loses one,
 * exact decimal arithmetic must not. Each case's exact lot count can be checked by hand:
 * weight × portfolio value × (1 − buffer) ÷ (price × lot) is a whole number.
 */
import { describe, expect, it } from "@effect/vitest"
import { BigDecimal, Either, Equal, Hash, Schema } from "effect"
import * as fc from "fast-check"
import { inspect } from "node:util"
import * as Dec from "../../src/domain/Decimal.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"

const cases: ReadonlyArray<readonly [weight: string, portfolioValue: string, buffer: string, lot: string, price: string, lots: number]> = [
  ["0.29", "100", "0", "10", "0.3625", 8],
  ["0.29", "100", "0.1", "1", "0.261", 100],
  ["0.29", "100", "0.05", "100", "0.0095", 29],
  ["0.29", "100", "0.02", "1", "28.42", 1],
  ["0.29", "10000", "0.3", "1", "40.6", 50],
  ["0.29", "10000", "0.1", "0.01", "9000", 29],
  ["0.29", "100000", "0.1", "100", "13.05", 20],
  ["0.29", "100000", "0.02", "1", "1776.25", 16],
  ["0.29", "12345.67", "0.05", "100", "34.01232085", 1],
  ["0.29", "99999.99", "0", "0.001", "1159999.884", 25],
  ["0.29", "2500000.5", "0.02", "100", "1015.000203", 7],
  ["0.57", "10000", "0", "100", "14.25", 4],
  ["0.57", "100000", "0", "100", "57", 10],
  ["0.57", "10000", "0.05", "1", "270.75", 20],
  ["0.57", "12345.67", "0.02", "1", "344.8145631", 20],
  ["0.57", "99999.99", "0.02", "10", "558.59994414", 10],
  ["0.58", "100000", "0", "1", "11600", 5],
  ["0.58", "100000", "0.05", "100", "275.5", 2],
  ["0.58", "99999.99", "0.02", "0.001", "568399.94316", 100],
  ["0.58", "2500000.5", "0.02", "1", "28420.005684", 50],
  ["0.07", "1000", "0", "10", "0.07", 100],
  ["0.14", "1000", "0.02", "0.01", "6860", 2],
  ["0.13", "100", "0.05", "1", "0.6175", 20],
  ["0.33", "100", "0.1", "1", "2.97", 10],
  ["0.1", "100000", "0.02", "100", "9.8", 10],
  ["0.15", "12345.67", "0", "0.01", "18518.505", 10],
  ["0.55", "10000", "0.3", "10", "3.85", 100],
  ["0.95", "100", "0.02", "100", "0.01862", 50],
  ["0.000123", "100", "0.05", "0.01", "0.2337", 5],
  ["0.12345678", "100", "0.3", "0.01", "21.6049365", 40],
  ["0.019", "100", "0.02", "1", "0.1862", 10],
  ["0.0003", "100", "0.05", "10", "0.0000285", 100]
]

describe("exact lot counts", () => {
  it("has at least 20 cases, each one where floating point loses a lot", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20)
    for (const [w, pv, b, lot, price, lots] of cases) {
      const naive = Math.floor((Number(w) * Number(pv) * (1 - Number(b))) / Number(price) / Number(lot))
      expect(naive, `${w} × ${pv} × (1 − ${b}) / ${price} / ${lot}`).toBe(lots - 1)
    }
  })

  it.each(cases)("weight %s of %s with buffer %s, lot %s at %s buys exactly %i lots", (w, pv, b, lot, price, lots) => {
    const result = OrderBuilder.build({
      runId: "exact",
      items: [{ symbol: "X", weight: w }],
      prices: [{ symbol: "X", price }],
      portfolioValue: pv,
      cashBufferRatio: b,
      lotSize: lot
    })
    const orders = Either.getOrThrow(result).orders
    expect(orders.map((o) => Dec.toString(o.quantity))).toEqual([Dec.toString(Dec.times(BigInt(lots), Dec.unsafe(lot)))])
  })

  it("reads JavaScript numbers as the decimals they print as, not as binary doubles", () => {
    const fromNumbers = OrderBuilder.build({
      runId: "exact",
      items: [{ symbol: "X", weight: 0.29 }],
      prices: [{ symbol: "X", price: 0.261 }],
      portfolioValue: 100,
      cashBufferRatio: 0.1
    })
    expect(Either.getOrThrow(fromNumbers).orders.map((o) => Dec.toString(o.quantity))).toEqual(["100"])
  })

  it("rebalances exactly: a delta that floating point makes 1 short is whole", () => {
    // target 0.57 × 10000 / 14.25 = 400 (float: 399.99999999999994); holding 100 → buy 300
    const result = OrderBuilder.build({
      runId: "exact",
      items: [{ symbol: "X", weight: "0.57" }],
      prices: [{ symbol: "X", price: "14.25" }],
      positions: [{ symbol: "X", quantity: "100" }],
      portfolioValue: "10000"
    })
    expect(Either.getOrThrow(result).orders.map((o) => `${o.side} ${Dec.toString(o.quantity)}`)).toEqual(["BUY 300"])
  })
})

describe("decimal text", () => {
  it.each([
    ["0.123456789012345678", "0.123456789012345678"],
    ["1e-20", "0.00000000000000000001"],
    ["-0.000000000000000001", "-0.000000000000000001"],
    ["1E3", "1000"],
    ["12.3400", "12.34"],
    ["-0", "0"],
    ["123456789012345678901234567890.5", "123456789012345678901234567890.5"]
  ])("writes %s as %s, never with an exponent", (input, expected) => {
    expect(Dec.toString(Dec.unsafe(input))).toBe(expected)
  })

  it("writes every value as the canonical text of its normalized form, whatever its scale", () => {
    // The reference: normalize, then place the point. Slow, obviously right.
    const reference = (d: Dec.Decimal) => {
      const { value, scale } = BigDecimal.normalize(d)
      if (scale <= 0) return (value * 10n ** BigInt(-scale)).toString()
      const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, "0")
      return `${value < 0n ? "-" : ""}${digits.slice(0, -scale)}.${digits.slice(-scale)}`
    }
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -8, max: 40 }), (value, scale) => {
        const d = BigDecimal.make(value, scale)
        expect(Dec.toString(d)).toBe(reference(d))
        expect(Dec.eq(Dec.unsafe(Dec.toString(d)), d)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("decimal values", () => {
  it("are effect's own BigDecimal to its functions, to Equal, Hash, JSON and inspection", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -8, max: 40 }), (value, scale) => {
        // Made directly and by arithmetic (a product, at the sum of the scales); effect's own of the same
        // integer and scale is the reference.
        for (const ours of [Dec.make(value, scale), Dec.mul(Dec.make(value, scale), Dec.make(3n, 1))]) {
          const effects = BigDecimal.make(ours.value, ours.scale)
          expect(BigDecimal.isBigDecimal(ours)).toBe(true)
          expect(Object.getPrototypeOf(ours)).toBe(Object.getPrototypeOf(effects))
          expect(Object.keys(ours)).toEqual(Object.keys(effects))
          expect(Equal.equals(ours, effects)).toBe(true)
          expect(Hash.hash(ours)).toBe(Hash.hash(effects))
          expect(BigDecimal.format(ours)).toBe(BigDecimal.format(effects))
          expect(JSON.stringify(ours)).toBe(JSON.stringify(effects))
          expect(inspect(ours)).toBe(inspect(effects))
          expect(Dec.toString(BigDecimal.normalize(ours))).toBe(Dec.toString(ours))
        }
        expect(
          Equal.equals(
            Dec.mul(Dec.make(value, scale), Dec.make(3n, 1)),
            BigDecimal.multiply(BigDecimal.make(value, scale), BigDecimal.make(3n, 1))
          )
        ).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })
})

describe("decimal reading", () => {
  it.each(["1e999999999", "1e-101", "1".repeat(201)])("refuses %s, too large to be a price or a quantity", (text) => {
    expect(Dec.parse(text)._tag).toBe("None")
  })
  it.each(["1e100", "1e-100", "1".repeat(200)])("reads %s", (text) => {
    expect(Dec.parse(text)._tag).toBe("Some")
  })

  it("reads back stored text of any length, which values computed from inputs can reach", () => {
    const long = `${"9".repeat(150)}.${"1".repeat(100)}`
    expect(Dec.toString(Dec.fromStored(long)!)).toBe(long)
    expect(Dec.toString(Schema.decodeSync(Dec.DecimalFromString)(`-${long}`))).toBe(`-${long}`)
    // Text with an exponent stays within the reading limits, as input is.
    expect(Dec.fromStored("1e999999999")).toBeUndefined()
  })

  it("bounds input at 30 digits before the decimal point and 30 after it, trailing zeros aside", () => {
    const within = ["999999999999999999999999999999", "-0.000000000000000000000000000001", "1.500000000000000000000000000000000", "1e29", "0"]
    const beyond = ["1000000000000000000000000000000", "1e30", "0.0000000000000000000000000000001", "1e-31"]
    for (const text of within) expect(Either.isRight(Dec.readInput(text)), text).toBe(true)
    for (const text of beyond) expect(Dec.readInput(text), text).toEqual(Either.left(Dec.OUT_OF_INPUT_RANGE))
  })

  it("reads back exactly what it writes, on the short path for stored text", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -8, max: 40 }), (value, scale) => {
        const d = BigDecimal.make(value, scale)
        const back = Dec.fromCanonical(Dec.toString(d))
        expect(back !== undefined && Dec.eq(back, d)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("reads plain text to the very value and scale the general reader gives", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?\d{1,40}(\.\d{1,40})?$/), (text) => {
        const read = Dec.read(text)
        const general = BigDecimal.fromString(text)
        expect(Either.isRight(read) && general._tag === "Some").toBe(true)
        if (Either.isRight(read) && general._tag === "Some") {
          expect([read.right.value, read.right.scale]).toEqual([general.value.value, general.value.scale])
        }
      }),
      { numRuns: 2000 }
    )
  })

  it.each(["1e5", " 1", "1 ", "+1", "0x10", ".5", "1.", "", "-", "1.2.3", "١٢"])(
    "leaves %j to the general reader (not plain stored text)",
    (text) => {
      expect(Dec.fromCanonical(text)).toBeUndefined()
    }
  )
})

describe("decimal bounds", () => {
  it("compare values, absolute values and products exactly as Dec.compare would, at any scales", () => {
    const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.integer({ min: -3, max: 12 }))
      .map(([value, scale]) => BigDecimal.make(value, scale))
    fc.assert(
      fc.property(decimal, fc.array(fc.tuple(decimal, decimal), { minLength: 1, maxLength: 6 }), (limit, pairs) => {
        // One bound for all pairs: what it keeps between comparisons must not leak into the next.
        const b = Dec.bound(limit)
        for (const [x, y] of pairs) {
          expect(b.compare(x)).toBe(Dec.compare(x, limit))
          expect(b.compareAbs(x)).toBe(Dec.compare(Dec.abs(x), limit))
          expect(b.compareProduct(x, y)).toBe(Dec.compare(Dec.mul(x, y), limit))
          expect(b.compareAbsProduct(x, y)).toBe(Dec.compare(Dec.abs(Dec.mul(x, y)), limit))
        }
      }),
      { numRuns: 2000 }
    )
  })
})

describe("decimal totals", () => {
  it("sum to the very value and scale a chain of Dec.add gives, products included, at any scales", () => {
    const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: -4, max: 8 }))
      .map(([value, scale]) => BigDecimal.make(value, scale))
    const term = fc.oneof(
      decimal.map((d) => ({ kind: "value" as const, d })),
      fc.tuple(decimal, decimal).map(([a, b]) => ({ kind: "product" as const, a, b })),
      decimal.map((d) => ({ kind: "value" as const, d: Dec.negate(d) }))
    )
    fc.assert(
      fc.property(fc.array(term, { maxLength: 8 }), (terms) => {
        const total = Dec.total()
        let expected = Dec.ZERO
        for (const t of terms) {
          if (t.kind === "value") {
            Dec.addTo(total, t.d)
            expected = Dec.add(expected, t.d)
          } else {
            Dec.addProduct(total, t.a, t.b)
            expected = Dec.add(expected, Dec.mul(t.a, t.b))
          }
        }
        const got = Dec.valueOf(total)
        expect([got.value, got.scale]).toEqual([expected.value, expected.scale])
      }),
      { numRuns: 3000 }
    )
  })
})
