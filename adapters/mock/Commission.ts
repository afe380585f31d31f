/**
 * Commission schedules of the paper broker. A schedule prices a whole order (its total quantity and
 * value): minimums and caps apply per order, so a fill pays what the order's commission grows by.
 *
 * - IB fixed: USD 0.005 per share, at least 1.00 per order, at most 1% of the trade value.
 * - IB tiered (first tier): USD 0.0035 per share, at least 0.35, at most 1% of the trade value
 *   (exchange, clearing and regulatory fees are not modelled).
 * - per share, bps of value, zero.
 */
import * as Dec from "../../src/domain/Decimal.js"

export type Commission =
  | { readonly _tag: "Zero" }
  | { readonly _tag: "IbFixed" }
  | { readonly _tag: "IbTiered" }
  | { readonly _tag: "PerShare"; readonly rate: Dec.Decimal; readonly minimum?: Dec.Decimal; readonly maxRatio?: Dec.Decimal }
  | { readonly _tag: "Bps"; readonly bps: Dec.Decimal; readonly minimum?: Dec.Decimal }

const d = Dec.unsafe
const IB_FIXED = { rate: d("0.005"), minimum: d("1"), maxRatio: d("0.01") }
const IB_TIERED = { rate: d("0.0035"), minimum: d("0.35"), maxRatio: d("0.01") }

const perShare = (
  quantity: Dec.Decimal,
  value: Dec.Decimal,
  schedule: { readonly rate: Dec.Decimal; readonly minimum?: Dec.Decimal; readonly maxRatio?: Dec.Decimal }
) => {
  const base = Dec.mul(quantity, schedule.rate)
  const floored = schedule.minimum === undefined ? base : Dec.max(base, schedule.minimum)
  return schedule.maxRatio === undefined ? floored : Dec.min(floored, Dec.mul(value, schedule.maxRatio))
}

/** The commission of an order that has traded `quantity` for `value` in all. */
export const forOrder = (schedule: Commission, quantity: Dec.Decimal, value: Dec.Decimal): Dec.Decimal => {
  if (Dec.isZero(quantity)) return Dec.ZERO
  switch (schedule._tag) {
    case "Zero":
      return Dec.ZERO
    case "IbFixed":
      return perShare(quantity, value, IB_FIXED)
    case "IbTiered":
      return perShare(quantity, value, IB_TIERED)
    case "PerShare":
      return perShare(quantity, value, schedule)
    case "Bps": {
      const base = Dec.mul(value, Dec.fromBps(schedule.bps))
      return schedule.minimum === undefined ? base : Dec.max(base, schedule.minimum)
    }
  }
}

/**
 * The commission of each fill of one order, in order: the growth of the order's commission. `earlier` are
 * the fills the order already had, with what they were charged: a minimum the order has paid is not
 * charged again by a later fill. Never below zero (an order charged under another schedule before).
 */
export const forFills = (
  schedule: Commission,
  fills: ReadonlyArray<{ readonly quantity: Dec.Decimal; readonly price: Dec.Decimal }>,
  earlier: ReadonlyArray<{ readonly quantity: Dec.Decimal; readonly price: Dec.Decimal; readonly commission: Dec.Decimal }> = []
): Array<Dec.Decimal> => {
  let quantity = Dec.sum(earlier.map((f) => f.quantity))
  let value = Dec.sum(earlier.map((f) => Dec.mul(f.quantity, f.price)))
  let charged = Dec.sum(earlier.map((f) => f.commission))
  return fills.map((fill) => {
    quantity = Dec.add(quantity, fill.quantity)
    value = Dec.add(value, Dec.mul(fill.quantity, fill.price))
    const increment = Dec.max(Dec.ZERO, Dec.sub(forOrder(schedule, quantity, value), charged))
    charged = Dec.add(charged, increment)
    return increment
  })
}
