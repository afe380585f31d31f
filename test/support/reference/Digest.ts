// As of commit 92e9b90, before this round of performance work: the reference the differential property
// tests hold the current code to. Kept as it was; not used by the library.
/**
 * Content digests: sha-256 over a canonical JSON serialization, so the same content always hashes the
 * same whatever the key order or the decimal's written form (`1.50` and `1.5` are one value).
 */
import { hash } from "node:crypto"
import { BigDecimal } from "effect"
import * as Dec from "./Decimal.js"

// Sorted key lists by an object's key list as written: the same few shapes (orders, quotes, events) are
// serialized thousands of times per run, and sorting their keys each time is most of the work.
const sortedKeys = new Map<string, ReadonlyArray<string>>()
const keysOf = (record: Record<string, unknown>): ReadonlyArray<string> => {
  const keys = Object.keys(record)
  const shape = keys.join("\u0000")
  let sorted = sortedKeys.get(shape)
  if (sorted === undefined) {
    sorted = [...keys].sort()
    if (sortedKeys.size < 10_000) sortedKeys.set(shape, sorted)
  }
  return sorted
}

const write = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "number":
      if (!Number.isFinite(value)) throw new RangeError(`cannot digest the number ${value}`)
      return JSON.stringify(value)
    case "bigint":
      return `"${value.toString()}"`
    case "object": {
      if (value === null) return "null"
      if (BigDecimal.isBigDecimal(value)) return `"${Dec.toString(value)}"`
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ","
          const item = value[i]
          out += item === undefined ? "null" : write(item)
        }
        return out + "]"
      }
      const record = value as Record<string, unknown>
      let out = "{"
      let first = true
      for (const key of keysOf(record)) {
        const member = record[key]
        if (member === undefined) continue
        out += `${first ? "" : ","}${JSON.stringify(key)}:${write(member)}`
        first = false
      }
      return out + "}"
    }
    default:
      throw new TypeError(`cannot digest a ${typeof value}`)
  }
}

/**
 * JSON with object keys sorted, `undefined` members dropped, decimals as canonical text. Arrays keep
 * their order: order is content.
 */
export const canonicalJson = (value: unknown): string => write(value)

export const sha256Hex = (text: string): string => hash("sha256", text, "hex")

export const digestOf = (value: unknown): string => sha256Hex(canonicalJson(value))
