/**
 * The order builder against the reference (the builder as it was before its join was rewritten for
 * speed): on random inputs — valid and not, aligned and shuffled, with duplicates, zeros, extra and
 * missing rows — both give the same orders, skips, trims and plan, or refuse with the same error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import type { BuildInput, ItemInput, PositionInput, PriceInput, SecurityInput } from "../../src/BuildInput.js"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderIdCollision, InvalidInput } from "../../src/domain/errors.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"
import * as Reference from "../support/reference/OrderBuilder.js"

const POOL = Array.from({ length: 30 }, (_, i) => `S${i}`)

/** A symbol as a file might write it: mostly plain, sometimes in other case or with spaces, rarely bad. */
const written = (symbol: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(symbol) },
    { weight: 1, arbitrary: fc.constant(` ${symbol.toLowerCase()} `) },
    { weight: 1, arbitrary: fc.constant(symbol.toLowerCase()) }
  )

/** Now and then (one in `odds + 1`), else undefined. */
const rarely = <A>(arbitrary: fc.Arbitrary<A>, odds: number) =>
  fc.oneof({ weight: odds, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary })

const badSymbol = fc.constantFrom("", "  ", "A$", undefined, 42)

/** Decimal text, a number, or a decimal value; rarely something that is not a number at all. */
const amount = (min: number, max: number, scale: number, options: { readonly bad?: boolean } = {}) => {
  const good = fc.integer({ min, max }).chain((n) =>
    fc.constantFrom<unknown>(Dec.toString(Dec.unsafe(`${n}e-${scale}`)), Dec.unsafe(`${n}e-${scale}`), Number(`${n}e-${scale}`))
  )
  return options.bad === false
    ? good
    : fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: fc.constantFrom<unknown>("abc", "", "NaN", Number.NaN, "1e999") })
}

const positivePrice = amount(1, 5_000_000, 3, { bad: false })

/** One bad value somewhere, in about a third of the inputs: where, and what. */
const corruption = rarely(
  fc.record({
    table: fc.constantFrom("items", "prices", "positions", "securities"),
    row: fc.nat(40),
    field: fc.constantFrom("symbol", "value", "extra"),
    value: fc.oneof(badSymbol, fc.constantFrom<unknown>("abc", "", "NaN", Number.NaN, "1e999", "0", "-1", "1.5"))
  }),
  3
)

interface Scenario {
  readonly input: BuildInput
}

