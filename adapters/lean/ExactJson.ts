/**
 * JSON with exact numbers. LEAN writes quantities, prices and fees as JSON numbers (Json.NET prints a C#
 * `decimal` with all its digits); `JSON.parse` would round each one to the nearest binary double before we
 * could see it, and a reviver only ever receives the rounded value. So numbers are kept as the text LEAN
 * wrote (`JsonNumber`) and turned into decimals from that text; on the way out, decimals are written as
 * their exact text too.
 */
import { BigDecimal, Either, Option, Predicate, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"

/** A JSON number exactly as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue =
  | null
  | boolean
  | string
  | JsonNumber
  | ReadonlyArray<JsonValue>
  | JsonObject

export interface JsonObject {
  readonly [key: string]: JsonValue
}

/** The text is not JSON: `position` is the character offset where reading stopped. */
export class JsonSyntaxError extends Schema.TaggedError<JsonSyntaxError>()("JsonSyntaxError", {
  position: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid JSON at position ${this.position}: ${this.reason}`
  }
}

/** An object that gives the same key twice: `JSON.parse` keeps the last silently, which hides a mistake. */
export class JsonDuplicateKey extends Schema.TaggedError<JsonDuplicateKey>()("JsonDuplicateKey", {
  position: Schema.Number,
  key: Schema.String
}) {
  override get message(): string {
    return `invalid JSON at position ${this.position}: the key ${JSON.stringify(this.key)} appears twice in one object`
  }
}

/** Why `parse` refused a text. */
export type JsonError = JsonSyntaxError | JsonDuplicateKey

const isJsonError = (thrown: unknown): thrown is JsonError =>
  Predicate.isTagged(thrown, "JsonSyntaxError") || Predicate.isTagged(thrown, "JsonDuplicateKey")

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const WHITESPACE = /[ \t\n\r]*/y

export const parse = (input: string): Either.Either<JsonValue, JsonError> => {
  // .NET may write a byte order mark; it is not part of the document.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  let pos = 0

  const fail = (reason: string): never => {
    throw new JsonSyntaxError({ position: pos, reason })
  }
  const skip = () => {
    WHITESPACE.lastIndex = pos
    WHITESPACE.test(text)
    pos = WHITESPACE.lastIndex
  }
  const expect = (literal: string) => {
    if (!text.startsWith(literal, pos)) fail(`expected ${literal}`)
    pos += literal.length
  }

  const string = (): string => {
    const start = pos
    pos += 1
    for (;;) {
      const c = text.charCodeAt(pos)
      if (Number.isNaN(c)) fail("unterminated string")
      if (c === 0x22) break
      if (c < 0x20) fail("control character in string")
      pos += c === 0x5c ? 2 : 1
    }
    pos += 1
    // The string is well delimited; JSON.parse decodes its escapes exactly (strings are not numbers).
    try {
      return JSON.parse(text.slice(start, pos)) as string
    } catch {
      return fail("invalid escape in string")
    }
  }

  const value = (): JsonValue => {
    skip()
    const c = text[pos]
    switch (c) {
      case "{": {
        pos += 1
        const object: Record<string, JsonValue> = Object.create(null)
        skip()
        if (text[pos] === "}") {
          pos += 1
          return object
        }
        for (;;) {
          skip()
          if (text[pos] !== "\"") fail("expected a property name")
          const keyAt = pos
          const key = string()
          if (key in object) throw new JsonDuplicateKey({ position: keyAt, key })
          skip()
          expect(":")
          object[key] = value()
          skip()
          if (text[pos] === ",") {
            pos += 1
            continue
          }
          expect("}")
          return object
        }
      }
      case "[": {
        pos += 1
        const array: Array<JsonValue> = []
        skip()
        if (text[pos] === "]") {
          pos += 1
          return array
        }
        for (;;) {
          array.push(value())
          skip()
          if (text[pos] === ",") {
            pos += 1
            continue
          }
          expect("]")
          return array
        }
      }
      case "\"":
        return string()
      case "t":
        expect("true")
        return true
      case "f":
        expect("false")
        return false
      case "n":
        expect("null")
        return null
      default: {
        NUMBER.lastIndex = pos
        const match = NUMBER.exec(text)
        if (match === null) return fail(c === undefined ? "unexpected end" : `unexpected ${JSON.stringify(c)}`)
        pos = NUMBER.lastIndex
        return new JsonNumber(match[0])
      }
    }
  }

  try {
    const result = value()
    skip()
    if (pos !== text.length) fail("trailing characters")
    return Either.right(result)
  } catch (error) {
    if (isJsonError(error)) return Either.left(error)
    throw error
  }
}

/** What `stringify` writes: JSON values, with decimals written as exact numbers. */
export type JsonWritable =
  | null
  | boolean
  | string
  | JsonNumber
  | Dec.Decimal
  | ReadonlyArray<JsonWritable>
  | { readonly [key: string]: JsonWritable | undefined }

/** Compact JSON; decimals and `JsonNumber`s are written digit for digit, keys in insertion order. */
export const stringify = (value: JsonWritable): string => {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value)
  if (value instanceof JsonNumber) return value.text
  if (Dec.isDecimal(value)) return Dec.toString(value)
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`
  const parts: Array<string> = []
  for (const [key, item] of Object.entries(value as { readonly [key: string]: JsonWritable | undefined })) {
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${stringify(item)}`)
  }
  return `{${parts.join(",")}}`
}

// Reading the shapes LEAN writes. Json.NET's casing differs between LEAN versions and serializer settings
// (`orders` / `Orders`, `success` / `Success`), so property names are matched without regard to case.

export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber)

/** The first of `names` the object has, compared without case. */
export const field = (object: JsonObject, ...names: ReadonlyArray<string>): JsonValue | undefined => {
  for (const name of names) {
    if (name in object) return object[name]
  }
  const wanted = new Set(names.map((n) => n.toLowerCase()))
  for (const key of Object.keys(object)) {
    if (wanted.has(key.toLowerCase())) return object[key]
  }
  return undefined
}

/** A decimal from a JSON number (or a numeric string), exactly as written. */
export const decimal = (value: JsonValue | undefined): Option.Option<Dec.Decimal> =>
  value instanceof JsonNumber ? Dec.parse(value.text) : typeof value === "string" ? Dec.parse(value) : Option.none()

/** A whole number that fits a JS number exactly (LEAN's order and event ids are 32-bit integers). */
export const integer = (value: JsonValue | undefined): Option.Option<number> =>
  Option.flatMap(decimal(value), (d) => {
    const normalized = BigDecimal.normalize(d)
    if (normalized.scale > 0) return Option.none()
    const n = Number(normalized.value * 10n ** BigInt(-normalized.scale))
    return Number.isSafeInteger(n) ? Option.some(n) : Option.none()
  })

export const text = (value: JsonValue | undefined): Option.Option<string> =>
  typeof value === "string" ? Option.some(value) : Option.none()
