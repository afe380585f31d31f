/**
 * Transaction cost analysis of a run's executions, in exact decimals.
 *
 * For each order that filled (wholly or in part), against the reference price it was built at:
 * - slippage, in money: `side × (avg − reference) × filled`, positive when it cost (a buy above, a sell
 *   below the reference), computed as `side × (Σ quantity × price − reference × filled)` over the fills so
 *   that no rounded average enters it;
 * - slippage in basis points of the reference: `side × (avg − reference) / reference × 10,000`;
 * - implementation shortfall: slippage plus commission.
 * Totals add the money up and give each total in basis points of the traded notional (Σ quantity × price
 * of the fills). Orders with no fill cost nothing here and are not listed.
 */
import * as Dec from "./domain/Decimal.js"
import type { ClientOrderId, Symbol } from "./domain/Ids.js"
import type { Fill, OrderSide, TradeOrder } from "./domain/Order.js"

/** Basis points are given to this many decimals; prices to the scale the ledger reports averages at. */
const BPS_SCALE = 4
const PRICE_SCALE = 10

export interface OrderCost {
  readonly clientOrderId: ClientOrderId
  readonly symbol: Symbol
  readonly side: OrderSide
  readonly referencePrice: Dec.Decimal
  readonly filledQuantity: Dec.Decimal
  /** Σ quantity × price of the order's fills. */
  readonly filledNotional: Dec.Decimal
  /** filledNotional / filledQuantity, to 10 decimals (for reading; the money figures do not use it). */
  readonly avgFillPrice: Dec.Decimal
  /** Positive = cost. */
  readonly slippage: Dec.Decimal
  readonly slippageBps: Dec.Decimal
  readonly commission: Dec.Decimal
  /** slippage + commission. */
  readonly implementationShortfall: Dec.Decimal
}

export interface CostTotals {
  readonly ordersFilled: number
  readonly filledNotional: Dec.Decimal
  readonly slippage: Dec.Decimal
  readonly commission: Dec.Decimal
  readonly implementationShortfall: Dec.Decimal
  /** Each total in basis points of the traded notional; absent when nothing traded. */
  readonly slippageBps?: Dec.Decimal
  readonly commissionBps?: Dec.Decimal
  readonly implementationShortfallBps?: Dec.Decimal
}

export interface TransactionCosts {
  readonly orders: ReadonlyArray<OrderCost>
  readonly totals: CostTotals
}

const bpsOf = (amount: Dec.Decimal, base: Dec.Decimal): Dec.Decimal =>
  Dec.divideForReport(Dec.mul(amount, Dec.BPS_PER_UNIT), base, BPS_SCALE)

/** The costs of the orders' fills; orders are listed in the order given. */
export const analyze = (orders: ReadonlyArray<TradeOrder>, fills: ReadonlyArray<Fill>): TransactionCosts => {
  const executed = new Map<ClientOrderId, { quantity: Dec.Total; notional: Dec.Total; commission: Dec.Total }>()
  for (const f of fills) {
    let sums = executed.get(f.clientOrderId)
    if (sums === undefined) executed.set(f.clientOrderId, sums = { quantity: Dec.total(), notional: Dec.total(), commission: Dec.total() })
    Dec.addTo(sums.quantity, f.quantity)
    Dec.addProduct(sums.notional, f.quantity, f.price)
    Dec.addTo(sums.commission, f.commission)
  }

  const costs: Array<OrderCost> = []
  const notional = Dec.total()
  const slippage = Dec.total()
  const commission = Dec.total()
  for (const o of orders) {
    const sums = executed.get(o.clientOrderId)
    if (sums === undefined) continue
    const filledQuantity = Dec.valueOf(sums.quantity)
    if (Dec.isZero(filledQuantity)) continue
    const filledNotional = Dec.valueOf(sums.notional)
    const atReference = Dec.mul(o.referencePrice, filledQuantity)
    const difference = Dec.sub(filledNotional, atReference)
    const cost = o.side === "BUY" ? difference : Dec.negate(difference)
    const paid = Dec.valueOf(sums.commission)
    costs.push({
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      referencePrice: o.referencePrice,
      filledQuantity,
      filledNotional,
      avgFillPrice: Dec.divideForReport(filledNotional, filledQuantity, PRICE_SCALE),
      slippage: cost,
      slippageBps: bpsOf(cost, atReference),
      commission: paid,
      implementationShortfall: Dec.add(cost, paid)
    })
    Dec.addTo(notional, filledNotional)
    Dec.addTo(slippage, cost)
    Dec.addTo(commission, paid)
  }

  const traded = Dec.valueOf(notional)
  const totalSlippage = Dec.valueOf(slippage)
  const totalCommission = Dec.valueOf(commission)
  const shortfall = Dec.add(totalSlippage, totalCommission)
  return {
    orders: costs,
    totals: {
      ordersFilled: costs.length,
      filledNotional: traded,
      slippage: totalSlippage,
      commission: totalCommission,
      implementationShortfall: shortfall,
      ...(Dec.isZero(traded) ? {} : {
        slippageBps: bpsOf(totalSlippage, traded),
        commissionBps: bpsOf(totalCommission, traded),
        implementationShortfallBps: bpsOf(shortfall, traded)
      })
    }
  }
}
