/**
 * Content digests: sha-256 over a canonical JSON serialization, so the same content always hashes the
 * same whatever the key order or the decimal's written form (`1.50` and `1.5` are one value).
 */
import { createHash, hash } from "node:crypto"
import * as Dec from "./domain/Decimal.js"

/**
 * How to write an object of one key list: its keys in sorted order, each with its `"key":` text, and where
 * each sits in the key list as written.
 */
interface Shape {
  readonly keys: ReadonlyArray<string>
  readonly sorted: ReadonlyArray<string>
  readonly prefixes: ReadonlyArray<string>
}

// Shapes by their first key: the same few shapes (orders, quotes, items, audit payloads) are written tens
// of thousands of times a run, and sorting their keys (or even joining them into a cache key, which
// makes a string to hash each time) was most of the work. A candidate matches when its key list is the
// same, compared element by element (property names are interned, so that is pointer work).
const shapes = new Map<string, Array<Shape>>()
let shapeCount = 0

const sameKeys = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const shapeOf = (keys: ReadonlyArray<string>): Shape => {
  const first = keys[0]!
  const candidates = shapes.get(first)
  if (candidates !== undefined) {
    for (const shape of candidates) if (sameKeys(shape.keys, keys)) return shape
  }
  const sorted = [...keys].sort()
  const shape: Shape = { keys, sorted, prefixes: sorted.map((key) => `${JSON.stringify(key)}:`) }
  // Bounded: a host writing objects of ever new shapes gets them written correctly, just not cached.
  if (shapeCount < 10_000) {
    shapeCount += 1
    if (candidates === undefined) shapes.set(first, [shape])
    else candidates.push(shape)
  }
  return shape
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
      if (Array.isArray(value)) return writeArray(value)
      if (Dec.isDecimal(value)) return `"${Dec.toString(value)}"`
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
      if (keys.length === 0) return "{}"
      const { sorted, prefixes } = shapeOf(keys)
      let out = "{"
      for (let i = 0; i < sorted.length; i++) {
        const member = record[sorted[i]!]
        if (member === undefined) continue
        if (out.length > 1) out += ","
        out += prefixes[i]!
        out += write(member)
      }
      return out + "}"
    }
    default:
      throw new TypeError(`cannot digest a ${typeof value}`)
  }
}

/** Text in one piece past this length; see `writeArray`. */
const CHUNK = 1 << 16

/**
 * An array's JSON. Appending to a string makes a rope, a node per piece; a large document (the prices of a
 * 50,000-name run) held as a rope while it grows is copied by every young-generation collection on the way
 * and lands in the old generation, which made writing one cost several times its size in time. So the
 * rope is cut into flat chunks of 64 KB (`charCodeAt` flattens it: one object instead of thousands, cheap
 * to copy), and the chunks are joined once at the end. 64 KB measured best between 16 KB and 1 MB.
 */
const writeArray = (value: ReadonlyArray<unknown>): string => {
  let out = "["
  let chunks: Array<string> | undefined
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ","
    const item = value[i]
    out += item === undefined ? "null" : write(item)
    if (out.length >= CHUNK) {
      out.charCodeAt(0)
      ;(chunks ??= []).push(out)
      out = ""
    }
  }
  out += "]"
  if (chunks === undefined) return out
  chunks.push(out)
  return chunks.join("")
}

/**
 * JSON with object keys sorted, `undefined` members dropped, decimals as canonical text. Arrays keep
 * their order: order is content.
 */
export const canonicalJson = (value: unknown): string => write(value)

export const sha256Hex = (text: string): string => hash("sha256", text, "hex")

/**
 * sha-256 of the canonical JSON. An array (a snapshot's items) is hashed a chunk at a time as it is
 * written, never held whole: at 50,000 items the text is 5 MB, and its UTF-8 copy for hashing was a
 * native allocation large enough to move the C allocator's thresholds and keep that memory resident.
 */
export const digestOf = (value: unknown): string => {
  if (!Array.isArray(value)) return sha256Hex(canonicalJson(value))
  const digest = createHash("sha256")
  let chunk = "["
  for (let i = 0; i < value.length; i++) {
    if (i > 0) chunk += ","
    const item = value[i]
    chunk += item === undefined ? "null" : write(item)
    if (chunk.length >= CHUNK) {
      digest.update(chunk)
      chunk = ""
    }
  }
  digest.update(chunk + "]")
  return digest.digest("hex")
}
