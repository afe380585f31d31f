/**
 * Content digests: sha-256 over a canonical JSON serialization, so the same content always hashes the
 * same whatever the key order or the decimal's written form (`1.50` and `1.5` are one value).
 *
 * The canonical JSON is RFC 8785, the JSON Canonicalization Scheme (JCS), of the value once its decimals
 * and bigints are canonical strings (`Dec.toString`: `"1.5"`, never `1.50` or a binary double; a
 * bigint's digits) and a `Duration` its milliseconds: object keys sorted by UTF-16 code unit, no
 * whitespace, strings and numbers as ECMAScript's `JSON.stringify` writes them. Members that are
 * `undefined` are left out, and are `null` in an array, as `JSON.stringify` has them. (A lone surrogate,
 * which JCS refuses, is written as `JSON.stringify` escapes it.) test/core/Digest.test.ts holds it to an
 * independent JCS implementation.
 */
import { createHash, createHmac, type Hash, hash } from "node:crypto"
import { Duration } from "effect"
import * as Dec from "./domain/Decimal.js"

/**
 * How to write an object of one key list: its keys in sorted order, each with its `"key":` as UTF-8 bytes,
 * and where each sits in the key list as written.
 */
interface Shape {
  readonly keys: ReadonlyArray<string>
  readonly sorted: ReadonlyArray<string>
  readonly prefixes: ReadonlyArray<Uint8Array>
  /** Every key is ASCII: bytes and characters are one. */
  readonly ascii: boolean
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
    for (let i = 0; i < candidates.length; i++) if (sameKeys(candidates[i]!.keys, keys)) return candidates[i]!
  }
  const sorted = [...keys].sort()
  const prefixes = sorted.map((key) => Buffer.from(`${JSON.stringify(key)}:`, "utf8"))
  const ascii = prefixes.every((prefix, i) => prefix.length === JSON.stringify(sorted[i]).length + 1)
  const shape: Shape = { keys, sorted, prefixes, ascii }
  // Bounded: a host writing objects of ever new shapes gets them written correctly, just not cached.
  if (shapeCount < 10_000) {
    shapeCount += 1
    if (candidates === undefined) shapes.set(first, [shape])
    else candidates.push(shape)
  }
  return shape
}

const TRUE = Buffer.from("true")
const FALSE = Buffer.from("false")
const NULL = Buffer.from("null")
const QUOTE = 34
const COMMA = 44
const MINUS = 45
const POINT = 46
const ZERO_DIGIT = 48
const BUFFER_SIZE = 1 << 16
const BILLION = 1_000_000_000
const POWERS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, BILLION]
const ZERO_TEXT = Buffer.from(`"0"`)

/**
 * Canonical JSON written as UTF-8 bytes into one buffer, never as strings: joining the text of a value
 * from the text of its parts made a string for every part and every join (a decimal alone made five),
 * the largest allocation of a run. A digest hashes the buffer each time it fills; text is decoded once,
 * at the end. Writes plain ASCII (keys, digits, the usual symbol and sector) byte by byte; anything that
 * JSON escapes, and anything outside printable ASCII, goes through `JSON.stringify` and the UTF-8 encoder.
 */
class Writer {
  buf = Buffer.allocUnsafe(BUFFER_SIZE)
  pos = 0
  ascii = true
  sink: Hash | undefined = undefined

