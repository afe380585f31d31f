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

/** The lifecycle of an order; see `OrderState.ts` for the legal transitions. */
export const OrderStatus = Schema.Literal("NEW", "SUBMITTED", "PARTIAL", "FILLED", "CANCELED", "REJECTED")
export type OrderStatus = typeof OrderStatus.Type

/**
 * An order as the `OrderBuilder` drafts it. `quantity` is unsigned; `side` gives the direction.
 * `currentQuantity` and `targetQuantity` are the signed positions before the order and the one the
 * decision asks for, so every later stage (risk, replay, reports) can tell what the order is for.
 */
export const OrderDraft = Schema.Struct({
  clientOrderId: ClientOrderId,
  symbol: Symbol,
  side: OrderSide,
  quantity: Decimal,
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
  clientOrderId: ClientOrderId,
  symbol: Symbol,
  side: OrderSide,
  quantity: Decimal,
  price: Decimal,
  commission: Decimal,
  time: Instant
})
export type Fill = typeof Fill.Type

/** The signed change a quantity of this side makes to a position. */
export const signedQuantity = (side: OrderSide, quantity: Dec.Decimal): Dec.Decimal =>
  side === "BUY" ? quantity : Dec.negate(quantity)
