/**
 * A run's orders and fills as the TradeRunner tracks them while executing, and the pure step that turns
 * execution reports into order changes: new fills only (an execution id seen before is ignored),
 * filled quantity and commission as the sums of the fills, the average price exactly to 10 decimals,
 * and every status change checked against `OrderState`.
 */
import { Either, Option } from "effect"
import * as Dec from "./domain/Decimal.js"
import type { IllegalTransition } from "./domain/errors.js"
import type { ExecutionReport } from "./domain/Execution.js"
import type { ClientOrderId, ExecutionId } from "./domain/Ids.js"
import { type Fill, type OrderStatus, type TradeOrder, tradeOrder } from "./domain/Order.js"
import * as OrderState from "./OrderState.js"
import type { AuditEventInput } from "./ports/AuditLog.js"
import type { OrderUpdate } from "./ports/TradeRepository.js"

/**
 * The ledger keeps its own copy of each order and updates it in place as changes are committed: a large
 * run moves every order twice (submitted, then filled), and a new object per move was garbage the old
 * generation had to hold until its next collection. Orders read from `orders` are the ledger's own and
 * change with it.
 */
export interface Ledger {
  readonly orders: Map<ClientOrderId, TradeOrder>
  readonly fills: Map<ClientOrderId, Array<Fill>>
  readonly executionIds: Set<ExecutionId>
}

export const make = (orders: ReadonlyArray<TradeOrder>, fills: ReadonlyArray<Fill>): Ledger => {
  const ledger: Ledger = { orders: new Map(), fills: new Map(), executionIds: new Set() }
  for (const o of orders) ledger.orders.set(o.clientOrderId, tradeOrder(o, o))
  for (const fill of fills) remember(ledger, fill)
  return ledger
}

const remember = (ledger: Ledger, fill: Fill) => {
  ledger.executionIds.add(fill.executionId)
  const list = ledger.fills.get(fill.clientOrderId)
  if (list === undefined) ledger.fills.set(fill.clientOrderId, [fill])
  else list.push(fill)
}

/** Writes that move a run forward: order changes, the fills behind them, and their audit events. */
export interface Changes {
  readonly updates: ReadonlyArray<OrderUpdate>
  readonly fills: ReadonlyArray<Fill>
  readonly events: ReadonlyArray<AuditEventInput>
}

export const isEmpty = (changes: Changes) => changes.updates.length === 0 && changes.fills.length === 0

/** A fill as its order's transition records it: what replay checks the stored fill against. */
const auditedFill = (fill: Fill) => ({
  executionId: fill.executionId,
  quantity: fill.quantity,
  price: fill.price,
  commission: fill.commission
})

/**
 * The audit event of one order transition: the order's outcome after it (filled quantity, average price,
 * commission, reject reason) and the fills it brought, so that replay can check the persisted order and
 * fills against the trail. A transition to `SUBMITTED` leaves the outcome out: an order there has no fill
 * (one with fills is `PARTIAL`), and half of a large run's events are these.
 */
export const transitionEvent = (order: TradeOrder, update: OrderUpdate, fills?: ReadonlyArray<Fill>): AuditEventInput => {
  const outcome = update.to !== "SUBMITTED"
  return {
    type: "trade_order.transition",
    runId: order.runId,
    // One shape for every transition (absent details are undefined, which the chain leaves out), so the
    // ten thousand of a large run are written by one cached key order.
    payload: {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      from: update.from,
      to: update.to,
      reason: update.rejectReason,
      filledQuantity: outcome ? update.filledQuantity : undefined,
      avgFillPrice: update.avgFillPrice,
      commission: outcome ? update.commission : undefined,
      fills: fills?.map(auditedFill)
    }
  }
}

/** Moves orders that have not been sent to a final status (a risk block, a failed run). */
export const close = (
  orders: ReadonlyArray<TradeOrder>,
  to: "REJECTED" | "CANCELED",
  reasonOf: (order: TradeOrder) => string
): Either.Either<Changes, IllegalTransition> => {
  const updates: Array<OrderUpdate> = []
  const events: Array<AuditEventInput> = []
  for (const order of orders) {
    const illegal = refused(order, to)
    if (illegal !== undefined) return Either.left(illegal)
    const update: OrderUpdate = {
      clientOrderId: order.clientOrderId,
      from: order.status,
      to,
      filledQuantity: order.filledQuantity,
      commission: order.commission,
      rejectReason: reasonOf(order)
    }
    updates.push(update)
    events.push(transitionEvent(order, update))
  }
  return Either.right({ updates, fills: [], events })
}