const scenario = fc
  .record({
    chosen: fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 1, maxLength: 20 }),
    seed: fc.integer(),
    alignPrices: fc.boolean(),
    sortItems: fc.boolean(),
    liquidateMissing: fc.boolean(),
    orderType: fc.constantFrom("MKT", "LMT"),
    lotSize: fc.constantFrom(undefined, "1", "10", "0.5"),
    minOrderNotional: fc.option(fc.constantFrom("0", "100", "2500"), { nil: undefined }),
    cash: fc.option(amount(-100_000, 10_000_000, 2, { bad: false }), { nil: undefined }),
    buffer: fc.constantFrom(undefined, "0", "0.02", "0.1"),
    withSecurities: fc.boolean()
  })
  .chain((s) => {
    const n = s.chosen.length
    const item = (symbol: string) =>
      fc.record(
        {
          symbol: written(symbol),
          weight: amount(-20_000_000, 30_000_000, 8, { bad: false }),
          score: fc.option(amount(0, 1000, 2, { bad: false }), { nil: undefined }),
          rank: fc.option(fc.constantFrom<unknown>(1, 2, 7, "3"), { nil: undefined }),
          sector: fc.option(fc.constantFrom("Tech", "Energy", " Health "), { nil: undefined }),
          price: fc.option(positivePrice, { freq: 4, nil: undefined })
        },
        { requiredKeys: ["symbol", "weight"] }
      )
    const extra = POOL.filter((p) => !s.chosen.includes(p))
    return fc.record({
      s: fc.constant(s),
      items: fc.tuple(...s.chosen.map(item)),
      // Duplicates: another row for a symbol already listed, now and then.
      duplicateItem: rarely(fc.integer({ min: 0, max: n - 1 }), 12),
      priced: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      prices: fc.array(positivePrice, { minLength: n, maxLength: n }),
      extraPrices: fc.subarray(extra, { maxLength: 4 }),
      extraPriceValues: fc.array(positivePrice, { minLength: 4, maxLength: 4 }),
      duplicatePrice: rarely(fc.integer({ min: 0, max: n - 1 }), 12),
      held: fc.array(fc.option(amount(-500, 3000, 0, { bad: false }), { freq: 2, nil: undefined }), { minLength: n, maxLength: n }),
      zero: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      extraHeld: fc.subarray(extra, { maxLength: 4 }),
      extraHeldValues: fc.array(amount(1, 3000, 0, { bad: false }), { minLength: 4, maxLength: 4 }),
      duplicatePosition: rarely(fc.integer({ min: 0, max: n - 1 }), 12),
      lots: fc.array(fc.constantFrom<unknown>(undefined, "1", "10", "100", "0.001"), { minLength: n, maxLength: n }),
      corruption,
      portfolioValue: amount(100_000, 100_000_000, 2, { bad: false }),
      shuffle: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 40, maxLength: 40 })
    })
  })
  .map((g): Scenario => {
    const { s } = g
    const shuffled = <A>(xs: ReadonlyArray<A>, salt: number): Array<A> =>
      xs
        .map((x, i) => [x, g.shuffle[(i + salt) % g.shuffle.length]! * 100 + i] as const)
        .sort((a, b) => a[1] - b[1])
        .map(([x]) => x)
    let items: Array<ItemInput> = g.items.map((i) => ({ ...i }))
    if (g.duplicateItem !== undefined) items.push({ ...items[g.duplicateItem]!, weight: "0.01" })
    if (s.sortItems) items = [...items].sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)))
    let prices: Array<PriceInput> = s.chosen.flatMap((symbol, i) => (g.priced[i] ? [{ symbol, price: g.prices[i] }] : []))
    prices.push(...g.extraPrices.map((symbol, i) => ({ symbol, price: g.extraPriceValues[i] })))
    if (g.duplicatePrice !== undefined) prices.push({ symbol: s.chosen[g.duplicatePrice]!, price: "10" })
    // Aligned: in the items' order (as the flow asks the feed); otherwise shuffled.
    if (s.alignPrices) {
      const order = new Map(items.map((i, k) => [String(i.symbol).trim().toUpperCase(), k] as const))
      prices = [...prices].sort((a, b) => (order.get(String(a.symbol)) ?? 999) - (order.get(String(b.symbol)) ?? 999))
    } else prices = shuffled(prices, 3)
    let positions: Array<PositionInput> = s.chosen.flatMap((symbol, i) => {
      const held = g.held[i]
      return held === undefined ? [] : [{ symbol, quantity: g.zero[i] ? "0" : held }]
    })
    positions.push(...g.extraHeld.map((symbol, i) => ({ symbol, quantity: g.extraHeldValues[i] })))
    if (g.duplicatePosition !== undefined) positions.push({ symbol: s.chosen[g.duplicatePosition]!, quantity: "5" })
    positions = shuffled(positions, 7)
    const securities: Array<SecurityInput> = s.withSecurities
      ? s.chosen.flatMap((symbol, i) => (g.lots[i] === undefined ? [] : [{ symbol, lotSize: g.lots[i], minQuantity: i % 3 === 0 ? "20" : undefined }]))
      : []
    const c = g.corruption
    if (c !== undefined) {
      const table: Array<Record<string, unknown>> = c.table === "items"
        ? items as unknown as Array<Record<string, unknown>>
        : c.table === "prices"
        ? prices as unknown as Array<Record<string, unknown>>
        : c.table === "positions"
        ? positions as unknown as Array<Record<string, unknown>>
        : securities as unknown as Array<Record<string, unknown>>
      const row = table[c.row % Math.max(1, table.length)]
      const valueField = { items: "weight", prices: "price", positions: "quantity", securities: "lotSize" }[c.table]!
      const extraField = { items: "rank", prices: "price", positions: "quantity", securities: "minQuantity" }[c.table]!
      if (row !== undefined) row[c.field === "symbol" ? "symbol" : c.field === "value" ? valueField : extraField] = c.value
    }
    return {
      input: {
        runId: "diff",
        items,
        prices,
        positions,
        securities,
        portfolioValue: g.portfolioValue,
        ...(s.cash === undefined ? {} : { cash: s.cash }),
        ...(s.buffer === undefined ? {} : { cashBufferRatio: s.buffer }),
        ...(s.lotSize === undefined ? {} : { lotSize: s.lotSize }),
        orderType: s.orderType,
        ...(s.orderType === "LMT" ? { limitOffsetBps: "15", tickSize: "0.01" } : {}),
        ...(s.minOrderNotional === undefined ? {} : { minOrderNotional: s.minOrderNotional }),
        liquidateMissing: s.liquidateMissing,
        sources: { items: "items.csv", prices: "prices.csv", positions: "positions.csv", securities: "securities.csv" }
      }
    }
  })

const errorOf = (e: InvalidInput | ClientOrderIdCollision) =>
  e._tag === "InvalidInput" ? { source: e.source, row: e.row, field: e.field, value: e.value, reason: e.reason } : { collision: e.message }

const resultOf = (r: OrderBuilder.BuildResult | Reference.BuildResult) =>
  canonicalJson({
    orders: r.orders,
    skipped: r.skipped,
    trimmed: r.trimmed,
    // The reference records no id scheme: it has only the first.
    settings: { ...r.plan.settings, clientOrderIdScheme: undefined },
    items: r.plan.items,
    prices: [...r.plan.prices],
    positions: [...r.plan.positions],
    securities: [...r.plan.securities]
  })

describe("OrderBuilder against its reference", () => {
  it("gives the same orders and skips, or the same error, on any input", () => {
    let refused = 0
    fc.assert(
      fc.property(scenario, ({ input }) => {
        const expected = Reference.build(input)
        // The reference derives client order ids as scheme 1 did.
        const actual = OrderBuilder.build({ ...input, clientOrderIdScheme: 1 })
        if (Either.isLeft(expected)) {
          refused += 1
          if (process.env.SHOW_REFUSALS) console.log(expected.left.message)
          expect(Either.isLeft(actual) ? errorOf(actual.left) : "built").toEqual(errorOf(expected.left))
        } else {
          expect(Either.isRight(actual) ? resultOf(actual.right) : errorOf(actual.left)).toBe(resultOf(expected.right))
        }
      }),
      { numRuns: 3000 }
    )
    // Both kinds of input were exercised.
    expect(refused).toBeGreaterThan(300)
    expect(refused).toBeLessThan(2700)
  })
})
