import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import * as SymbolIndex from "../../src/internal/SymbolIndex.js"

/** Distinct symbols drawn from a small alphabet, so that lookups of absent symbols fall between them. */
const symbols = fc.uniqueArray(fc.stringMatching(/^[A-D]{1,3}$/), { maxLength: 60 })

/** Lookups as a join makes them: in symbol order, in symbol order with a few steps back, or in no order. */
const lookups = (present: ReadonlyArray<string>) =>
  fc.oneof(
    fc.array(fc.oneof(fc.constantFrom(...present, "A", "DDDD"), fc.stringMatching(/^[A-D]{1,3}$/)), { maxLength: 80 }).map(
      (xs) => [...xs].sort()
    ),
    fc.array(fc.oneof(fc.constantFrom(...present, "A"), fc.stringMatching(/^[A-D]{1,3}$/)), { maxLength: 80 }).map(
      (xs) => {
        const sorted = [...xs].sort()
        return [...sorted.slice(0, sorted.length >> 1).reverse(), ...sorted.slice(sorted.length >> 1)]
      }
    ),
    fc.array(fc.oneof(fc.constantFrom(...present, "A"), fc.stringMatching(/^[A-D]{1,3}$/)), { maxLength: 80 })
  )

describe("SymbolIndex", () => {
  it("finds every symbol where a table by symbol would, however the lookups come", () => {
    fc.assert(
      fc.property(
        symbols.chain((list) => fc.tuple(fc.constant(list), lookups(list))),
        ([list, queries]) => {
          const ordered = [...list].sort()
          const table = new Map(ordered.map((s, i) => [s, i] as const))
          const index = SymbolIndex.ascending(ordered)
          for (const q of queries) expect(index.indexOf(q)).toBe(table.get(q))
        }
      ),
      { numRuns: 500 }
    )
  })

  it("finds symbols far apart in one list, past its walk, and again after many steps back", () => {
    const list = Array.from({ length: 5000 }, (_, i) => `S${String(i).padStart(5, "0")}`)
    const index = SymbolIndex.ascending(list)
    expect(index.indexOf("S00000")).toBe(0)
    expect(index.indexOf("S04000")).toBe(4000)
    expect(index.indexOf("S04000A")).toBeUndefined()
    expect(index.indexOf("S04001")).toBe(4001)
    for (let i = 4999; i >= 0; i -= 7) expect(index.indexOf(list[i]!)).toBe(i)
    expect(index.indexOf("T")).toBeUndefined()
    expect(index.indexOf("A")).toBeUndefined()
  })
})
