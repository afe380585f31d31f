/**
 * Exact fractions of two integers, for the factors a fit scales amounts by: `w × cap / total` is kept as
 * that product over that total, and divided once. A decimal cannot hold `0.07 × 0.1 / 0.12` (= 7/120)
 * exactly, and a factor rounded early can lose a lot at a boundary the exact value lands on (7/120 of
 * 120,000 is 7,000, not 6,999.99…).
 *
 * `add`, `div` and products do not reduce (a common factor costs many divisions to find); `reduce` does,
 * and the fit calls it where a result is used for thousands of names: sums and factors (a sector scaled
 * onto its cap sums back to the cap, and without the reduction that sum would carry the product of every
 * denominator it met into every name scaled by it), a group's product of factors, and each group's share
 * of the turnover factor.
 */
import * as Dec from "../domain/Decimal.js"

/** `num / den`, `den > 0`. */
export interface Fraction {
  readonly num: bigint
  readonly den: bigint
}

const POWERS: Array<bigint> = [1n]
/** 10^n, cached. */
export const pow10 = (n: number): bigint => {
  for (let i = POWERS.length; i <= n; i++) POWERS.push(POWERS[i - 1]! * 10n)
  return POWERS[n]!
}

export const ZERO: Fraction = { num: 0n, den: 1n }
export const ONE: Fraction = { num: 1n, den: 1n }

export const fromDecimal = (d: Dec.Decimal): Fraction =>
  d.scale >= 0 ? { num: d.value, den: pow10(d.scale) } : { num: d.value * pow10(-d.scale), den: 1n }

export const isZero = (a: Fraction): boolean => a.num === 0n
export const sign = (a: Fraction): -1 | 0 | 1 => (a.num === 0n ? 0 : a.num < 0n ? -1 : 1)
export const abs = (a: Fraction): Fraction => (a.num < 0n ? { num: -a.num, den: a.den } : a)
export const negate = (a: Fraction): Fraction => ({ num: -a.num, den: a.den })

export const add = (a: Fraction, b: Fraction): Fraction =>
  a.num === 0n ? b : b.num === 0n ? a : a.den === b.den ? { num: a.num + b.num, den: a.den } : { num: a.num * b.den + b.num * a.den, den: a.den * b.den }
export const sub = (a: Fraction, b: Fraction): Fraction => add(a, negate(b))
/** `a / b`, `b ≠ 0`. */
export const div = (a: Fraction, b: Fraction): Fraction => {
  if (b.num === 0n) throw new RangeError("division by zero")
  return b.num < 0n ? { num: -a.num * b.den, den: a.den * -b.num } : { num: a.num * b.den, den: a.den * b.num }
}

const gcd = (a: bigint, b: bigint): bigint => {
  if (a < 0n) a = -a
  while (b !== 0n) {
    const r = a % b
    a = b
    b = r
  }
  return a
}

/** The same value over the smallest denominator. */
export const reduce = (a: Fraction): Fraction => {
  if (a.num === 0n) return a.den === 1n ? a : ZERO
  const g = gcd(a.num, a.den)
  return g === 1n ? a : { num: a.num / g, den: a.den / g }
}

const compare = (a: Fraction, b: Fraction): -1 | 0 | 1 => {
  const x = a.den === b.den ? a.num : a.num * b.den
  const y = a.den === b.den ? b.num : b.num * a.den
  return x < y ? -1 : x > y ? 1 : 0
}
export const gt = (a: Fraction, b: Fraction): boolean => compare(a, b) > 0
export const min = (a: Fraction, b: Fraction): Fraction => (compare(a, b) <= 0 ? a : b)
export const max = (a: Fraction, b: Fraction): Fraction => (compare(a, b) >= 0 ? a : b)

const DIGITS = 18

const TEN_TO_DIGITS = pow10(DIGITS)
const MILLION = 1_000_000n

/**
 * As a decimal: exact when `DIGITS` fractional digits hold it (every decimal a fit meets in practice:
 * `0.06 × 0.1 / 0.12` is `0.05`), otherwise truncated there, toward zero, so that a weight written down
 * never exceeds the one computed.
 */
export const toDecimal = (a: Fraction): Dec.Decimal =>
  a.den === 1n ? Dec.make(a.num, 0) : ofDigits((a.num * TEN_TO_DIGITS) / a.den)

/**
 * `(num × k) / den` as `toDecimal` writes it, for many `num` over one `k / den`: `scaleUp` is `k × 10^DIGITS`,
 * made once with `digitsUp`.
 */
export const scaledToDecimal = (num: bigint, scaleUp: bigint, den: bigint): Dec.Decimal => ofDigits((num * scaleUp) / den)

/** `k × 10^DIGITS`, the `scaleUp` of `scaledToDecimal`. */
export const digitsUp = (k: bigint): bigint => k * TEN_TO_DIGITS

/** A quotient at `DIGITS` fractional digits as a decimal, its trailing zeros off. */
const ofDigits = (digits: bigint): Dec.Decimal => {
  let q = digits
  if (q === 0n) return Dec.ZERO
  // Most fitted weights do not end within the digits: one test, and they are written as they are.
  if (q % 10n !== 0n) return Dec.make(q, DIGITS)
  let scale = DIGITS
  // Trailing zeros off, six at a time first: a division each, where a string would cost several.
  while (scale >= 6 && q % MILLION === 0n) {
    q /= MILLION
    scale -= 6
  }
  while (scale > 0 && q % 10n === 0n) {
    q /= 10n
    scale--
  }
  return Dec.make(q, scale)
}

const TEN_TO_REPORT = pow10(10)

/** As a figure to report: ten decimals, rounded half to even (as `Decimal.divideForReport`). */
export const toReport = (a: Fraction): Dec.Decimal => {
  const num = a.num * TEN_TO_REPORT
  let q = num / a.den
  const r = num % a.den
  const twice = (r < 0n ? -r : r) * 2n
  if (twice > a.den || (twice === a.den && q % 2n !== 0n)) q += num < 0n ? -1n : 1n
  return Dec.make(q, 10)
}

export const toString = (a: Fraction): string => Dec.toString(toDecimal(a))
