// As of commit 92e9b90, before this round of performance work: the reference the differential property
// tests hold the current code to. Kept as it was; not used by the library.
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
import type { ClientOrderId } from "../../../src/domain/Ids.js"
import type { OrderSide } from "../../../src/domain/Order.js"

const SYMBOL_PART_MAX = 12
const UNSAFE = /[^A-Za-z0-9.]/g

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits. */
const fnv1a = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return HEX[h >>> 24]! + HEX[(h >>> 16) & 255]! + HEX[(h >>> 8) & 255]! + HEX[h & 255]!
}

// A run builds thousands of ids with the same run and model: hash that pair once.
let lastRun: { readonly runId: string; readonly modelVersion: string; readonly digest: string } | undefined
const runDigest = (runId: string, modelVersion: string): string => {
  if (lastRun?.runId !== runId || lastRun.modelVersion !== modelVersion) {
    lastRun = { runId, modelVersion, digest: sha256Hex(JSON.stringify([runId, modelVersion])).slice(0, 12) }
  }
  return lastRun.digest
}

export const derive = (input: {
  readonly runId: string
  readonly symbol: string
  readonly side: OrderSide
  readonly modelVersion: string
}): ClientOrderId => {
  const symbolPart = input.symbol.replace(UNSAFE, "_").slice(0, SYMBOL_PART_MAX)
  const side = input.side === "BUY" ? "B" : "S"
  return `${symbolPart}-${side}-${runDigest(input.runId, input.modelVersion)}${fnv1a(input.symbol)}` as ClientOrderId
}
