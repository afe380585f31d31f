/**
 * Exact decimal arithmetic for money, prices, weights and quantities.
 *
 * Values are `effect/BigDecimal` (an arbitrary-precision integer and a scale). Numbers given as JS
 * `number` are read through their shortest round-trip decimal string, so `0.07` means seven hundredths,
 * not the binary double nearest to it. Nothing on the way to a lot count goes through floating point.
 */
import { BigDecimal, Either, Option, ParseResult, Schema } from "effect"

export type Decimal = BigDecimal.BigDecimal

/**
 * Makes a decimal: the same value as `BigDecimal.make` (effect's own prototype, so `isBigDecimal`, `Equal`,
 * `Hash` and `format` see no difference), through a constructor. `BigDecimal.make` is `Object.create` and
 * two assignments, which leaves room for more members in every object; a constructor's objects are
 * sized to the two they have: 16 bytes less a decimal, made ~20% faster, and a large run holds
 * hundreds of thousands of them.
 */
const DecimalValue = function(this: { value: bigint; scale: number }, value: bigint, scale: number) {
  this.value = value
  this.scale = scale
} as unknown as { new(value: bigint, scale: number): Decimal; prototype: object }
DecimalValue.prototype = Object.getPrototypeOf(BigDecimal.make(0n, 0))

export const make = (value: bigint, scale: number): Decimal => new DecimalValue(value, scale)

/** What a caller may hand us for a decimal: a string as written, a number, a bigint, or a decimal. */
export type DecimalInput = string | number | bigint | Decimal

export const ZERO: Decimal = make(0n, 0)
export const ONE: Decimal = make(1n, 0)
export const BPS_PER_UNIT: Decimal = make(10000n, 0)

const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const MAX_DIGITS = 200
const MAX_EXPONENT = 100

export const NOT_A_NUMBER = "is not a finite decimal number"
export const OUT_OF_RANGE = `is out of range (at most ${MAX_DIGITS} digits, exponent within ±${MAX_EXPONENT})`

/**
 * The brand effect puts on every decimal. The only place this module reads effect's `BigDecimal.TypeId`,
 * which later effect versions make private: an upgrade that removes it fails to compile here and only
 * here (and `BigDecimal.isBigDecimal(input)` is then the test to use).
 */
const DECIMAL_BRAND: symbol = BigDecimal.TypeId

/**
 * True for a decimal value, made by this module or by effect's `BigDecimal` (even another copy of effect).
 * `BigDecimal.isBigDecimal` tests the same brand through `hasProperty`'s dual call, 2–4× the time of
 * this test measured over a million mixed values; a large run tests every value it writes.
 */
export const isDecimal = (input: unknown): input is Decimal =>
  typeof input === "object" && input !== null && DECIMAL_BRAND in input

/**
 * Reads a decimal exactly, or says why not: what is not a finite decimal number (empty text, NaN,
 * Infinity, thousands separators, hex), or what is too large to be a price or a quantity (and would take
 * `1e999999999` a billion digits to print). Surrounding whitespace is allowed in text.
 */
export const read = (input: unknown): Either.Either<Decimal, string> => {
  if (isDecimal(input)) return Either.right(input)
  if (typeof input === "bigint") return Either.right(make(input, 0))
  if (typeof input === "number") {
    return Number.isFinite(input)
      ? Option.match(BigDecimal.fromString(String(input)), { onNone: () => Either.left(NOT_A_NUMBER), onSome: Either.right })
      : Either.left(NOT_A_NUMBER)
  }
  if (typeof input !== "string") return Either.left(NOT_A_NUMBER)
  // Plain text (a file's or a store's) on the short path; anything else is judged below.
  const plain = fromCanonical(input)
  if (plain !== undefined) return Either.right(plain)
  const text = input.trim()
  const match = DECIMAL_TEXT.exec(text)
  if (match === null) return Either.left(NOT_A_NUMBER)
  if (match[1]!.length > MAX_DIGITS || Math.abs(Number(match[2]?.slice(1) ?? 0)) > MAX_EXPONENT) return Either.left(OUT_OF_RANGE)
  return Option.match(BigDecimal.fromString(text), { onNone: () => Either.left(NOT_A_NUMBER), onSome: Either.right })
}

