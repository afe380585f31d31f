/**
 * LEAN's view of an order (its `Order` and its `OrderEvent`s) as our execution report.
 *
 * Statuses: New, Submitted, UpdateSubmitted, CancelPending and None are working (`SUBMITTED`, or `PARTIAL` once
 * something filled); PartiallyFilled is `PARTIAL`; Filled `FILLED`; Canceled `CANCELED`; Invalid `REJECTED` with
 * LEAN's message, or `CANCELED` with it when part of the order had already filled. A DAY order the venue
 * canceled at the session's close is `CANCELED` with the reason `expired`; one canceled on request has no
 * reason of LEAN's; one the venue canceled otherwise has LEAN's message.
 *
 * Fills are the events with a non-zero fill quantity. Each gets the execution id LEAN itself gives the event
 * (`SerializedOrderEvent.Id` = `{AlgorithmId}-{OrderId}-{OrderEventId}`), so the same event read twice, listed
 * twice, or listed out of order is still one fill with one id.
 *
 * When is an order final? LEAN sets an order's status before it raises the order event, so the orders file can
 * run ahead of the events file, and the runner never touches a final order again: a fill reported after it
 * would be lost. So an order is final only when LEAN's order status is final, the newest event says the same
 * (an Invalid event after Filled or Canceled does not count: LEAN leaves the order's status as it was, as for
 * an update the brokerage refused) and, for Filled, the fills add up to the order. Event ids may have gaps:
 * LEAN numbers every event (`Order.GetNewId`) but never raises those with status None (an Interactive Brokers
 * order gone "Inactive"), so no file ever lists them (BrokerageTransactionHandler.HandleOrderEvents). A gap is
 * never a fill: fills always reach the algorithm.
 */
import { Either, Option } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ExecutionReport } from "../../src/domain/Execution.js"
import { type ClientOrderId, type ExecutionId, normalizeSymbol, type Symbol } from "../../src/domain/Ids.js"
import type { Fill } from "../../src/domain/Order.js"
import { type LeanOrder, type LeanOrderEvent, LeanOrderStatus } from "./LeanResults.js"

/** One LEAN order carrying our tag, with the events LEAN wrote for it. */
export interface TaggedOrder {
  /** The algorithm (deployment) whose results hold the order; order ids restart with every deployment. */
  readonly algorithmId: string
  readonly order: LeanOrder
  readonly events: ReadonlyArray<LeanOrderEvent>
}

/**
 * The client order id an order was tagged with. LEAN may change an order's tag after submission: an order it
 * refuses when adding it gets the error message as its tag, a cancel with a tag replaces it, and LEAN before
 * #8668 (2025-04) appended a fill's message (`" - " + message`). The tag the order was submitted with is taken
 * where the results record it; otherwise the tag up to its first space, which is the whole of ours: client
 * order ids have no spaces (`[A-Za-z0-9._-]`).
 */
export const clientTagOf = (order: LeanOrder): string =>
  Option.getOrElse(order.submittedTag, () => order.tag.split(" ", 1)[0] ?? "")

const isTerminal = (status: number) =>
  status === LeanOrderStatus.Filled || status === LeanOrderStatus.Canceled || status === LeanOrderStatus.Invalid

/** Each event once, in LEAN's order. */
const distinctEvents = (events: ReadonlyArray<LeanOrderEvent>): ReadonlyArray<LeanOrderEvent> => {
  const byId = new Map<number, LeanOrderEvent>()
  for (const event of events) if (!byId.has(event.orderEventId)) byId.set(event.orderEventId, event)
  return [...byId.values()].sort((a, b) => a.orderEventId - b.orderEventId)
}

/**
 * The status the events give the order, as LEAN applies them: an Invalid event does not change an order that
 * is Filled or Canceled (an update the brokerage refused because the order had closed).
 */
const statusByEvents = (events: ReadonlyArray<LeanOrderEvent>): Option.Option<number> => {
  let status: Option.Option<number> = Option.none()
  for (const event of events) {
    if (Option.isNone(event.status)) continue
    const closed = Option.exists(status, (s) => s === LeanOrderStatus.Filled || s === LeanOrderStatus.Canceled)
    if (closed && event.status.value === LeanOrderStatus.Invalid) continue
    status = event.status
  }
  return status
}

const MILLIS_PER_SECOND = Dec.unsafe(1000)

/** LEAN's unix seconds (a double, written with its fraction) as an instant, to the millisecond. */
const instant = (seconds: Dec.Decimal): string =>
  new Date(Number(Dec.toString(Dec.roundScale(Dec.mul(seconds, MILLIS_PER_SECOND), 0, "half-even")))).toISOString()

const symbolOf = (raw: string): Either.Either<Symbol, string> => {
  const symbol = normalizeSymbol(raw)
  return symbol === undefined ? Either.left(`LEAN reported ${JSON.stringify(raw)}, which is not a symbol we trade`) : Either.right(symbol)
}

