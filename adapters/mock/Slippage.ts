/**
 * Where a paper fill happens and how much of the order fills.
 *
 * - `None`: at the reference price.
 * - `FixedBps`: the reference price moved against the order by a fixed number of basis points.
 * - `VolumeShare` (LEAN's model): the price moves against the order by `priceImpact × share²` of itself,
 *   where `share` is the order's fraction of the day's volume, at most `volumeLimit`; the order fills at
 *   most `volumeLimit × volume` (the participation cap). Without a volume the order fills in full with no
 *   impact: there is nothing to measure it against.
 * Fill prices are rounded to `priceDecimals` against the order (buys up, sells down), a sell never to zero.
 * A model that could move a price to zero or below is refused (`problem`): at most 9,999.99… bps, and an
 * impact below the whole price at the participation cap.
 */
import * as Dec from "../../src/domain/Decimal.js"
import type { OrderSide } from "../../src/domain/Order.js"

export type Slippage =
  | { readonly _tag: "None" }
  | { readonly _tag: "FixedBps"; readonly bps: Dec.Decimal }
  | { readonly _tag: "VolumeShare"; readonly priceImpact: Dec.Decimal; readonly volumeLimit: Dec.Decimal }

export interface Execution {
  /** How much can fill now (≤ the order quantity). */
  readonly quantity: Dec.Decimal
  readonly price: Dec.Decimal
}

const BPS_BOUND = Dec.BPS_PER_UNIT

/** Why the model could price a fill at zero or below, or undefined when it cannot. */
export const problem = (model: Slippage): string | undefined => {
  switch (model._tag) {
    case "None":
      return undefined
    case "FixedBps":
      return Dec.isNegative(model.bps) || Dec.gte(model.bps, BPS_BOUND)
        ? "must be at least 0 and below 10000 (at 10000 bps a sell would fill at a price of zero or less)"
        : undefined
    case "VolumeShare":
      if (Dec.isNegative(model.priceImpact)) return "priceImpact must not be negative"
      if (!Dec.isPositive(model.volumeLimit) || Dec.gt(model.volumeLimit, Dec.ONE)) return "volumeLimit must be above 0 and at most 1"
      return Dec.gte(Dec.mul(model.priceImpact, Dec.mul(model.volumeLimit, model.volumeLimit)), Dec.ONE)
        ? "priceImpact × volumeLimit² must be below 1 (a sell at the cap would fill at a price of zero or less)"
        : undefined
  }
}

const against = (side: OrderSide, price: Dec.Decimal, fraction: Dec.Decimal) =>
  Dec.mul(price, side === "BUY" ? Dec.add(Dec.ONE, fraction) : Dec.sub(Dec.ONE, fraction))

/** The quantity that fills under a participation cap, truncated to the order quantity's precision. */
const capped = (quantity: Dec.Decimal, volume: Dec.Decimal, volumeLimit: Dec.Decimal): Dec.Decimal => {
  const cap = Dec.mul(volume, volumeLimit)
  if (Dec.lte(quantity, cap)) return quantity
  const unit = Dec.unsafe(`1e-${Math.max(0, quantity.scale)}`)
  return Dec.roundToIncrement(cap, unit, "floor")
}

export const execute = (
  model: Slippage,
  order: { readonly side: OrderSide; readonly quantity: Dec.Decimal },
  reference: Dec.Decimal,
  volume: Dec.Decimal | undefined,
  priceDecimals: number
): Execution => {
  const unit = Dec.make(1n, priceDecimals)
  const round = (price: Dec.Decimal) =>
    order.side === "BUY" ? Dec.roundScale(price, priceDecimals, "ceil") : Dec.max(Dec.roundScale(price, priceDecimals, "floor"), unit)
  switch (model._tag) {
    case "None":
      return { quantity: order.quantity, price: reference }
    case "FixedBps":
      return { quantity: order.quantity, price: round(against(order.side, reference, Dec.fromBps(model.bps))) }
    case "VolumeShare": {
      if (volume === undefined || !Dec.isPositive(volume)) return { quantity: order.quantity, price: reference }
      const quantity = capped(order.quantity, volume, model.volumeLimit)
      const share = Dec.min(Dec.divideForReport(quantity, volume, 12), model.volumeLimit)
      const impact = Dec.mul(model.priceImpact, Dec.mul(share, share))
      return { quantity, price: round(against(order.side, reference, impact)) }
    }
  }
}
