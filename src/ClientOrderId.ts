/**
 * The idempotency key of an order: `client_order_id = f(run_id, symbol, side, model_version)`.
 *
 * Deterministic, so re-running a run finds its orders again instead of creating new ones; at most 40
 * characters of `[A-Za-z0-9._-]`, so it fits IB's `orderRef` and LEAN's `Tag` unchanged. It reads
 * `SYMBOL-B-<digest>`: the symbol (sanitized and shortened when it must be) and the side for the person
 * reading a blotter, then 24 hex digits (96 bits) of sha-256:
 *
 * - a plain symbol (`[A-Za-z0-9.]`) of up to 13 characters is written out whole, and the digest is over the
 *   run id and model version: within a run the ids are distinct by construction, across runs they differ by
 *   96 bits of hash (the first 12 digits are those scheme 1 wrote, so a broker's orders still group by run);
 * - any other symbol (longer, or with characters an id cannot hold: `BRK/B`, `RDS A`) is written shortened
 *   and sanitized, and the digest is over the whole input (run id, model version, full symbol, side): two
 *   such ids are the same only if 96 bits of sha-256 are.
 *
 * Scheme 1, which earlier versions derived, ended with 12 digits over the run and 8 of a 32-bit FNV-1a
 * over the symbol: two long symbols sharing their first 12 characters and an FNV value (found in under a
 * second) got the same id. It is kept so that replay rebuilds the ids of the runs it derived; a run records
 * the scheme it used (`BuilderSettings.clientOrderIdScheme`, absent in records of scheme 1). The two
 * schemes' ids cannot be equal: one has 20 digits after the side, the other 24, and neither symbol part
 * holds a `-`.
 */
import { sha256Hex } from "./Digest.js"
import type { ClientOrderId } from "./domain/Ids.js"
import type { OrderSide } from "./domain/Order.js"

/** The ways of deriving ids: 2 for every new run; 1 for rebuilding the runs earlier versions made. */
export type Scheme = 1 | 2
export const CURRENT_SCHEME: Scheme = 2

const UNSAFE = /[^A-Za-z0-9.]/g
const HAS_UNSAFE = /[^A-Za-z0-9.]/

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits (scheme 1). */
const fnv1a = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // A table of byte pairs: `Number#toString(16)` is several times slower, at thousands of ids a run.
  return HEX[h >>> 24]! + HEX[(h >>> 16) & 255]! + HEX[(h >>> 8) & 255]! + HEX[h & 255]!
}

// A run builds thousands of ids with the same run and model: hash that pair once, and keep the middles
// (`-B-<digest>`, `-S-<digest>`) of both schemes, so an id of a plain symbol is two concatenations.
let lastRun:
  | {
    readonly runId: string
    readonly modelVersion: string
    readonly v1: { readonly buy: string; readonly sell: string }
    readonly v2: { readonly buy: string; readonly sell: string }
  }
  | undefined
const runOf = (runId: string, modelVersion: string) => {
  if (lastRun?.runId !== runId || lastRun.modelVersion !== modelVersion) {
    const digest = sha256Hex(JSON.stringify([runId, modelVersion]))
    const v1 = digest.slice(0, 12)
    const v2 = digest.slice(0, 24)
    lastRun = { runId, modelVersion, v1: { buy: `-B-${v1}`, sell: `-S-${v1}` }, v2: { buy: `-B-${v2}`, sell: `-S-${v2}` } }
  }
  return lastRun
}

/** Symbols this long (scheme 2), or twelve (scheme 1), are written out whole when they are plain. */
const SYMBOL_PART_MAX = 13
const SYMBOL_PART_MAX_V1 = 12

export const derive = (input: {
  readonly runId: string
  readonly symbol: string
  readonly side: OrderSide
  readonly modelVersion: string
  /** Default: the current scheme. */
  readonly scheme?: Scheme | undefined
}): ClientOrderId => {
  const { symbol, side } = input
  const run = runOf(input.runId, input.modelVersion)
  if (input.scheme === 1) {
    const symbolPart = symbol.length <= SYMBOL_PART_MAX_V1 && !HAS_UNSAFE.test(symbol)
      ? symbol
      : symbol.replace(UNSAFE, "_").slice(0, SYMBOL_PART_MAX_V1)
    return (symbolPart + (side === "BUY" ? run.v1.buy : run.v1.sell) + fnv1a(symbol)) as ClientOrderId
  }
  if (symbol.length <= SYMBOL_PART_MAX && !HAS_UNSAFE.test(symbol)) {
    return (symbol + (side === "BUY" ? run.v2.buy : run.v2.sell)) as ClientOrderId
  }
  const digest = sha256Hex(JSON.stringify([input.runId, input.modelVersion, symbol, side])).slice(0, 24)
  return `${symbol.replace(UNSAFE, "_").slice(0, SYMBOL_PART_MAX)}-${side === "BUY" ? "B" : "S"}-${digest}` as ClientOrderId
}
