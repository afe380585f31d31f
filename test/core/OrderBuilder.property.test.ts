import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import type { BuildInput } from "../../src/BuildInput.js"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import { signedQuantity } from "../../src/domain/Order.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"

const RUNS = { numRuns: 300 }

/** A decimal with up to `scale` fractional digits in [min, max] units of 10^-scale. */
const decimal = (min: number, max: number, scale: number) =>
  fc.integer({ min, max }).map((n) => Dec.toString(Dec.unsafe(`${n}e-${scale}`)))

const LOTS = ["1", "10", "100", "0.001", "0.01"]
const lot = fc.constantFrom(...LOTS)

interface Universe {
  readonly input: BuildInput
  readonly lots: ReadonlyMap<string, Dec.Decimal>
}

/**
 * A random decision over up to 25 symbols with prices, per-symbol lots, and positions. `longOnly` keeps
 * weights ≥ 0 summing to at most 1 and holds only symbols of the decision, with cash left to be derived.
 */
const universe = (options: { readonly longOnly: boolean; readonly oddPositions: boolean }) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 25 })
    .chain((ids) => {
      const n = ids.length
      const weight = options.longOnly ? decimal(0, Math.floor(100_000_000 / n), 8) : decimal(-30_000_000, 30_000_000, 8)
      return fc.record({
        symbols: fc.constant(ids.map((i) => `S${i}`)),
        weights: fc.array(weight, { minLength: n, maxLength: n }),
        prices: fc.array(decimal(1, 5_000_000, 4), { minLength: n, maxLength: n }),
        lots: fc.array(lot, { minLength: n, maxLength: n }),
        held: fc.array(fc.option(fc.integer({ min: options.longOnly ? 0 : -500, max: 2000 }), { nil: undefined }), { minLength: n, maxLength: n }),
        odd: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }),
        portfolioValue: decimal(100_000, 1_000_000_000, 2),
        extraCash: decimal(0, 100_000_000, 2),
        buffer: fc.constantFrom("0", "0.01", "0.05", "0.1", "0.25"),
        minOrderNotional: fc.option(decimal(0, 100_000, 2), { nil: undefined })
      })
    })
    .map((u): Universe => {
      const lots = new Map(u.symbols.map((s, i) => [s, Dec.unsafe(u.lots[i]!)] as const))
      const positions = u.symbols.flatMap((symbol, i) => {
        const count = u.held[i]
        if (count === undefined) return []
        let quantity = Dec.times(BigInt(count), lots.get(symbol)!)
        if (options.oddPositions) quantity = Dec.add(quantity, Dec.times(BigInt(u.odd[i]!), Dec.unsafe("0.001")))
        return [{ symbol, quantity: Dec.toString(quantity) }]
      })
      const marketValue = Dec.sum(positions.map((p) => Dec.mul(Dec.unsafe(p.quantity), Dec.unsafe(u.prices[u.symbols.indexOf(p.symbol)]!))))
      const portfolioValue = Dec.add(Dec.max(marketValue, Dec.ZERO), Dec.unsafe(u.portfolioValue))
      return {
        lots,
        input: {
          runId: "prop",
          items: u.symbols.map((symbol, i) => ({ symbol, weight: u.weights[i]! })),
          prices: u.symbols.map((symbol, i) => ({ symbol, price: u.prices[i]! })),
          positions,
          securities: u.symbols.map((symbol, i) => ({ symbol, lotSize: u.lots[i]! })),
          portfolioValue: Dec.toString(portfolioValue),
          ...(options.longOnly ? {} : { cash: u.extraCash }),
          cashBufferRatio: u.buffer,
          ...(u.minOrderNotional === undefined ? {} : { minOrderNotional: u.minOrderNotional })
        }
      }
    })

const built = (input: BuildInput) => Either.getOrThrow(OrderBuilder.build(input))

const positionsAfter = (input: BuildInput, result: OrderBuilder.BuildResult) => {
  const post = new Map((input.positions ?? []).map((p) => [String(p.symbol), Dec.unsafe(p.quantity as string)]))
  for (const o of result.orders) post.set(o.symbol, Dec.add(post.get(o.symbol) ?? Dec.ZERO, signedQuantity(o.side, o.quantity)))
  return post
}

