/**
 * Who carries the orders out: a paper broker, LEAN, later IB directly. The TradeRunner only ever talks
 * to this port, so swapping one Layer swaps the venue.
 *
 * Contract every provider keeps (and the provider contract suite checks):
 * - `submit` is idempotent per client order id: an id it already knows is answered with that order's
 *   report, never traded twice.
 * - a report carries every fill of the order so far, each with an execution id unique to the provider,
 *   so the same fill reported twice is recognised.
 * - `status` answers for the ids it knows and leaves out the ones it does not: an absent id is an order
 *   the provider never received.
 * - an order answered `SUBMITTED` or `PARTIAL` is working: a later `status` may report more fills (new
 *   execution ids; the fills reported before stay as they were) until it is `FILLED` or `CANCELED`. Asked
 *   by several callers at once, a venue fills an order once.
 * - `cancel` ends a working order `CANCELED` keeping its fills, answers a final order's report unchanged,
 *   and fails with `ExecutionError` for an id it never received. A report carries `rejectReason` when the
 *   venue gave a reason for ending the order (`CANCELED` or `REJECTED`).
 */
import { Context, Effect, Layer } from "effect"
import * as Dec from "../domain/Decimal.js"
import type { ExecutionReport, SubmitOrder } from "../domain/Execution.js"
import type { ClientOrderId } from "../domain/Ids.js"
import type { Account } from "../domain/Market.js"
import type { ExecutionError, ExecutionTimeout } from "./errors.js"
import { type FillDecision, makeVenue, type OrderSoFar, type Venue } from "./Venue.js"

export class ExecutionProvider extends Context.Tag("trade-execution/ExecutionProvider")<ExecutionProvider, {
  /** A short name for messages and audit records (`paper`, `lean`). */
  readonly name: string
  readonly submit: (
    orders: ReadonlyArray<SubmitOrder>
  ) => Effect.Effect<ReadonlyArray<ExecutionReport>, ExecutionError | ExecutionTimeout>
  readonly status: (
    clientOrderIds: ReadonlyArray<ClientOrderId>
  ) => Effect.Effect<ReadonlyArray<ExecutionReport>, ExecutionError | ExecutionTimeout>
  readonly cancel: (clientOrderId: ClientOrderId) => Effect.Effect<ExecutionReport, ExecutionError | ExecutionTimeout>
  readonly account: Effect.Effect<Account, ExecutionError | ExecutionTimeout>
}>() {
  /**
   * An in-memory venue that fills every order in full, at once, with no commission: at its limit price,
   * else the snapshot's price, else the price it was built at. For tests and hosts that want the loop
   * without market simulation; `MockExecutionProvider` (adapters/mock) is the realistic paper broker.
   */
  static readonly makeMemory = (account: Partial<Account> = {}): Effect.Effect<Venue> =>
    makeVenue({
      name: "memory",
      account,
      market: () => Effect.succeed(instantFill)
    })

  static readonly layerMemory = (account: Partial<Account> = {}): Layer.Layer<ExecutionProvider> =>
    Layer.effect(ExecutionProvider, Effect.map(ExecutionProvider.makeMemory(account), (venue) => venue.provider))
}

const instantFill = ({ fills, request }: OrderSoFar): FillDecision => ({
  _tag: "Execute",
  fills: [{
    quantity: Dec.sub(request.quantity, Dec.sum(fills.map((f) => f.quantity))),
    price: request.limitPrice ?? request.snapshotPrice ?? request.referencePrice
  }],
  remainder: "canceled"
})
