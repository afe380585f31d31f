/**
 * The JSON document written a piece at a time is the text `JSON.stringify(document, null, 2)` makes of it.
 */
import { describe, expect, it } from "@effect/vitest"
import { each, materialize, prettyJson } from "../../adapters/cli/lines.js"

const written = (document: unknown) => [...prettyJson(document)].join("\n")

describe("a JSON document written line by line", () => {
  it("is the text JSON.stringify makes of the whole document, whatever it holds", () => {
    const orders = Array.from({ length: 3 }, (_, i) => ({ id: `o${i}`, quantity: String(i * 10), nested: { a: [1, { b: null }], e: [] } }))
    const document = {
      run: { id: "run_1", error: null, params: { risk: { max: "0.1" }, none: {} }, skip: undefined },
      orders: each(orders, (o) => ({ ...o, extra: o.id === "o1" ? undefined : "x\n\"quoted\"" })),
      fills: each([], (x) => x),
      tca: { orders: each(orders, (o) => ({ id: o.id, empty: {} })), totals: { n: 3, list: ["a", "b"] } },
      mixed: [1, each([2, 3], (x) => x * 2), undefined, { inner: each(["é", "\u2028"], (s) => s) }],
      // More elements than are written together, and an element that holds more to make one by one.
      many: each(Array.from({ length: 600 }, (_, i) => i), (i) => (i === 300 ? { i, inner: each([i], (x) => [x]) } : { i, at: [i, "x"] })),
      empty: {},
      fn: () => 1
    }
    const whole = JSON.stringify(materialize(document), null, 2)
    expect(written(document)).toBe(whole)
    expect(whole).toContain(`"orders": [\n    {\n      "id": "o0",`)
  })

  it("writes a document, or an array made one by one, as JSON.stringify does", () => {
    for (const document of [{ a: 1, b: [1, 2, { c: "d" }] }, [], {}, "text", 12, null, [each([], (x) => x)], each([1, { a: [2, {}] }], (x) => x)]) {
      expect(written(document)).toBe(JSON.stringify(materialize(document), null, 2))
    }
  })

  it("makes the elements as they are written, a few hundred at a time, not all before", () => {
    const made: Array<number> = []
    const items = Array.from({ length: 1000 }, (_, i) => i)
    const lines = prettyJson({ items: each(items, (x) => (made.push(x), { x })) })[Symbol.iterator]()
    lines.next()
    lines.next()
    expect(made).toEqual([])
    lines.next()
    expect(made.length).toBeGreaterThan(0)
    expect(made.length).toBeLessThan(items.length)
    expect(made).toEqual(items.slice(0, made.length))
  })
})