const CANONICAL = /^-?\d+(?:\.\d+)?$/

/**
 * Reads plain decimal text (`-12.5`, what `toString` writes and storage holds) straight into a decimal,
 * without `read`'s detours through a general pattern, `Option` and `Either`: stored rows are read back
 * by the thousand. `undefined` for anything else, which `read` then judges.
 */
export const fromCanonical = (text: string): Decimal | undefined =>
  text.length > MAX_DIGITS ? undefined : canonical(text)

const canonical = (text: string): Decimal | undefined => {
  if (!CANONICAL.test(text)) return undefined
  const point = text.indexOf(".")
  return point === -1
    ? make(BigInt(text), 0)
    : make(BigInt(text.slice(0, point) + text.slice(point + 1)), text.length - point - 1)
}

/**
 * How many digits an input value (a flag, a field of a file, a risk limit, an environment variable) may
 * have on either side of the decimal point; trailing zeros of a fraction do not count. Values computed
 * from inputs within it stay within what is stored and read back (`MAX_DIGITS`): a quantity
 * (weight × portfolio value / (price × lot), in lots) or a notional has at most about 2 × 30 digits before
 * the point and 2 × 30 after it, a paper account's cash a few more; `1e100 × 1e-100` made a quantity of
 * 202 digits that could be stored but not read back. Real prices, quantities and money need far fewer.
 */
export const INPUT_DIGITS = 30

export const OUT_OF_INPUT_RANGE = `is out of range (at most ${INPUT_DIGITS} digits before the decimal point and ${INPUT_DIGITS} after it)`

/** True when `value` has at most `INPUT_DIGITS` digits before its decimal point and as many after it. */
export const withinInputRange = (value: Decimal): boolean => {
  const { value: units, scale } = value
  if (units === 0n) return true
  const magnitude = units < 0n ? -units : units
  // Digits before the point: |value| < 10^INPUT_DIGITS, i.e. |units| < 10^(INPUT_DIGITS + scale).
  const before = INPUT_DIGITS + scale
  if (before < 0 || magnitude >= pow10(before)) return false
  // Digits after the point: a scale above the bound is fine only when the excess digits are zeros.
  return scale <= INPUT_DIGITS || magnitude % pow10(scale - INPUT_DIGITS) === 0n
}

/** `read`, then refused when beyond `withinInputRange`: for values a person or a host hands over. */
export const readInput = (input: unknown): Either.Either<Decimal, string> =>
  Either.filterOrLeft(read(input), withinInputRange, () => OUT_OF_INPUT_RANGE)

/**
 * Reads a decimal the store holds: plain text of any length (`toString` wrote it; its length is what it
 * cost to store, with no exponent to blow it up), else as `read` would. Values computed from inputs can
 * be longer than any input, and whatever was written must be read back: a quantity of 202 digits was
 * stored, and then `show` and `execute` failed on it.
 */
export const fromStored = (text: string): Decimal | undefined =>
  canonical(text) ?? Either.getOrUndefined(read(text))

/** `read`, keeping only the decimal. */
export const parse = (input: unknown): Option.Option<Decimal> => Either.getRight(read(input))

export const unsafe = (input: DecimalInput): Decimal =>
  Option.getOrThrowWith(parse(input), () => new RangeError(`not a decimal: ${String(input)}`))

/**
 * Canonical text: plain positional notation, no trailing zeros, never an exponent (`BigDecimal.format`
 * switches to one for long fractions). Used for storage, digests and JSON.
 */
