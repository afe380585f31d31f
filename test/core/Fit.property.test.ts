/**
 * The fit over random decisions, positions and limits: the fitted orders break no limit the fit works
 * on (or the fit reports it), no weight moves further than its rule asks, lot rounding never takes the
 * turnover over its cap, and a run's replay rebuilds the same fit.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import fc from "fast-check"
import type { BuildInput } from "../../src/BuildInput.js"
import * as BuildInputs from "../../src/BuildInput.js"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { Quote } from "../../src/domain/Market.js"
import { FitRule, type RiskLimits, type RiskViolation } from "../../src/domain/Risk.js"
import * as Fit from "../../src/Fit.js"
import * as F from "../../src/internal/Fraction.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"
import * as RiskEngine from "../../src/RiskEngine.js"
import { item, makeWorld, quote } from "../support/world.js"

const RUNS = { numRuns: 300 }

/** A decimal of `scale` fractional digits in [min, max] units of 10^-scale, as text. */
const decimal = (min: number, max: number, scale: number) =>
  fc.integer({ min, max }).map((n) => Dec.toString(Dec.unsafe(`${n}e-${scale}`)))

const SECTORS = ["Tech", "Energy", "Health"]

interface Case {
  readonly input: BuildInput
  readonly limits: RiskLimits
}

/**
 * Up to 20 names of the decision and 4 held outside it; weights long and short, summing to up to about
 * 1.6 gross; lots of 1, 10 or 0.01; positions in some (now and then an odd amount); three sectors and none;
 * every limit the fit works on, each now and then, set near where the decision falls.
 */
const cases: fc.Arbitrary<Case> = fc
  .uniqueArray(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 24 })
  .chain((ids) => {
    const n = ids.length
    const of = <A>(a: fc.Arbitrary<A>) => fc.array(a, { minLength: n, maxLength: n })
    return fc.record({
      ids: fc.constant(ids),
      inDecision: of(fc.integer({ min: 0, max: 5 }).map((k) => k > 0)),
      weights: of(fc.oneof(decimal(0, 12_000, 5), decimal(-4_000, 12_000, 5), fc.constant("0"))),
      prices: of(decimal(100, 50_000, 2)),
      lots: of(fc.constantFrom("1", "1", "10", "0.01")),
      // Held as a weight of the portfolio, mostly near what the decision asks.
      held: of(fc.option(fc.integer({ min: -3_000, max: 12_000 }), { nil: undefined })),
      odd: of(fc.constantFrom(0, 0, 0, 3)),
      sectors: of(fc.option(fc.constantFrom(...SECTORS), { nil: undefined })),
      restricted: of(fc.integer({ min: 0, max: 9 }).map((k) => k === 0)),
      portfolioValue: decimal(50_000, 2_000_000, 0),
      buffer: fc.constantFrom("0", "0", "0.02", "0.1"),
      liquidateMissing: fc.boolean(),
      limits: fc.record({
        longOnly: fc.option(fc.constant(true), { nil: undefined }),
        maxNameWeight: fc.option(decimal(1, 30, 2), { nil: undefined }),
        maxPositionRatio: fc.option(decimal(1, 30, 2), { nil: undefined }),
        maxSectorWeight: fc.option(decimal(5, 60, 2), { nil: undefined }),
        maxGrossExposure: fc.option(decimal(20, 150, 2), { nil: undefined }),
        maxNetExposure: fc.option(decimal(0, 100, 2), { nil: undefined }),
        maxTurnover: fc.option(decimal(1, 100, 2), { nil: undefined }),
        minTradeWeight: fc.option(decimal(0, 200, 4), { nil: undefined })
      })
    })
  })
  .map((u): Case => {
    const symbols = u.ids.map((i) => `S${i}`)
    const items = symbols.flatMap((symbol, i) =>
      u.inDecision[i] ? [{ symbol, weight: u.weights[i]!, ...(u.sectors[i] === undefined ? {} : { sector: u.sectors[i]! }) }] : []
    )
    const positions = symbols.flatMap((symbol, i) => {
      const heldWeight = u.held[i]
      if (heldWeight === undefined) return []
      const lot = Dec.unsafe(u.lots[i]!)
      const value = Dec.mul(Dec.unsafe(`${heldWeight}e-5`), Dec.unsafe(u.portfolioValue))
      const count = Dec.quotientTowardZero(value, Dec.mul(Dec.unsafe(u.prices[i]!), lot))
      if (count === 0n && !u.inDecision[i]) return []
      let quantity = Dec.times(count, lot)
      if (u.odd[i] !== 0) quantity = Dec.add(quantity, Dec.unsafe("0.003"))
      return [{ symbol, quantity: Dec.toString(quantity) }]
    })
    const limits: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(u.limits)) {
      if (value !== undefined) limits[key] = typeof value === "string" ? Dec.unsafe(value) : value
    }
    const restricted = symbols.filter((_, i) => u.restricted[i])
    if (restricted.length > 0) limits.restrictedSymbols = restricted
    return {
      limits: limits as RiskLimits,
      input: {
        runId: "fit",
        items: items.length > 0 ? items : [{ symbol: symbols[0]!, weight: "0.1" }],
        prices: symbols.map((symbol, i) => ({ symbol, price: u.prices[i]! })),
        positions,
        securities: symbols.map((symbol, i) => ({ symbol, lotSize: u.lots[i]!, ...(u.sectors[i] === undefined ? {} : { sector: u.sectors[i]! }) })),
        portfolioValue: u.portfolioValue,
        // Cash enough for any buy: the cash trim is the builder's, not the fit's, and it is tested there.
        cash: Dec.toString(Dec.mul(Dec.unsafe(u.portfolioValue), Dec.unsafe(3))),
        cashBufferRatio: u.buffer,
        liquidateMissing: u.liquidateMissing
      }
    }
  })

