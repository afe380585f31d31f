/**
 * Exact fractions of two integers, for amounts a fit scales: `w × cap / total` is kept as that product
 * over that total, and divided once, where it becomes a whole number of lots. A decimal cannot hold
 * `0.07 × 0.1 / 0.12` (= 7/120) exactly, and rounding it early can lose a lot at a boundary the exact
 * value lands on (7/120 of 120,000 is 7,000, not 6,999.99…).
 *
 * Fractions are not reduced (a common factor costs a division to find, and thousands are made a run);
 * they grow by one product per scale, and a fit applies a handful.
 */
import * as Dec from "../domain/Decimal.js"

/** `num / den`, `den > 0`. */
export interface Fraction {
  readonly num: bigint
  readonly den: bigint
}

const POWERS: Array<bigint> = [1n]
const pow10 = (n: number): bigint => {
  for (let i = POWERS.length; i <= n; i++) POWERS.push(POWERS[i - 1]! * 10n)
  return POWERS[n]!
}

export const ZERO: Fraction = { num: 0n, den: 1n }

export const fromDecimal = (d: Dec.Decimal): Fraction =>
  d.scale >= 0 ? { num: d.value, den: pow10(d.scale) } : { num: d.value * pow10(-d.scale), den: 1n }

export const isZero = (a: Fraction): boolean => a.num === 0n
export const sign = (a: Fraction): -1 | 0 | 1 => (a.num === 0n ? 0 : a.num < 0n ? -1 : 1)
export const abs = (a: Fraction): Fraction => (a.num < 0n ? { num: -a.num, den: a.den } : a)
export const negate = (a: Fraction): Fraction => ({ num: -a.num, den: a.den })

export const add = (a: Fraction, b: Fraction): Fraction =>
  a.num === 0n ? b : b.num === 0n ? a : a.den === b.den ? { num: a.num + b.num, den: a.den } : { num: a.num * b.den + b.num * a.den, den: a.den * b.den }
export const sub = (a: Fraction, b: Fraction): Fraction => add(a, negate(b))
export const mul = (a: Fraction, b: Fraction): Fraction => ({ num: a.num * b.num, den: a.den * b.den })

/** `a / b`, `b ≠ 0`. */
export const div = (a: Fraction, b: Fraction): Fraction => {
  if (b.num === 0n) throw new RangeError("division by zero")
  return b.num < 0n ? { num: -a.num * b.den, den: a.den * -b.num } : { num: a.num * b.den, den: a.den * b.num }
}

/** `a × by / over`, `over ≠ 0`: the product first, one fraction out. */
export const scale = (a: Fraction, by: Fraction, over: Fraction): Fraction => div(mul(a, by), over)

export const compare = (a: Fraction, b: Fraction): -1 | 0 | 1 => {
  const x = a.den === b.den ? a.num : a.num * b.den
  const y = a.den === b.den ? b.num : b.num * a.den
  return x < y ? -1 : x > y ? 1 : 0
}
export const lt = (a: Fraction, b: Fraction): boolean => compare(a, b) < 0
export const gt = (a: Fraction, b: Fraction): boolean => compare(a, b) > 0
export const eq = (a: Fraction, b: Fraction): boolean => compare(a, b) === 0
export const min = (a: Fraction, b: Fraction): Fraction => (compare(a, b) <= 0 ? a : b)
export const max = (a: Fraction, b: Fraction): Fraction => (compare(a, b) >= 0 ? a : b)

/** `a / d` truncated toward zero, as an integer: the one rounding, at the lot. */
export const quotientTowardZero = (a: Fraction, d: Dec.Decimal): bigint => {
  const divisor = mul({ num: a.den, den: 1n }, fromDecimal(d))
  // a.num / (a.den × d) = a.num × divisor.den / divisor.num
  if (divisor.num === 0n) throw new RangeError("division by zero")
  return (a.num * divisor.den) / divisor.num
}

export const DIGITS = 18

/**
 * As a decimal: exact when `DIGITS` fractional digits hold it (every decimal a fit meets in practice:
 * `0.06 × 0.1 / 0.12` is `0.05`), otherwise truncated there, toward zero, so that a weight written down
 * never exceeds the one computed.
 */
export const toDecimal = (a: Fraction): Dec.Decimal => {
  if (a.den === 1n) return Dec.make(a.num, 0)
  const q = (a.num * pow10(DIGITS)) / a.den
  return Dec.fromCanonical(Dec.toString(Dec.make(q, DIGITS)))!
}

/** True when `toDecimal` is the exact value. */
export const isExactDecimal = (a: Fraction): boolean => (a.num * pow10(DIGITS)) % a.den === 0n

export const toString = (a: Fraction): string => Dec.toString(toDecimal(a))
