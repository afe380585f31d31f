/**
 * Branded identifiers. A `RunId` can never be passed where a `SnapshotId` is expected.
 */
import { Schema } from "effect"

export const RunId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64), Schema.brand("RunId"))
export type RunId = typeof RunId.Type

export const SnapshotId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64), Schema.brand("SnapshotId"))
export type SnapshotId = typeof SnapshotId.Type

/** The idempotency key of an order, carried by IB `orderRef` and LEAN `Tag`. See `ClientOrderId.ts`. */
export const ClientOrderId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9._-]{1,40}$/),
  Schema.brand("ClientOrderId")
)
export type ClientOrderId = typeof ClientOrderId.Type

/** A broker's identifier of one execution (fill); unique across all fills. */
export const ExecutionId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128), Schema.brand("ExecutionId"))
export type ExecutionId = typeof ExecutionId.Type

/**
 * A ticker in canonical form: trimmed, upper case, starting with a letter or digit, then letters,
 * digits and the separators exchanges use (`BRK.B`, `BF-B`, `BRK/B`, `RDS A`).
 */
export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9./ _-]{0,31}$/
export const Symbol = Schema.String.pipe(Schema.pattern(SYMBOL_PATTERN), Schema.brand("Symbol"))
export type Symbol = typeof Symbol.Type

/** Trims and upper-cases; `undefined` when what is left is not a valid symbol. */
export const normalizeSymbol = (raw: string): Symbol | undefined => {
  // Already canonical (the pattern admits no lower case and no leading space): no new strings.
  if (SYMBOL_PATTERN.test(raw) && raw.charCodeAt(raw.length - 1) !== 32) return raw as Symbol
  const text = raw.trim().toUpperCase()
  return SYMBOL_PATTERN.test(text) ? (text as Symbol) : undefined
}
