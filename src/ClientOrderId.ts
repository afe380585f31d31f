/**
 * The idempotency key of an order: `client_order_id = f(run_id, symbol, side, model_version)`.
 *
 * Deterministic, so re-running a run finds its orders again instead of creating new ones; at most 40
 * characters of `[A-Za-z0-9._-]`, so it fits IB's `orderRef` and LEAN's `Tag` unchanged. It reads
 * `SYMBOL-B-<run><name>`: the (sanitized, shortened) symbol and the side for the person reading a blotter,
 * then 12 hex digits of sha-256 over the run id and model version (the same for every order of a run,
 * so a broker's orders can be grouped by run) and 8 hex digits of FNV-1a over the full symbol, which keeps
 * two symbols that sanitize alike (`BRK/B`, `BRK B`) apart. A plain symbol of up to 12 characters is
 * written out whole, so within a run those ids are unique by construction; longer or sanitized symbols
 * would also need an FNV collision on top of a shared 12-character prefix. Across runs ids differ by the
 * run digest.
 */
import { sha256Hex } from "./Digest.js"
import type { ClientOrderId } from "./domain/Ids.js"
import type { OrderSide } from "./domain/Order.js"

const SYMBOL_PART_MAX = 12
const UNSAFE = /[^A-Za-z0-9.]/g
const HAS_UNSAFE = /[^A-Za-z0-9.]/

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits. */
const fnv1a = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // A table of byte pairs: `Number#toString(16)` is several times slower, at thousands of ids a run.
  return HEX[h >>> 24]! + HEX[(h >>> 16) & 255]! + HEX[(h >>> 8) & 255]! + HEX[h & 255]!
}

// A run builds thousands of ids with the same run and model: hash that pair once, and keep the two
// middles (`-B-<digest>`, `-S-<digest>`) it gives, so an id is two concatenations.
let lastRun: { readonly runId: string; readonly modelVersion: string; readonly buy: string; readonly sell: string } | undefined
const middles = (runId: string, modelVersion: string) => {
  if (lastRun?.runId !== runId || lastRun.modelVersion !== modelVersion) {
    const digest = sha256Hex(JSON.stringify([runId, modelVersion])).slice(0, 12)
    lastRun = { runId, modelVersion, buy: `-B-${digest}`, sell: `-S-${digest}` }
  }
  return lastRun
}

export const derive = (input: {
  readonly runId: string
  readonly symbol: string
  readonly side: OrderSide
  readonly modelVersion: string
}): ClientOrderId => {
  const { symbol } = input
  const symbolPart = symbol.length <= SYMBOL_PART_MAX && !HAS_UNSAFE.test(symbol)
    ? symbol
    : symbol.replace(UNSAFE, "_").slice(0, SYMBOL_PART_MAX)
  const run = middles(input.runId, input.modelVersion)
  return (symbolPart + (input.side === "BUY" ? run.buy : run.sell) + fnv1a(symbol)) as ClientOrderId
}
