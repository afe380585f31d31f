import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import * as Json from "../../../adapters/lean/ExactJson.js"
import * as Dec from "../../../src/domain/Decimal.js"

const parsed = (text: string) => Either.getOrThrow(Json.parse(text))

describe("ExactJson", () => {
  it("keeps every digit of a number, where JSON.parse would round it to a double", () => {
    const text = `{"fillPrice": 100.0000000000000001, "fillQuantity": -12345678901234567890.5, "fee": 1e-3}`
    const value = parsed(text)
    expect(Json.isObject(value)).toBe(true)
    const object = value as Json.JsonObject
    expect(Option.map(Json.decimal(object["fillPrice"]), Dec.toString)).toEqual(Option.some("100.0000000000000001"))
    expect(Option.map(Json.decimal(object["fillQuantity"]), Dec.toString)).toEqual(Option.some("-12345678901234567890.5"))
    expect(Option.map(Json.decimal(object["fee"]), Dec.toString)).toEqual(Option.some("0.001"))
    expect((JSON.parse(text) as { fillPrice: number }).fillPrice).toBe(100)
  })

  it("reads strings with their escapes, arrays, nesting, literals and a byte order mark", () => {
    const value = parsed(`\uFEFF [ {"a": "line\\n\\"quoted\\" \\u00e9", "b": [true, false, null, []], "c": {}} ]`)
    expect(value).toEqual([{ a: "line\n\"quoted\" é", b: [true, false, null, []], c: {} }])
  })

  it("refuses what is not JSON, saying where: a file LEAN is halfway through writing", () => {
    for (const text of ["", "{\"orders\": {\"1\": {\"id\": 1,", "[1, 2", "{\"a\" 1}", "01", "[1] x", "\"open"]) {
      const result = Json.parse(text)
      expect(Either.isLeft(result), text).toBe(true)
    }
    const error = Either.getLeft(Json.parse("{\"a\": tru}")).pipe(Option.getOrThrow)
    expect(error.message).toContain("position 6")
  })

  it("does not let a property named __proto__ change the object it is read into", () => {
    const object = parsed(`{"__proto__": {"polluted": true}, "x": 1}`) as Json.JsonObject
    expect(Object.keys(object)).toEqual(["__proto__", "x"])
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
  })

  it("writes decimals digit for digit and leaves out undefined properties", () => {
    const text = Json.stringify({
      Quantity: Dec.unsafe("-0.000000000000000000123"),
      LimitPrice: Dec.unsafe("1234567890.1234567890123"),
      StopPrice: new Json.JsonNumber("0"),
      Tag: "AAA-B-1",
      Skipped: undefined,
      List: [Dec.unsafe(1), null, true]
    })
    expect(text).toBe(
      `{"Quantity":-0.000000000000000000123,"LimitPrice":1234567890.1234567890123,"StopPrice":0,"Tag":"AAA-B-1","List":[1,null,true]}`
    )
    expect(Option.map(Json.decimal((parsed(text) as Json.JsonObject)["Quantity"]), Dec.toString)).toEqual(
      Option.some("-0.000000000000000000123")
    )
  })

  it("refuses an object that gives the same key twice, naming it, where JSON.parse keeps the last", () => {
    const result = Json.parse(`{"a": 1, "b": {"c": 2, "c": 3}}`)
    expect(Either.isLeft(result) && result.left instanceof Json.JsonDuplicateKey && result.left.key).toBe("c")
    expect(Either.isLeft(result) && result.left.message).toBe(`invalid JSON at position 23: the key "c" appears twice in one object`)
    // The same name in different objects, or in different cases, is no duplicate.
    expect(Either.isRight(Json.parse(`[{"c": 1}, {"c": 2, "C": 3}]`))).toBe(true)
  })

  it("finds a property whatever its casing, preferring the exact name", () => {
    const object = parsed(`{"Orders": 1, "success": 2, "SUCCESS": 3}`) as Json.JsonObject
    expect(Json.field(object, "orders")).toEqual(new Json.JsonNumber("1"))
    expect(Json.field(object, "success")).toEqual(new Json.JsonNumber("2"))
    expect(Json.field(object, "missing", "ORDERS")).toEqual(new Json.JsonNumber("1"))
    expect(Json.integer(new Json.JsonNumber("1.0"))).toEqual(Option.some(1))
    expect(Json.integer(new Json.JsonNumber("1.5"))).toEqual(Option.none())
  })
})