const fillsOf = (clientOrderId: ClientOrderId, tagged: TaggedOrder, events: ReadonlyArray<LeanOrderEvent>, now: string) =>
  Either.gen(function*() {
    const { algorithmId, order } = tagged
    const fills: Array<Fill> = []
    for (const event of events) {
      if (Dec.isZero(event.fillQuantity)) continue
      const symbol = yield* symbolOf(Option.getOrElse(Option.orElse(event.symbol, () => order.symbol), () => ""))
      const side = Option.getOrElse(event.direction, () => (Dec.isNegative(event.fillQuantity) ? "sell" : "buy"))
      fills.push({
        executionId: `${algorithmId}-${order.id}-${event.orderEventId}` as ExecutionId,
        clientOrderId,
        symbol,
        side: side === "sell" ? "SELL" : "BUY",
        quantity: Dec.abs(event.fillQuantity),
        price: event.fillPrice,
        commission: event.fee,
        time: Option.match(event.time, { onNone: () => now, onSome: instant })
      })
    }
    return fills
  })

/** The message LEAN's paper (backtesting) brokerage gives a Canceled event when a time in force ran out. */
export const EXPIRED_MESSAGE = "The order has expired."

/** The reason we report for an order the venue expired. */
export const EXPIRED = "expired"

/**
 * Whether a Canceled order was expired by the venue rather than canceled on request: LEAN's paper brokerage
 * says so in the event; Interactive Brokers cancels a DAY order at the close without a word, so a DAY order
 * canceled while no cancel was asked for it is taken as expired.
 */
const expired = (order: LeanOrder, message: string | undefined) =>
  message === EXPIRED_MESSAGE ||
  (Option.contains(order.cancelRequested, false) && Option.contains(order.timeInForce, "Day"))

/**
 * The report of an order LEAN holds. `tagged` is oldest first: normally one LEAN order, several when LEAN
 * reloaded an order still open at the brokerage after a restart (a new LEAN order id under a new deployment).
 * Every fill of each is reported; the status is that of the newest, which, for Filled, must be matched by the
 * fills of them all.
 */
export const report = (
  clientOrderId: ClientOrderId,
  tagged: ReadonlyArray<TaggedOrder>,
  now: string
): Either.Either<ExecutionReport, string> =>
  Either.gen(function*() {
    const fills: Array<Fill> = []
    let newestEvents: ReadonlyArray<LeanOrderEvent> = []
    for (const t of tagged) {
      newestEvents = distinctEvents(t.events)
      fills.push(...yield* fillsOf(clientOrderId, t, newestEvents, now))
    }
    const newest = tagged.at(-1)
    if (newest === undefined) return yield* Either.left(`LEAN holds no order tagged ${clientOrderId}`)
    const { order } = newest

    const working: ExecutionReport = { clientOrderId, status: fills.length > 0 ? "PARTIAL" : "SUBMITTED", fills }
    const byEvents = statusByEvents(newestEvents)
    if (!isTerminal(order.status) || !Option.contains(byEvents, order.status)) return working

    const messageOf = (wanted: number) =>
      Option.getOrUndefined(
        Option.firstSomeOf([...newestEvents].reverse().map((e) => Option.filter(e.message, () => Option.contains(e.status, wanted))))
      )
    switch (order.status) {
      case LeanOrderStatus.Filled: {
        const filled = Dec.sum(fills.map((f) => f.quantity))
        return Option.exists(order.quantity, (q) => Dec.eq(Dec.abs(q), filled)) ? { clientOrderId, status: "FILLED", fills } : working
      }
      case LeanOrderStatus.Canceled: {
        // Canceled on request, the order carries no reason of LEAN's (the brokerage's confirmation says nothing:
        // "Interactive Brokers Order Event"), so the caller's own applies (a deadline, a user's cancel).
        const message = messageOf(LeanOrderStatus.Canceled)
        const reason = expired(order, message) ? EXPIRED : Option.contains(order.cancelRequested, true) ? undefined : message
        return { clientOrderId, status: "CANCELED", fills, ...(reason === undefined ? {} : { rejectReason: reason }) }
      }
      default: {
        // Invalid. An order that never traded was refused: REJECTED, with LEAN's message. One that had already
        // traded cannot be REJECTED (PARTIAL → REJECTED is not a transition, the run would fail): LEAN gave up on
        // its remainder, so it is CANCELED with its fills kept and LEAN's message as the reason.
        const reason = messageOf(LeanOrderStatus.Invalid) ?? "LEAN marked the order Invalid"
        return { clientOrderId, status: fills.length > 0 ? "CANCELED" : "REJECTED", fills, rejectReason: reason }
      }
    }
  })

/**
 * The report of an order LEAN refused outright: its command failed and no order was created (LEAN's pre-order
 * checks: no price yet, a security the algorithm has not added, …). `reason` is LEAN's, where the bridge
 * recorded it.
 */
export const refused = (clientOrderId: ClientOrderId, resultFile: string, reason: string | undefined): ExecutionReport => ({
  clientOrderId,
  status: "REJECTED",
  fills: [],
  rejectReason: reason ?? `LEAN refused the order command (${resultFile}: success false); see LEAN's log`
})
