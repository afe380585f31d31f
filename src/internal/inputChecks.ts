/**
 * The checks `BuildInput.validate` and the CSV readers (adapters/csv/readers.ts) share, so that a value
 * refused by one is refused by the other with the same words. A reader stops at the first bad value by
 * throwing `Rejected` from `reject`; `untilRejected` turns that back into an `Either`, and nothing else
 * ever sees the throw.
 */
import { Either } from "effect"
import * as Dec from "../domain/Decimal.js"
import { describeValue, InvalidInput } from "../domain/errors.js"
import { normalizeSymbol, type Symbol } from "../domain/Ids.js"

/** Thrown inside `untilRejected` only, carrying the first problem; never escapes it. */
class Rejected {
  constructor(readonly error: InvalidInput) {}
}

/** Stops the reading with an `InvalidInput` naming `source`, `row` (if any), `field` and the value found. */
export const reject = (source: string, row: number | undefined, field: string, value: unknown, reason: string): never => {
  const at = row === undefined ? {} : { row }
  const found = value === undefined ? {} : { value: describeValue(value) }
  throw new Rejected(new InvalidInput({ source, ...at, field, ...found, reason }))
}

/** Runs a reader that may `reject`: its result, or the first problem it met. */
export const untilRejected = <A>(read: () => A): Either.Either<A, InvalidInput> => {
  try {
    return Either.right(read())
  } catch (error) {
    if (error instanceof Rejected) return Either.left(error.error)
    throw error
  }
}

const NOT_A_SYMBOL = "is not a valid symbol (a letter or digit, then letters, digits, '.', '/', '-', '_' or spaces; at most 32)"

/** A row's symbol in its canonical form, or the row refused: an empty or invalid symbol. */
export const readSymbol = (source: string, row: number, value: unknown): Symbol => {
  if (typeof value !== "string" || value.trim() === "") return reject(source, row, "symbol", value, "is empty")
  return normalizeSymbol(value) ?? reject(source, row, "symbol", value, NOT_A_SYMBOL)
}

/** What is wrong with a decimal, or `undefined`. */
export type DecimalCheck = (d: Dec.Decimal) => string | undefined

export const positive: DecimalCheck = (d) => (Dec.isPositive(d) ? undefined : "must be greater than zero")
export const nonNegative: DecimalCheck = (d) => (Dec.isNegative(d) ? "must not be negative" : undefined)
