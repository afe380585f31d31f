/**
 * LEAN's view of an order (its `Order` and its `OrderEvent`s) as our execution report.
 *
 * Statuses: New, Submitted, UpdateSubmitted, CancelPending and None are working (`SUBMITTED`, or `PARTIAL` once
 * something filled); PartiallyFilled is `PARTIAL`; Filled `FILLED`; Canceled `CANCELED`; Invalid `REJECTED` with
 * LEAN's message, or `CANCELED` with it when part of the order had already filled.
 *
 * Fills are the events with a non-zero fill quantity. Each gets the execution id LEAN itself gives the event
 * (`SerializedOrderEvent.Id` = `{AlgorithmId}-{OrderId}-{OrderEventId}`), so the same event read twice, listed
 * twice, or listed out of order is still one fill with one id. `OrderEventId` counts from 1 per order
 * (`Order.GetNewId`), which tells us when events are missing.
 *
 * LEAN sets an order's status before it raises the order event, so the orders file can run ahead of the events
 * file. A final status is only reported when the events behind it are all there — no event id missing, and the
 * newest event itself says Filled, Canceled or Invalid (a Filled order's fills also add up to it) — because the
 * runner never touches a final order again: a fill reported after it would be lost. Until then the order is
 * reported as still working, `SUBMITTED` or `PARTIAL` by its fills.
 */
import { Either, Option } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import { type ClientOrderId, type ExecutionId, normalizeSymbol, type Symbol } from "../../src/domain/Ids.js"
import type { Fill } from "../../src/domain/Order.js"
import type { ExecutionReport, ExecutionStatus } from "../../src/ports/ExecutionProvider.js"
import { type LeanOrder, type LeanOrderEvent, LeanOrderStatus } from "./LeanResults.js"

/** One LEAN order carrying our tag, with the events LEAN wrote for it. */
export interface TaggedOrder {
  /** The algorithm (deployment) whose results hold the order; order ids restart with every deployment. */
  readonly algorithmId: string
  readonly order: LeanOrder
  readonly events: ReadonlyArray<LeanOrderEvent>
}

/**
 * The client order id an order was tagged with. LEAN changes an order's tag after submission: on a fill with a
 * message it appends `" - " + message` (paper fill models warn of stale prices that way), and a cancel with a
 * tag replaces it. The tag the order was submitted with is taken where the results record it; otherwise the tag
 * up to its first space, which is the whole of ours: client order ids have no spaces (`[A-Za-z0-9._-]`).
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

const MILLIS_PER_SECOND = Dec.unsafe(1000)

/** LEAN's unix seconds (a double, written with its fraction) as an instant, to the millisecond. */
const instant = (seconds: Dec.Decimal): string =>
  new Date(Number(Dec.toString(Dec.roundScale(Dec.mul(seconds, MILLIS_PER_SECOND), 0, "half-even")))).toISOString()

const symbolOf = (raw: string): Either.Either<Symbol, string> => {
  const symbol = normalizeSymbol(raw)
  return symbol === undefined ? Either.left(`LEAN reported ${JSON.stringify(raw)}, which is not a symbol we trade`) : Either.right(symbol)
}

interface OrderView {
  readonly status: ExecutionStatus
  readonly fills: ReadonlyArray<Fill>
  readonly reason?: string
}

const viewOf = (
  clientOrderId: ClientOrderId,
  tagged: TaggedOrder,
  now: string
): Either.Either<OrderView, string> =>
  Either.gen(function*() {
    const { algorithmId, order } = tagged
    const events = distinctEvents(tagged.events)
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

    const filled = Dec.sum(fills.map((f) => f.quantity))
    const working: ExecutionStatus = fills.length > 0 ? "PARTIAL" : "SUBMITTED"
    // LEAN sets `order.Status` before it raises the order event, and the bridge's timed publish writes statuses
    // straight from LEAN's books: the orders file may say an order is done while its last events (fills among
    // them) are not written yet. The runner never touches a final order again, so an order is only final when
    // every event is there (ids run 1..n with no gap) and the newest of them says so itself.
    const complete = events.every((e, i) => e.orderEventId === i + 1)
    const last = events.at(-1)
    const finalStatus = complete && last !== undefined ? Option.filter(last.status, isTerminal) : Option.none()
    const messageOf = (wanted: number) =>
      Option.getOrUndefined(
        Option.firstSomeOf([...events].reverse().map((e) => Option.filter(e.message, () => Option.contains(e.status, wanted))))
      )

    if (Option.isNone(finalStatus)) return { status: working, fills }
    switch (finalStatus.value) {
      case LeanOrderStatus.Filled: {
        // And the fills add up to the order, as they must once LEAN says Filled.
        const ordered = Option.map(order.quantity, Dec.abs)
        return Option.exists(ordered, (q) => Dec.eq(q, filled)) ? { status: "FILLED", fills } : { status: working, fills }
      }
      case LeanOrderStatus.Canceled: {
        const reason = messageOf(LeanOrderStatus.Canceled)
        return { status: "CANCELED", fills, ...(reason === undefined ? {} : { reason }) }
      }
      default: {
        // Invalid. An order that never traded was refused: REJECTED, with LEAN's message. One that had already
        // traded cannot be REJECTED (PARTIAL → REJECTED is not a transition, the run would fail): LEAN gave up on
        // its remainder, so it is CANCELED with its fills kept and LEAN's message as the reason.
        const reason = messageOf(LeanOrderStatus.Invalid) ?? "LEAN marked the order Invalid"
        return { status: fills.length > 0 ? "CANCELED" : "REJECTED", fills, reason }
      }
    }
  })

/**
 * The report of an order LEAN holds. Normally one LEAN order carries the tag; if several do (LEAN reloaded an
 * open broker order after a restart, under a new deployment), every fill of each is reported and the status
 * is that of the newest (`tagged` is oldest first).
 */
export const report = (
  clientOrderId: ClientOrderId,
  tagged: ReadonlyArray<TaggedOrder>,
  now: string
): Either.Either<ExecutionReport, string> =>
  Either.gen(function*() {
    const views: Array<OrderView> = []
    for (const t of tagged) views.push(yield* viewOf(clientOrderId, t, now))
    const newest = views.at(-1)
    if (newest === undefined) return yield* Either.left(`LEAN holds no order tagged ${clientOrderId}`)
    return {
      clientOrderId,
      status: newest.status,
      fills: views.flatMap((v) => v.fills),
      ...(newest.reason === undefined ? {} : { rejectReason: newest.reason })
    }
  })

/** The report of an order LEAN refused outright: its command failed and no order was created. */
export const refused = (clientOrderId: ClientOrderId, resultFile: string): ExecutionReport => ({
  clientOrderId,
  status: "REJECTED",
  fills: [],
  rejectReason: `LEAN refused the order command (${resultFile}: success false); see LEAN's log`
})