export const toString = (value: Decimal): string => {
  const { value: units, scale } = value
  if (units === 0n) return "0"
  if (scale <= 0) return scale === 0 ? units.toString() : (units * pow10(-scale)).toString()
  // One conversion to text, then the trailing zeros of the fraction cut from it (`BigDecimal.normalize`
  // would convert twice and make a second decimal): this runs for every decimal of every stored row.
  const negative = units < 0n
  let digits = (negative ? -units : units).toString()
  if (digits.length <= scale) digits = digits.padStart(scale + 1, "0")
  let end = digits.length
  const point = end - scale
  while (end > point && digits.charCodeAt(end - 1) === 48) end--
  const whole = digits.slice(0, point)
  const text = end === point ? whole : `${whole}.${digits.slice(point, end)}`
  return negative ? `-${text}` : text
}

// The arithmetic below works on the integer and the scale directly: it runs hundreds of thousands of times
// in a large run, and aligning scales through a cached power of ten (no tuples, no `**`) keeps it lean.

const POWERS: Array<bigint> = [1n]
const pow10 = (n: number): bigint => {
  for (let i = POWERS.length; i <= n; i++) POWERS.push(POWERS[i - 1]! * 10n)
  return POWERS[n]!
}

/** The integer of `value` at a scale at least its own. */
const at = (value: Decimal, scale: number): bigint =>
  value.scale === scale ? value.value : value.value * pow10(scale - value.scale)

const common = (a: Decimal, b: Decimal): number => (a.scale > b.scale ? a.scale : b.scale)

export const isZero = (value: Decimal): boolean => value.value === 0n
export const isNegative = (value: Decimal): boolean => value.value < 0n
export const isPositive = (value: Decimal): boolean => value.value > 0n
export const sign = (value: Decimal): -1 | 0 | 1 => (value.value === 0n ? 0 : value.value < 0n ? -1 : 1)
export const abs = (value: Decimal): Decimal => (value.value < 0n ? make(-value.value, value.scale) : value)
export const negate = (value: Decimal): Decimal => make(-value.value, value.scale)

export const add = (a: Decimal, b: Decimal): Decimal => {
  if (b.value === 0n) return a
  if (a.value === 0n) return b
  const scale = common(a, b)
  return make(at(a, scale) + at(b, scale), scale)
}
export const sub = (a: Decimal, b: Decimal): Decimal => {
  if (b.value === 0n) return a
  const scale = common(a, b)
  return make(at(a, scale) - at(b, scale), scale)
}
export const mul = (a: Decimal, b: Decimal): Decimal =>
  b.value === 1n && b.scale === 0 ? a : a.value === 1n && a.scale === 0 ? b : make(a.value * b.value, a.scale + b.scale)
export const sum = (values: Iterable<Decimal>): Decimal => {
  let total = ZERO
  for (const value of values) total = add(total, value)
  return total
}

export const compare = (a: Decimal, b: Decimal): -1 | 0 | 1 => {
  const scale = common(a, b)
  const x = at(a, scale)
  const y = at(b, scale)
  return x < y ? -1 : x > y ? 1 : 0
}
export const lt = (a: Decimal, b: Decimal): boolean => compare(a, b) < 0
export const lte = (a: Decimal, b: Decimal): boolean => compare(a, b) <= 0
export const gt = (a: Decimal, b: Decimal): boolean => compare(a, b) > 0
export const gte = (a: Decimal, b: Decimal): boolean => compare(a, b) >= 0
export const eq = (a: Decimal, b: Decimal): boolean => compare(a, b) === 0
export const min = (a: Decimal, b: Decimal): Decimal => (lte(a, b) ? a : b)
export const max = (a: Decimal, b: Decimal): Decimal => (gte(a, b) ? a : b)

/**
 * A running total that makes no decimal per addition: a large run sums tens of thousands of values (cash,
 * exposures, sector values), and a decimal per step is most of what the garbage collector then has to do.
 * Exact, like every other operation here.
 */