  /** Room for `n` more bytes: a digest hands what is written to the hash, text grows the buffer. */
  need(n: number): void {
    if (this.pos + n <= this.buf.length) return
    if (this.sink !== undefined && this.pos > 0) {
      this.sink.update(this.buf.subarray(0, this.pos))
      this.pos = 0
      if (n <= this.buf.length) return
    }
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  byte(c: number): void {
    if (this.pos === this.buf.length) this.need(1)
    this.buf[this.pos++] = c
  }

  bytes(b: Uint8Array): void {
    this.need(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Text whose JSON is the text itself (ASCII, nothing escaped), or that is already JSON. */
  utf8(text: string): void {
    this.need(text.length * 3)
    const written = this.buf.write(text, this.pos, "utf8")
    if (written !== text.length) this.ascii = false
    this.pos += written
  }

  string(s: string): void {
    this.need(s.length + 2)
    const { buf } = this
    const start = this.pos
    let pos = start
    buf[pos++] = QUOTE
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) {
        this.pos = start
        this.utf8(JSON.stringify(s))
        return
      }
      buf[pos++] = c
    }
    buf[pos++] = QUOTE
    this.pos = pos
  }

  /**
   * The digits of a non-negative safe integer. In 32-bit integer arithmetic, nine digits at a time:
   * the remainder of a double is a call into C, and a decimal is written for every price of a run.
   */
  digits(n: number): void {
    if (n >= BILLION) {
      let high = Math.floor(n / BILLION)
      let low = n - high * BILLION
      // `n / BILLION` is rounded, and may round up to the next integer.
      if (low < 0) {
        high -= 1
        low += BILLION
      }
      this.digits(high)
      this.need(9)
      const { buf } = this
      let p = this.pos + 9
      this.pos = p
      for (let k = 0; k < 9; k++, low = (low / 10) | 0) buf[--p] = ZERO_DIGIT + (low % 10)
      return
    }
    let t = n | 0
    let len = 1
    while (len < 10 && t >= POWERS[len]!) len++
    this.need(len)
    const { buf } = this
    let p = this.pos + len
    this.pos = p
    for (let k = 0; k < len; k++, t = (t / 10) | 0) buf[--p] = ZERO_DIGIT + (t % 10)
  }

  number(n: number): void {
    if (!Number.isFinite(n)) throw new RangeError(`cannot digest the number ${n}`)
    if (!Number.isSafeInteger(n)) return this.utf8(JSON.stringify(n))
    if (n < 0) this.byte(MINUS)
    this.digits(n < 0 ? -n : n)
  }

  /** A decimal as `Dec.toString` writes it, between quotes. */
  decimal(value: Dec.Decimal): void {
    // Exact when the integer is safe; one beyond the safe range converts to at least 2^53, never to a
    // safe integer.
    let n = Number(value.value)
    const scale = value.scale
    if (n === 0) return this.bytes(ZERO_TEXT)
    if (!Number.isSafeInteger(n)) {
      this.byte(QUOTE)
      this.utf8(Dec.toString(value))
      return this.byte(QUOTE)
    }
    // Room for the quotes, the sign, sixteen digits and what the scale adds, so that what is written
    // stays in the buffer while it is rearranged below.
    this.need(20 + (scale > 0 ? scale + 2 : 0))
    this.byte(QUOTE)
    if (n < 0) {
      this.byte(MINUS)
      n = -n
    }
    const start = this.pos
    this.digits(n)
    if (scale < 0) {
      for (let k = scale; k < 0; k++) this.byte(ZERO_DIGIT)
    } else if (scale > 0) {
      // The digits are written; the fraction loses its trailing zeros and gains its point (and, below
      // one, its leading zeros) in place.
      const { buf } = this
      let end = this.pos
      let fraction = scale
      while (fraction > 0 && buf[end - 1] === ZERO_DIGIT) {
        end--
        fraction--
      }
      const len = end - start
      if (fraction === 0) {
        this.pos = end
      } else if (len > fraction) {
        buf.copyWithin(end - fraction + 1, end - fraction, end)
        buf[end - fraction] = POINT
        this.pos = end + 1
      } else {
        const shift = 2 + fraction - len
        buf.copyWithin(start + shift, start, end)
        buf[start] = ZERO_DIGIT
        buf[start + 1] = POINT
        for (let k = start + 2; k < start + shift; k++) buf[k] = ZERO_DIGIT
        this.pos = end + shift
      }
    }
    this.byte(QUOTE)
  }

  /** Frames: the canonical JSON of `value` written, and its text. */
  json(value: unknown): string {
    const start = this.pos
    this.ascii = true
    this.value(value)
    return this.buf.toString(this.ascii ? "latin1" : "utf8", start, this.pos)
  }

  /** Frames: the digest of what is written, which is then dropped. */
  digest(key?: string): string {
    const framed = this.buf.subarray(0, this.pos)
    this.pos = 0
    return key === undefined ? hash("sha256", framed, "hex") : hmacSha256Hex(key, framed)
  }

  value(value: unknown): void {
    switch (typeof value) {
      case "string":
        return this.string(value)
      case "boolean":
        return this.bytes(value ? TRUE : FALSE)
      case "number":
        return this.number(value)
      case "bigint":
        this.byte(QUOTE)
        this.utf8(value.toString())
        return this.byte(QUOTE)
      case "object": {
        if (value === null) return this.bytes(NULL)
        if (Array.isArray(value)) return this.array(value)
        if (Dec.isDecimal(value)) return this.decimal(value)
        // A duration (a run's deadline) as its milliseconds, which is how its schema reads it back.
        if (Duration.isDuration(value)) return this.number(Duration.toMillis(value))
        return this.record(value as Record<string, unknown>)
      }
      default:
        throw new TypeError(`cannot digest a ${typeof value}`)
    }
  }

  record(record: Record<string, unknown>): void {
    const keys = Object.keys(record)
    this.byte(0x7b)
    if (keys.length > 0) {
      const { sorted, prefixes, ascii } = shapeOf(keys)
      if (!ascii) this.ascii = false
      let first = true
      for (let i = 0; i < sorted.length; i++) {
        const member = record[sorted[i]!]
        if (member === undefined) continue
        if (!first) this.byte(COMMA)
        first = false
        this.bytes(prefixes[i]!)
        this.value(member)
      }
    }
    this.byte(0x7d)
  }

  array(items: ReadonlyArray<unknown>): void {
    this.byte(0x5b)
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.byte(COMMA)
      const item = items[i]
      if (item === undefined) this.bytes(NULL)
      else this.value(item)
    }
    this.byte(0x5d)
  }
}