describe("OrderBuilder properties", () => {
  it("never buys past a long target or sells past a short one, and no target exceeds its weight", () => {
    fc.assert(
      fc.property(universe({ longOnly: false, oddPositions: true }), ({ input, lots }) => {
        const result = built(input)
        const { settings } = result.plan
        const effective = Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio))
        for (const o of result.orders) {
          const post = Dec.add(o.currentQuantity, signedQuantity(o.side, o.quantity))
          const toward = Dec.sign(Dec.sub(o.targetQuantity, o.currentQuantity))
          expect(o.side === "BUY" ? toward : -toward).toBe(1)
          if (o.side === "BUY" && Dec.isPositive(o.targetQuantity)) expect(Dec.lte(post, o.targetQuantity)).toBe(true)
          if (o.side === "SELL" && Dec.isNegative(o.targetQuantity)) expect(Dec.gte(post, o.targetQuantity)).toBe(true)
          // Reducing an odd position may stop short of the target on the side of zero, by less than a lot.
          const beyond = Dec.abs(Dec.sub(post, o.targetQuantity))
          const between = Dec.lte(Dec.min(o.currentQuantity, o.targetQuantity), post) &&
            Dec.lte(post, Dec.max(o.currentQuantity, o.targetQuantity))
          expect(between || (Dec.lt(beyond, lots.get(o.symbol)!) && Dec.lt(Dec.abs(post), Dec.abs(o.targetQuantity)))).toBe(true)
          const targetValue = Dec.abs(Dec.mul(o.targetQuantity, o.referencePrice))
          expect(Dec.lte(targetValue, Dec.abs(Dec.mul(o.targetWeight, effective)))).toBe(true)
        }
      }),
      RUNS
    )
  })

  it("never spends more cash than it has: cash after the orders is never negative", () => {
    fc.assert(
      fc.property(universe({ longOnly: false, oddPositions: true }), ({ input }) => {
        const result = built(input)
        const { settings } = result.plan
        let cash = settings.cash
        for (const o of result.orders) {
          const value = Dec.mul(o.quantity, o.limitPrice ?? o.referencePrice)
          if (o.side === "BUY") cash = Dec.sub(cash, value)
          else if (Dec.isPositive(o.currentQuantity)) {
            cash = Dec.add(cash, Dec.mul(Dec.min(o.quantity, o.currentQuantity), o.limitPrice ?? o.referencePrice))
          }
        }
        expect(Dec.gte(cash, Dec.ZERO)).toBe(true)
        if (result.orders.some((o) => o.side === "BUY")) {
          expect(Dec.gte(cash, Dec.mul(settings.portfolioValue, settings.cashBufferRatio))).toBe(true)
        }
      }),
      RUNS
    )
  })

  it("orders whole lots; only closing out an odd position trades an odd amount", () => {
    fc.assert(
      fc.property(universe({ longOnly: false, oddPositions: true }), ({ input, lots }) => {
        for (const o of built(input).orders) {
          const lotSize = lots.get(o.symbol)!
          const post = Dec.add(o.currentQuantity, signedQuantity(o.side, o.quantity))
          const whole = Dec.isMultipleOf(o.quantity, lotSize)
          // An odd quantity is only ever the odd remainder of a position being closed (or flipped).
          expect(whole || Dec.isMultipleOf(post, lotSize)).toBe(true)
          if (Dec.isMultipleOf(o.currentQuantity, lotSize)) expect(whole).toBe(true)
        }
      }),
      RUNS
    )
  })

  it("gives the same output for the same input, whatever the order of its rows", () => {
    fc.assert(
      fc.property(universe({ longOnly: false, oddPositions: true }), fc.integer(), ({ input }, seed) => {
        const shuffled = [...input.items].sort((a, b) => ((String(a.symbol).length * 31 + seed) % 7) - ((String(b.symbol).length * 17 + seed) % 5))
        const once = canonicalJson(built(input).orders)
        expect(canonicalJson(built(input).orders)).toBe(once)
        expect(canonicalJson(built({ ...input, items: shuffled }).orders)).toBe(once)
      }),
      RUNS
    )
  })

  it("builds no orders again from the post-trade positions at the same prices", () => {
    fc.assert(
      fc.property(universe({ longOnly: true, oddPositions: true }), ({ input }) => {
        const first = built(input)
        // Weights summing to at most 1 leave cash for every buy, unless a held symbol was skipped: a sell
        // skipped below the minimum notional brings no proceeds, and then the buys may be trimmed.
        const held = new Set((input.positions ?? []).map((p) => String(p.symbol)))
        if (!first.skipped.some((s) => held.has(s.symbol))) expect(first.trimmed).toEqual([])
        const positions = [...positionsAfter(input, first)].map(([symbol, quantity]) => ({ symbol, quantity }))
        const again = built({ ...input, positions })
        expect(again.orders).toEqual([])
      }),
      RUNS
    )
  })
})