export interface Total {
  value: bigint
  scale: number
  /** How many non-zero values were added, and the first of them: a sum of one is that value itself. */
  terms: number
  first: Decimal | undefined
}

export const total = (): Total => ({ value: 0n, scale: 0, terms: 0, first: undefined })

// As `add` would: a zero total takes the value as it is (its own scale), otherwise the larger scale.
const addScaled = (t: Total, value: bigint, scale: number): void => {
  if (t.value === 0n) {
    t.value = value
    t.scale = scale
  } else if (scale === t.scale) t.value += value
  else if (scale < t.scale) t.value += value * pow10(t.scale - scale)
  else {
    t.value = t.value * pow10(scale - t.scale) + value
    t.scale = scale
  }
}

/** `t += value`. */
export const addTo = (t: Total, value: Decimal): void => {
  if (value.value === 0n) return
  if (t.terms++ === 0) t.first = value
  addScaled(t, value.value, value.scale)
}

/** `t += a × b`. */
export const addProduct = (t: Total, a: Decimal, b: Decimal): void => {
  if (a.value === 0n || b.value === 0n) return
  t.terms += 2 // a product is never handed back as one of its factors
  addScaled(t, a.value * b.value, a.scale + b.scale)
}

/** `t += |a × b|`. */
export const addAbsProduct = (t: Total, a: Decimal, b: Decimal): void => {
  const product = a.value * b.value
  if (product === 0n) return
  t.terms += 2
  addScaled(t, product < 0n ? -product : product, a.scale + b.scale)
}

/**
 * `t += value × 10^-scale`, for a product already made (a position's value, used in several totals): as
 * `addProduct` would add it.
 */
export const addUnits = (t: Total, value: bigint, scale: number): void => {
  if (value === 0n) return
  t.terms += 2
  addScaled(t, value, scale)
}

/**
 * The sum. Nothing added is `ZERO`, and a single value added is that value itself (the usual order has
 * one fill): no new decimal to keep for every order of a large run.
 */
export const valueOf = (t: Total): Decimal =>
  t.terms === 0 ? ZERO : t.terms === 1 && t.first !== undefined ? t.first : make(t.value, t.scale)

/**
 * A bound compared against many values (a risk limit against every order of a run): its integer at the
 * scale of the values it meets is computed once, not for every comparison, and products are compared
 * without being made decimals. Each `compare…` is `compare(x, bound)` for the value named.
 */
export interface Bound {
  readonly decimal: Decimal
  readonly compare: (value: Decimal) => -1 | 0 | 1
  /** `compare(|value|, bound)`. */
  readonly compareAbs: (value: Decimal) => -1 | 0 | 1
  /** `compare(a × b, bound)`. */
  readonly compareProduct: (a: Decimal, b: Decimal) => -1 | 0 | 1
  /** `compare(|a × b|, bound)`. */
  readonly compareAbsProduct: (a: Decimal, b: Decimal) => -1 | 0 | 1
}

export const bound = (decimal: Decimal): Bound => {
  let scale = decimal.scale
  let aligned = decimal.value
  const compareScaled = (value: bigint, valueScale: number): -1 | 0 | 1 => {
    if (valueScale >= decimal.scale) {
      if (valueScale !== scale) {
        scale = valueScale
        aligned = decimal.value * pow10(valueScale - decimal.scale)
      }
      return value < aligned ? -1 : value > aligned ? 1 : 0
    }
    const x = value * pow10(decimal.scale - valueScale)
    return x < decimal.value ? -1 : x > decimal.value ? 1 : 0
  }
  return {
    decimal,
    compare: (value) => compareScaled(value.value, value.scale),
    compareAbs: (value) => compareScaled(value.value < 0n ? -value.value : value.value, value.scale),
    compareProduct: (a, b) => compareScaled(a.value * b.value, a.scale + b.scale),
    compareAbsProduct: (a, b) => {
      const product = a.value * b.value
      return compareScaled(product < 0n ? -product : product, a.scale + b.scale)
    }
  }
}