/** Orders handed to the provider: `NEW → SUBMITTED`. */
export const submitted = (orders: ReadonlyArray<TradeOrder>): Either.Either<Changes, IllegalTransition> => {
  const updates: Array<OrderUpdate> = []
  const events: Array<AuditEventInput> = []
  for (const order of orders) {
    const illegal = refused(order, "SUBMITTED")
    if (illegal !== undefined) return Either.left(illegal)
    const update: OrderUpdate = {
      clientOrderId: order.clientOrderId,
      from: order.status,
      to: "SUBMITTED",
      filledQuantity: order.filledQuantity,
      commission: order.commission
    }
    updates.push(update)
    events.push(transitionEvent(order, update))
  }
  return Either.right({ updates, fills: [], events })
}

/** The error of a transition the order's state machine does not allow, if it does not. */
const refused = (order: TradeOrder, to: OrderStatus): IllegalTransition | undefined =>
  OrderState.canTransition(order.status, to)
    ? undefined
    : Either.getLeft(OrderState.transition(order.clientOrderId, order.status, to)).pipe(Option.getOrUndefined)

/**
 * What the reports change. A terminal order is never touched; a report that repeats what is known
 * changes nothing.
 */
export const fromReports = (
  ledger: Ledger,
  reports: ReadonlyArray<ExecutionReport>
): Either.Either<Changes, IllegalTransition> => {
  const updates: Array<OrderUpdate> = []
  const newFills: Array<Fill> = []
  const events: Array<AuditEventInput> = []
  // One report per order: the last one a provider gave wins.
  const latest = new Map<ClientOrderId, ExecutionReport>()
  for (const report of reports) latest.set(report.clientOrderId, report)
  for (const report of latest.values()) {
    const order = ledger.orders.get(report.clientOrderId)
    if (order === undefined || OrderState.isTerminal(order.status)) continue
    let fresh: Array<Fill> | undefined
    for (const fill of report.fills) if (!ledger.executionIds.has(fill.executionId)) (fresh ??= []).push(fill)
    const known = ledger.fills.get(order.clientOrderId)
    const hasFills = fresh !== undefined || (known !== undefined && known.length > 0)
    // A working order with fills is partially filled, whatever a provider calls it.
    const status = report.status === "SUBMITTED" && hasFills ? "PARTIAL" : report.status
    if (status === order.status && fresh === undefined) continue
    if (status === "SUBMITTED" && order.status === "SUBMITTED") continue
    const illegal = refused(order, status)
    if (illegal !== undefined) return Either.left(illegal)
    // Filled quantity and commission are the sums of every fill; the average price is exact to 10 decimals.
    const quantity = Dec.total()
    const commission = Dec.total()
    const value = Dec.total()
    for (const fills of [known, fresh]) {
      if (fills === undefined) continue
      for (const f of fills) {
        Dec.addTo(quantity, f.quantity)
        Dec.addTo(commission, f.commission)
        Dec.addProduct(value, f.quantity, f.price)
      }
    }
    const filledQuantity = Dec.valueOf(quantity)
    const avgFillPrice = Dec.isZero(filledQuantity) ? undefined : Dec.divideForReport(Dec.valueOf(value), filledQuantity, 10)
    const update: OrderUpdate = {
      clientOrderId: order.clientOrderId,
      from: order.status,
      to: status,
      filledQuantity,
      commission: Dec.valueOf(commission),
      ...(avgFillPrice === undefined ? {} : { avgFillPrice }),
      ...(report.rejectReason === undefined ? {} : { rejectReason: report.rejectReason })
    }
    updates.push(update)
    if (fresh !== undefined) for (const fill of fresh) newFills.push(fill)
    events.push(transitionEvent(order, update, fresh))
  }
  return Either.right({ updates, fills: newFills, events })
}

/** Applies changes that were written, so the ledger matches the repository. */
export const commit = (ledger: Ledger, changes: Changes): void => {
  for (const fill of changes.fills) remember(ledger, fill)
  for (const update of changes.updates) {
    const order = ledger.orders.get(update.clientOrderId) as Mutable<TradeOrder> | undefined
    if (order === undefined) continue
    // What `applyOrderUpdate` would make, written into the ledger's own copy.
    order.status = update.to
    order.filledQuantity = update.filledQuantity
    order.commission = update.commission
    if (update.avgFillPrice !== undefined) order.avgFillPrice = update.avgFillPrice
    else if (order.avgFillPrice !== undefined) delete order.avgFillPrice
    if (update.rejectReason !== undefined) order.rejectReason = update.rejectReason
    else if (order.rejectReason !== undefined) delete order.rejectReason
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