const fitted = (c: Case) => Either.getOrThrow(OrderBuilder.build(c.input, { limits: c.limits, policy: "fit" }))

/** The risk engine on a build, as the runner calls it (positions, prices, sectors as recorded). */
const judge = (c: Case, result: OrderBuilder.BuildResult) => {
  const { plan } = result
  const sectors = new Map<Symbol, string>()
  for (const s of plan.securities.values()) if (s.sector !== undefined) sectors.set(s.symbol, s.sector)
  for (const i of plan.items) if (i.sector !== undefined) sectors.set(i.symbol, i.sector)
  const quotes: Array<Quote> = [...plan.prices].map(([symbol, price]) => ({ symbol, price }))
  return RiskEngine.evaluate({
    orders: result.orders,
    limits: c.limits,
    policy: "fit",
    portfolioValue: plan.settings.portfolioValue,
    cash: plan.settings.cash,
    positions: [...plan.positions].map(([symbol, quantity]) => ({ symbol, quantity })),
    quotes,
    sectors,
    ...(result.fit === undefined ? {} : { unmet: result.fit.unmet })
  })
}

/** The unmet limit that accounts for a violation the engine found, if any. */
const reportedBy = (unmet: ReadonlyArray<RiskViolation>, v: RiskViolation) =>
  unmet.some((u) =>
    u.rule === v.rule &&
    (v.rule === "max_sector_weight" ? u.sector === v.sector : v.symbol === undefined || u.symbol === undefined || u.symbol === v.symbol)
  )

/** The rules a fit moves weights for: a violation of one of them must have been reported as unmet. */
const FITTED_RULES = new Set<string>(FitRule.literals)