/** `a / b` truncated toward zero, as an integer. Exact: no intermediate rounding. */
export const quotientTowardZero = (a: Decimal, b: Decimal): bigint => {
  if (b.value === 0n) throw new RangeError("division by zero")
  const scale = common(a, b)
  return at(a, scale) / at(b, scale)
}

/** `a / b` rounded toward negative infinity, as an integer. */
export const quotientFloor = (a: Decimal, b: Decimal): bigint => {
  if (b.value === 0n) throw new RangeError("division by zero")
  const scale = common(a, b)
  const x = at(a, scale)
  const y = at(b, scale)
  const q = x / y
  return x % y !== 0n && (x < 0n) !== (y < 0n) ? q - 1n : q
}

/** `a / b` rounded toward positive infinity, as an integer. */
export const quotientCeil = (a: Decimal, b: Decimal): bigint => -quotientFloor(negate(a), b)

/** Basis points as a fraction, exactly: `bps / 10 000`. */
export const fromBps = (bps: Decimal): Decimal => make(bps.value, bps.scale + 4)

export const fromBigInt = (value: bigint): Decimal => make(value, 0)

/** `count × unit`, exact. */
export const times = (count: bigint, unit: Decimal): Decimal => make(count * unit.value, unit.scale)

/** True when `value` is a whole multiple of `unit` (unit ≠ 0). */
export const isMultipleOf = (value: Decimal, unit: Decimal): boolean => {
  const scale = common(value, unit)
  return at(value, scale) % at(unit, scale) === 0n
}

/** Rounds to a multiple of `increment` (a lot or a tick), in the given direction. */
export const roundToIncrement = (
  value: Decimal,
  increment: Decimal,
  mode: "floor" | "ceil" | "toward-zero"
): Decimal => {
  const count = mode === "floor"
    ? quotientFloor(value, increment)
    : mode === "ceil"
    ? quotientCeil(value, increment)
    : quotientTowardZero(value, increment)
  return times(count, increment)
}

/**
 * `a / b` as a decimal with at most `scale` fractional digits, rounded half-even. Only for reporting
 * ratios (risk figures, average prices), never on the way to a quantity.
 */
export const divideForReport = (a: Decimal, b: Decimal, scale = 10): Decimal => {
  if (b.value === 0n) throw new RangeError("division by zero")
  const s = common(a, b)
  const y = at(b, s)
  const numerator = at(a, s) * pow10(scale)
  let q = numerator / y
  const r = numerator % y
  const twice = (r < 0n ? -r : r) * 2n
  const denominator = y < 0n ? -y : y
  if (twice > denominator || (twice === denominator && q % 2n !== 0n)) {
    q += (numerator < 0n) !== (y < 0n) ? -1n : 1n
  }
  return BigDecimal.normalize(make(q, scale))
}

/** Rounds to `scale` fractional digits in the given mode (e.g. a fill price to 6 decimals). */
export const roundScale = (value: Decimal, scale: number, mode: BigDecimal.RoundingMode): Decimal =>
  BigDecimal.normalize(BigDecimal.round(value, { scale, mode }))

/** A decimal in its canonical text form; decoding is as strict as `parse`. */
export const DecimalFromString: Schema.Schema<Decimal, string> = Schema.transformOrFail(
  Schema.String,
  Schema.BigDecimalFromSelf,
  {
    strict: true,
    decode: (text, _, ast) => {
      // Stored documents hold canonical text (of any length: see `fromStored`): read it on the short
      // path, anything else as `parse` would.
      const plain = canonical(text)
      if (plain !== undefined) return ParseResult.succeed(plain)
      return Option.match(parse(text), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, `"${text}" is not a decimal number`)),
        onSome: ParseResult.succeed
      })
    },
    encode: (value) => ParseResult.succeed(toString(value))
  }
).annotations({ identifier: "Decimal" })
