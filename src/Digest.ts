/**
 * Content digests: sha-256 over a canonical JSON serialization, so the same content always hashes the
 * same whatever the key order or the decimal's written form (`1.50` and `1.5` are one value).
 */
import { hash } from "node:crypto"
import { BigDecimal } from "effect"
import * as Dec from "./domain/Decimal.js"

/**
 * JSON with object keys sorted, `undefined` members dropped, decimals as canonical text. Arrays keep
 * their order: order is content.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value === "boolean") return JSON.stringify(value)
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`cannot digest the number ${value}`)
    return JSON.stringify(value)
  }
  if (typeof value === "bigint") return JSON.stringify(value.toString())
  if (BigDecimal.isBigDecimal(value)) return JSON.stringify(Dec.toString(value))
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`
  if (typeof value === "object") {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(",")}}`
  }
  throw new TypeError(`cannot digest a ${typeof value}`)
}

export const sha256Hex = (text: string): string => hash("sha256", text, "hex")

export const digestOf = (value: unknown): string => sha256Hex(canonicalJson(value))