// One writer kept for reuse (its buffer with it); a write that starts while it is busy (a getter that
// digests, say) gets a writer of its own.
let idle: Writer | undefined = new Writer()

const withWriter = <A>(sink: Hash | undefined, f: (w: Writer) => A): A => {
  const w = idle ?? new Writer()
  idle = undefined
  w.pos = 0
  w.ascii = true
  w.sink = sink
  try {
    return f(w)
  } finally {
    w.sink = undefined
    // A buffer grown for one large document is not kept for the next.
    if (w.buf.length > BUFFER_SIZE) w.buf = Buffer.allocUnsafe(BUFFER_SIZE)
    idle = w
  }
}

/**
 * The canonical JSON of a value (RFC 8785 once decimals and bigints are canonical strings; see above):
 * object keys sorted, `undefined` members dropped, decimals as canonical text. Arrays keep their order:
 * order is content.
 */
export const canonicalJson = (value: unknown): string =>
  withWriter(undefined, (w) => {
    w.value(value)
    return w.buf.toString(w.ascii ? "latin1" : "utf8", 0, w.pos)
  })

export const sha256Hex = (text: string): string => hash("sha256", text, "hex")

/** HMAC-SHA-256 of `text` (or bytes) under `key`, as hex. */
export const hmacSha256Hex = (key: string, text: string | Uint8Array): string =>
  createHmac("sha256", key).update(text).digest("hex")

/**
 * A writer of frames, each digested as a whole: text around the canonical JSON of a value. The audit chain
 * hashes each event's JSON around its payload, ten thousand events a run; here the parts of a frame are
 * written as bytes into one buffer, neither the frame nor its parts made a string, and one writer serves a
 * whole chain.
 */
export interface Frames {
  /** Bytes written as they are: text that is already JSON (punctuation, keys), as UTF-8. */
  bytes(bytes: Uint8Array): void
  /** A string as `JSON.stringify` writes it. */
  string(text: string): void
  /** A number as `JSON.stringify` writes it. */
  number(n: number): void
  /** The canonical JSON of `value`, written into the frame and returned as text. */
  json(value: unknown): string
  /** The sha-256 (with a key, the HMAC-SHA-256) of the frame written so far, as hex; the next frame starts. */
  digest(key?: string): string
}

/**
 * Runs `f` with a writer of frames. Its members are methods of the writer (call them on it, not detached),
 * and a frame whose writing threw is not dropped: let the error end `f`.
 */
export const withFrames = <A>(f: (frames: Frames) => A): A => withWriter(undefined, f)

/**
 * The canonical JSON of `value`, and the sha-256 of that text framed by `before` and `after` (with a key,
 * its HMAC-SHA-256): one frame of `withFrames`.
 */
export const framedDigest = (
  before: string,
  value: unknown,
  after: string,
  key?: string
): readonly [json: string, digest: string] =>
  withFrames((frames) => {
    frames.bytes(Buffer.from(before, "utf8"))
    const json = frames.json(value)
    frames.bytes(Buffer.from(after, "utf8"))
    return [json, frames.digest(key)] as const
  })

/**
 * sha-256 of the canonical JSON, hashed as it is written and never held whole: at 50,000 snapshot items
 * the text is 5 MB.
 */
export const digestOf = (value: unknown): string => {
  const digest = createHash("sha256")
  withWriter(digest, (w) => {
    w.value(value)
    digest.update(w.buf.subarray(0, w.pos))
  })
  return digest.digest("hex")
}
