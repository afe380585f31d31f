/**
 * What passes between a run and its venue: the order as it is sent, and the venue's report of it. Every
 * `ExecutionProvider` speaks these, and so does the bookkeeping its simulated venues share (`ports/Venue.ts`).
 */
import { Schema } from "effect"
import type * as Dec from "./Decimal.js"
import type { ClientOrderId, RunId, Symbol } from "./Ids.js"
import type { Fill, OrderSide, OrderType, TimeInForce } from "./Order.js"

export interface SubmitOrder {
  readonly runId: RunId
  readonly clientOrderId: ClientOrderId
  readonly symbol: Symbol
  readonly side: OrderSide
  readonly quantity: Dec.Decimal
  readonly orderType: OrderType
  readonly limitPrice?: Dec.Decimal
  /** How long the venue keeps the order working; `DAY` when absent. */
  readonly timeInForce?: TimeInForce
  /** The price the order was built at (the feed's, when it was built). */
  readonly referencePrice: Dec.Decimal
  /** The decision snapshot's own price for the symbol, if it had one. */
  readonly snapshotPrice?: Dec.Decimal
}

export const ExecutionStatus = Schema.Literal("SUBMITTED", "PARTIAL", "FILLED", "CANCELED", "REJECTED")
export type ExecutionStatus = typeof ExecutionStatus.Type

export interface ExecutionReport {
  readonly clientOrderId: ClientOrderId
  readonly status: ExecutionStatus
  /** Every fill of the order so far. */
  readonly fills: ReadonlyArray<Fill>
  readonly rejectReason?: string
}