describe("Fit properties", () => {
  it("fitted orders break no limit the fit works on, unless the fit reports the limit as unmet", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const result = fitted(c)
        const verdict = judge(c, result)
        const unmet = result.fit!.unmet
        const unexplained = verdict.violations.filter((v) => FITTED_RULES.has(v.rule) && !reportedBy(unmet, v))
        expect(unexplained, canonicalJson({ unmet, fit: result.fit!.adjustments })).toEqual([])
        // Orders alone decide: what the fit reports blocks nothing, the rest of a violation blocks.
        expect(verdict.passed).toBe(verdict.violations.every((v) => unmet.some((u) => u === v)))
      }),
      RUNS
    )
  })

  it("never lets lot rounding take the turnover over its cap", () => {
    fc.assert(
      fc.property(cases.filter((c) => c.limits.maxTurnover !== undefined), (c) => {
        const result = fitted(c)
        const traded = Dec.sum(result.orders.map((o) => Dec.mul(o.quantity, o.referencePrice)))
        const cap = Dec.mul(c.limits.maxTurnover!, result.plan.settings.portfolioValue)
        expect(Dec.lte(traded, cap), `${Dec.toString(traded)} > ${Dec.toString(cap)}`).toBe(true)
      }),
      RUNS
    )
  })

  it("moves no weight further than its rule asks, and a book-wide scale lands on its cap", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const plan = Either.getOrThrow(BuildInputs.validate(c.input))
        const fit = Fit.fitPlan(plan, c.limits)
        const { settings } = plan
        const pv = F.fromDecimal(settings.portfolioValue)
        const ev = F.fromDecimal(Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio)))
        const d = Dec.unsafe
        const book = fit.adjustments.filter((a) => a.symbol === undefined && a.sector === undefined)
        const scaledSectors = new Set(fit.adjustments.filter((a) => a.symbol === undefined && a.sector !== undefined).map((a) => a.sector))
        const perName = new Set(fit.adjustments.filter((a) => a.symbol !== undefined).map((a) => a.symbol))

        for (const a of fit.adjustments) {
          const [from, to] = [d(a.from), d(a.to)]
          switch (a.rule) {
            case "restricted_symbol":
              expect(c.limits.restrictedSymbols).toContain(a.symbol)
              break
            case "long_only":
              expect(Dec.isNegative(from) && Dec.isZero(to), canonicalJson(a)).toBe(true)
              break
            case "max_name_weight":
              expect(Dec.gt(Dec.abs(from), c.limits.maxNameWeight!) && Dec.eq(Dec.abs(to), c.limits.maxNameWeight!), canonicalJson(a)).toBe(true)
              break
            case "max_position_ratio": {
              // The position cap as a weight of the invested value: exactly there.
              const cap = F.toString(F.div(F.fromDecimal(Dec.mul(c.limits.maxPositionRatio!, settings.portfolioValue)), ev))
              expect(Dec.eq(Dec.abs(to), d(cap)), canonicalJson(a)).toBe(true)
              expect(Dec.gt(Dec.abs(from), d(cap))).toBe(true)
              break
            }
            case "max_sector_weight":
              // A name held back at its position by the turnover cap; a name of a scaled sector, by its
              // sector's factor and toward zero; or a sector's scale, onto its cap.
              if (a.symbol !== undefined && a.factor === undefined) {
                expect(c.limits.maxTurnover, canonicalJson(a)).toBeDefined()
                break
              }
              if (a.symbol !== undefined) {
                const sectorScale = fit.adjustments.find((m) => m.rule === "max_sector_weight" && m.symbol === undefined && m.sector === a.sector)
                expect(sectorScale?.factor, canonicalJson(a)).toEqual(a.factor)
                expect(Dec.lte(Dec.abs(to), Dec.abs(from)) && Dec.sign(to) * Dec.sign(from) >= 0, canonicalJson(a)).toBe(true)
                // The factor is recorded to 18 decimals, the weight scaled by the exact one.
                expect(Dec.lt(Dec.abs(Dec.sub(to, Dec.mul(from, d(a.factor!)))), d("1e-15")), canonicalJson(a)).toBe(true)
                break
              }
              expect(Dec.gt(from, c.limits.maxSectorWeight!), canonicalJson(a)).toBe(true)
              expect(Dec.eq(to, c.limits.maxSectorWeight!) || (Dec.isZero(d(a.factor!)) && Dec.gt(to, c.limits.maxSectorWeight!)), canonicalJson(a)).toBe(true)
              break
            case "max_gross_exposure":
            case "max_net_exposure": {
              const limit = a.rule === "max_gross_exposure" ? c.limits.maxGrossExposure! : c.limits.maxNetExposure!
              if (a.lots) break
              expect(Dec.gt(Dec.abs(from), limit), canonicalJson(a)).toBe(true)
              // Onto the cap, unless positions the fit may not move are past it on their own: then every
              // free name of the side is flat (whether the book ends past it is the first property's).
              const onCap = Dec.eq(Dec.abs(to), limit)
              expect(onCap || (Dec.isZero(d(a.factor!)) && Dec.gt(Dec.abs(to), limit)), canonicalJson(a)).toBe(true)
              break
            }
            case "max_turnover": {
              if (a.lots) break
              expect(Dec.gt(from, c.limits.maxTurnover!) && Dec.lte(to, c.limits.maxTurnover!), canonicalJson(a)).toBe(true)
              // Onto the cap, unless names that would add to a sector left above its cap were held back
              // (recorded after it), and what remained then fit whole.
              const heldBack = fit.adjustments.slice(fit.adjustments.indexOf(a)).some((m) => m.rule === "max_sector_weight")
              if (!heldBack) expect(Dec.eq(to, c.limits.maxTurnover!)).toBe(true)
              break
            }
          }
        }

        // A name no rule of its own moved keeps its decided weight, unless a book-wide scale moved every name.
        if (book.length === 0) {
          for (let k = 0; k < plan.items.length; k++) {
            const target = fit.items[k]
            // (A restricted name already where the decision wants it is held, with nothing to record.)
            const i = plan.items[k]!
            const sector = i.sector ?? plan.securities.get(i.symbol)?.sector
            if (sector !== undefined && scaledSectors.has(sector) && target?.hold === false && !Dec.isZero(target.weight)) {
              // A name its sector's scale moved has that move recorded for it.
              const own = fit.adjustments.some((a) => a.rule === "max_sector_weight" && a.symbol === i.symbol && a.factor !== undefined)
              expect(own, `${i.symbol} in ${sector}`).toBe(true)
            }
            if (perName.has(i.symbol) || target?.hold === true || (sector !== undefined && scaledSectors.has(sector))) continue
            expect(target, i.symbol).toBeUndefined()
          }
        }

        // A sector scaled onto its cap lands on it exactly, when nothing book-wide moved it afterwards.
        if (c.limits.maxSectorWeight !== undefined && book.length === 0) {
          const cap = F.fromDecimal(Dec.mul(c.limits.maxSectorWeight, settings.portfolioValue))
          const value = new Map<string, F.Fraction>()
          // Each target is kept to a last decimal, toward zero: a sector on its cap may be short of it by
          // one unit of that decimal a name.
          const slack = new Map<string, F.Fraction>()
          plan.items.forEach((i, k) => {
            const price = plan.joined.price[k] ?? i.price
            const sector = i.sector ?? plan.securities.get(i.symbol)?.sector
            if (price === undefined || sector === undefined) return
            const held = F.fromDecimal(Dec.mul(plan.joined.held[k] ?? Dec.ZERO, price))
            const t = fit.items[k]
            const target = t === undefined ? F.fromDecimal(Dec.mul(i.weight, Dec.mul(settings.portfolioValue, Dec.sub(Dec.ONE, settings.cashBufferRatio)))) : t.hold ? held : F.fromDecimal(t.value)
            value.set(sector, F.add(value.get(sector) ?? F.ZERO, F.abs(target)))
            if (t !== undefined && !t.hold) slack.set(sector, F.add(slack.get(sector) ?? F.ZERO, F.fromDecimal(Dec.make(1n, t.value.scale))))
          })
          for (const h of plan.joined.heldOutside) {
            const sector = plan.securities.get(h.symbol)?.sector
            if (h.price === undefined || sector === undefined) continue
            const kept = fit.outside.get(h.symbol)
            const keptHeld = !settings.liquidateMissing || kept?.hold === true
            if (keptHeld) value.set(sector, F.add(value.get(sector) ?? F.ZERO, F.abs(F.fromDecimal(Dec.mul(h.quantity, h.price)))))
          }
          for (const [sector, v] of value) {
            const reported = fit.unmet.some((u) => u.rule === "max_sector_weight" && u.sector === sector)
            if (scaledSectors.has(sector) && !reported) expect(!F.gt(v, cap) && !F.gt(F.sub(cap, v), slack.get(sector) ?? F.ZERO), sector).toBe(true)
            if (!reported) expect(F.gt(v, cap), sector).toBe(false)
          }
        }
        expect(pv.den > 0n).toBe(true)
      }),
      RUNS
    )
  })

  it("gives the same fit for the same input, byte for byte", () => {
    fc.assert(
      fc.property(cases, (c) => {
        expect(canonicalJson(fitted(c))).toBe(canonicalJson(fitted(c)))
      }),
      RUNS
    )
  })

  it("is rebuilt by a run's replay, move for move", async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const direct = fitted(c)
        const input = c.input
        const quotes = (input.prices ?? []).map((p) => quote(String(p.symbol), p.price as string))
        const report = await Effect.runPromise(Effect.gen(function*() {
          const world = yield* makeWorld({ quotes })
          const run = yield* world.queueRun(
            input.items.map((i) => item(String(i.symbol), i.weight as string, i.sector === undefined ? {} : { sector: String(i.sector) })),
            {
              portfolioValue: Dec.unsafe(input.portfolioValue as string),
              cash: Dec.unsafe(input.cash as string),
              cashBufferRatio: Dec.unsafe(input.cashBufferRatio as string),
              liquidateMissing: input.liquidateMissing!,
              positions: (input.positions ?? []).map((p) => ({ symbol: p.symbol as Symbol, quantity: Dec.unsafe(p.quantity as string) })),
              securities: (input.securities ?? []).map((s) => ({
                symbol: s.symbol as Symbol,
                lotSize: Dec.unsafe(s.lotSize as string),
                ...(s.sector === undefined ? {} : { sector: String(s.sector) })
              })),
              risk: c.limits,
              riskPolicy: "fit"
            }
          )
          yield* world.runner.execute(run.id, { dryRun: true })
          const recorded = (yield* world.runner.report(run.id)).run.recorded!
          const built = world.audit.events.find((e) => e.type === "trade_run.orders_built")!.payload as { fit: unknown }
          return { recorded, built, replay: yield* world.runner.replay(run.id) }
        }))
        expect(canonicalJson(report.recorded.fit)).toBe(canonicalJson(direct.fit))
        expect(canonicalJson(report.built.fit)).toBe(canonicalJson(direct.fit))
        expect(report.replay).toMatchObject({ replayable: true, ordersMatch: true, fitMatches: true, fitDifferences: [] })
      }),
      RUNS
    )
  }, 120_000)
})
