import { describe, expect, it } from "@effect/vitest"
import { BigDecimal } from "effect"
import canonicalize from "canonicalize"
import * as fc from "fast-check"
import { canonicalJson, digestOf, framedDigest, hmacSha256Hex, sha256Hex, withFrames } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { SnapshotItem } from "../../src/domain/Snapshot.js"
import { snapshotDigest } from "../../src/ports/TradeRepository.js"

/** The reference: keys sorted, undefined members dropped, decimals as text. Slow, obviously right. */
const reference = (value: unknown): string => {
  if (Dec.isDecimal(value)) return JSON.stringify(Dec.toString(value))
  if (typeof value === "bigint") return JSON.stringify(value.toString())
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : reference(v))).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

describe("canonical JSON", () => {
  it("writes any JSON value as the reference does: keys sorted, undefined members dropped", () => {
    const withDecimals = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 1 }),
        // Any UTF-16: quotes, backslashes, control characters, lone and paired surrogates.
        fc.string({ unit: "binary", maxLength: 8 }),
        fc.string({ unit: "binary-ascii", maxLength: 8 }),
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((v) => Dec.fromBigInt(v)),
        // Decimals at any scale, either side of the largest integer a number holds exactly.
        fc.tuple(
          fc.oneof(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.bigInt({ min: -100_000n, max: 100_000n })),
          fc.integer({ min: -6, max: 14 })
        ).map(([v, scale]) => BigDecimal.make(v, scale)),
        fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constant(-0)).filter(Number.isFinite),
        fc.bigInt(),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: "binary", maxLength: 4 }), fc.option(tie("value"), { nil: undefined }), { maxKeys: 5 })
      )
    }))
    fc.assert(
      fc.property(withDecimals.value, (value) => {
        expect(canonicalJson(value)).toBe(reference(value))
      }),
      { numRuns: 5000 }
    )
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), withDecimals.value, fc.string({ unit: "binary" }), (before, value, after) => {
        expect(framedDigest(before, value, after)).toEqual([reference(value), sha256Hex(`${before}${reference(value)}${after}`)])
      }),
      { numRuns: 1000 }
    )
    // Frames, as the audit chain writes them: two in a row, the second keyed, each digested on its own.
    const text = fc.string({ unit: "binary" })
    const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
    fc.assert(
      fc.property(text, withDecimals.value, text, number, text, (before, value, name, n, after) => {
        const written = withFrames((frames) =>
          [0, 1].map((i) => {
            frames.bytes(Buffer.from(before, "utf8"))
            const json = frames.json(value)
            frames.string(name)
            frames.number(n)
            frames.bytes(Buffer.from(after, "utf8"))
            return [json, frames.digest(i === 0 ? undefined : "a key")]
          })
        )
        const framed = `${before}${reference(value)}${JSON.stringify(name)}${JSON.stringify(n)}${after}`
        expect(written).toEqual([[reference(value), sha256Hex(framed)], [reference(value), hmacSha256Hex("a key", framed)]])
      }),
      { numRuns: 1000 }
    )
  })

  it("writes text outside ASCII, and escapes, exactly as JSON.stringify does", () => {
    for (const text of ["é", "日本", "😀", "\ud800", "a\udc00b", "\"", "\\", "\n\t\u0000", "\u007f", "~", ""]) {
      expect(canonicalJson({ [text]: text, list: [text, `${text}${"x".repeat(70_000)}`] })).toBe(
        reference({ [text]: text, list: [text, `${text}${"x".repeat(70_000)}`] })
      )
      expect(digestOf([text])).toBe(sha256Hex(reference([text])))
    }
  })

  it("writes an array far larger than one chunk of text exactly as the reference does", () => {
    const quotes = Array.from({ length: 20_000 }, (_, i) => ({
      symbol: `S${i}`,
      price: Dec.unsafe(`${i}.25`),
      time: "2026-11-25T20:59:58.000Z",
      volume: i % 3 === 0 ? undefined : Dec.fromBigInt(BigInt(i * 100))
    }))
    const document = { prices: quotes, nested: [quotes.slice(0, 5000), []] }
    expect(canonicalJson(document)).toBe(reference(document))
  })

  it("digests an array chunk by chunk exactly as it would its whole text", () => {
    const items = Array.from({ length: 12_000 }, (_, i) => ({ symbol: `S${i}`, weight: Dec.unsafe(`0.${i}`), rank: i }))
    for (const value of [items, items.slice(0, 3), [], [undefined, null, "a"]]) {
      expect(digestOf(value)).toBe(sha256Hex(canonicalJson(value)))
    }
  })

  it("writes objects of one key list alike whatever order their keys were written in", () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }))
    expect(canonicalJson([{ x: 1, y: 2 }, { y: 2, x: 1 }, { x: 1 }, { x: 1, y: 2, z: 3 }])).toBe(
      `[{"x":1,"y":2},{"x":1,"y":2},{"x":1},{"x":1,"y":2,"z":3}]`
    )
  })

  it("gives a snapshot the digest it was frozen with by earlier versions", () => {
    const items: Array<SnapshotItem> = [
      { symbol: "AAA" as Symbol, weight: Dec.unsafe("0.2"), score: Dec.unsafe("1.50"), rank: 1, sector: "Tech", price: Dec.unsafe("50") },
      { symbol: "BBB" as Symbol, weight: Dec.unsafe("-0.1") },
      { symbol: "BRK.B" as Symbol, weight: Dec.unsafe("0"), sector: "Financials \"quoted\" é", price: Dec.unsafe("1e-3") }
    ]
    // Frozen snapshots in existing databases are verified against this digest on every execute.
    expect(snapshotDigest(items)).toBe("d87e7571e97aebc54b345f0b01091d438c4f1ead5b6671890f430c2a7576815f")
  })
})

describe("canonical JSON is RFC 8785 (JCS) once decimals and bigints are canonical strings", () => {
  // The `canonicalize` package, an implementation of RFC 8785 written apart from this one, is the oracle.
  const jcs = (value: unknown): string => canonicalize(value)!

  /** The value as JCS is given it: decimals and bigints replaced by their canonical text. */
  const asPlainJson = (value: unknown): unknown =>
    Dec.isDecimal(value)
      ? Dec.toString(value)
      : typeof value === "bigint"
      ? value.toString()
      : Array.isArray(value)
      ? value.map(asPlainJson)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPlainJson(v)]))
      : value

  it("writes the example of RFC 8785 section 3.2.3 as the RFC does", () => {
    const example = JSON.parse(
      `{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],` +
        `"string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}`
    )
    const expected = `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`
    expect(jcs(example)).toBe(expected)
    expect(canonicalJson(example)).toBe(expected)
  })

  it("writes any plain JSON value exactly as the independent implementation does", () => {
    // Any Unicode text (the package refuses lone surrogates, which RFC 8785 does not allow either).
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }), (value) => {
        expect(canonicalJson(value)).toBe(jcs(value))
      }),
      { numRuns: 3000 }
    )
  })

  it("writes decimals and bigints as the JCS of their canonical text", () => {
    const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: -6, max: 14 }))
      .map(([v, scale]) => BigDecimal.make(v, scale))
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 1, stringUnit: "grapheme" }),
        decimal,
        fc.bigInt(),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: "grapheme", maxLength: 4 }), tie("value"), { maxKeys: 5 })
      )
    }))
    fc.assert(
      fc.property(value.value, (v) => {
        expect(canonicalJson(v)).toBe(jcs(asPlainJson(v)))
      }),
      { numRuns: 2000 }
    )
  })
})
