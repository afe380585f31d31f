/**
 * Orders as the builder drafts them, as they are persisted with their lifecycle, and their fills.
 */
import { Schema } from "effect"
import * as Dec from "./Decimal.js"
import { ClientOrderId, ExecutionId, RunId, Symbol } from "./Ids.js"
import { Decimal, Instant, optional } from "./schema.js"

export const OrderSide = Schema.Literal("BUY", "SELL")
export type OrderSide = typeof OrderSide.Type

export const OrderType = Schema.Literal("MKT", "LMT")
export type OrderType = typeof OrderType.Type

/**
 * How long the venue keeps an order working: `DAY` until the session's close (then the venue expires it),
 * `GTC` until it fills or is canceled.
 */
export const TimeInForce = Schema.Literal("DAY", "GTC")
export type TimeInForce = typeof TimeInForce.Type

/** The lifecycle of an order; see `OrderState.ts` for the legal transitions. */
export const OrderStatus = Schema.Literal("NEW", "SUBMITTED", "PARTIAL", "FILLED", "CANCELED", "REJECTED")
export type OrderStatus = typeof OrderStatus.Type

/**
 * What an order and each of its fills both state: the order, its symbol, the side and an unsigned quantity
 * (the order's, or the fill's).
 */
const orderLeg = {
  clientOrderId: ClientOrderId,
  symbol: Symbol,
  side: OrderSide,
  quantity: Decimal
}

/**
 * An order as the `OrderBuilder` drafts it. `quantity` is unsigned; `side` gives the direction.
 * `currentQuantity` and `targetQuantity` are the signed positions before the order and the one the
 * decision asks for, so every later stage (risk, replay, reports) can tell what the order is for.
 */
export const OrderDraft = Schema.Struct({
  ...orderLeg,
  orderType: OrderType,
  limitPrice: optional(Decimal),
  referencePrice: Decimal,
  currentQuantity: Decimal,
  targetQuantity: Decimal,
  targetWeight: Decimal,
  sector: optional(Schema.String)
})
export type OrderDraft = typeof OrderDraft.Type

/** A persisted order of a run with where it stands in its lifecycle. */
export const TradeOrder = Schema.Struct({
  ...OrderDraft.fields,
  runId: RunId,
  status: OrderStatus,
  filledQuantity: Decimal,
  avgFillPrice: optional(Decimal),
  commission: Decimal,
  rejectReason: optional(Schema.String),
  createdAt: Instant,
  updatedAt: Instant
})
export type TradeOrder = typeof TradeOrder.Type

/** One execution of (part of) an order. `executionId` is unique across all fills. */
export const Fill = Schema.Struct({
  executionId: ExecutionId,
  ...orderLeg,
  price: Decimal,
  commission: Decimal,
  time: Instant
})
export type Fill = typeof Fill.Type

/** Where a persisted order stands: everything a `TradeOrder` adds to its draft. */
export interface OrderLifecycle {
  readonly runId: TradeOrder["runId"]
  readonly status: OrderStatus
  readonly filledQuantity: Dec.Decimal
  readonly avgFillPrice?: Dec.Decimal | undefined
  readonly commission: Dec.Decimal
  readonly rejectReason?: string | undefined
  readonly createdAt: string
  readonly updatedAt: string
}

/**
 * A persisted order from its draft and where it stands. Written member by member, optional members last
 * and only when present: every order of a run is made this way several times (built, read, updated), and
 * object spreads with optional members take the engine's slow path, which showed in a profile of a large
 * run.
 */
export const tradeOrder = (draft: OrderDraft, lifecycle: OrderLifecycle): TradeOrder => {
  const order: { -readonly [K in keyof TradeOrder]: TradeOrder[K] } = {
    clientOrderId: draft.clientOrderId,
    symbol: draft.symbol,
    side: draft.side,
    quantity: draft.quantity,
    orderType: draft.orderType,
    referencePrice: draft.referencePrice,
    currentQuantity: draft.currentQuantity,
    targetQuantity: draft.targetQuantity,
    targetWeight: draft.targetWeight,
    runId: lifecycle.runId,
    status: lifecycle.status,
    filledQuantity: lifecycle.filledQuantity,
    commission: lifecycle.commission,
    createdAt: lifecycle.createdAt,
    updatedAt: lifecycle.updatedAt
  }
  if (draft.limitPrice !== undefined) order.limitPrice = draft.limitPrice
  if (draft.sector !== undefined) order.sector = draft.sector
  if (lifecycle.avgFillPrice !== undefined) order.avgFillPrice = lifecycle.avgFillPrice
  if (lifecycle.rejectReason !== undefined) order.rejectReason = lifecycle.rejectReason
  return order
}

/** The signed change a quantity of this side makes to a position. */
export const signedQuantity = (side: OrderSide, quantity: Dec.Decimal): Dec.Decimal =>
  side === "BUY" ? quantity : Dec.negate(quantity)
