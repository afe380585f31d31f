/**
 * The bookkeeping of an in-memory venue, shared by `ExecutionProvider.makeMemory` and the paper broker:
 * orders by client order id (so submission is idempotent), fills with deterministic execution ids, and
 * an account that follows its own fills. What fills, at what price and for what commission is decided by
 * the venue's `decide`.
 */
import { Effect } from "effect"
import * as Dec from "../../domain/Decimal.js"
import type { ClientOrderId, ExecutionId, Symbol } from "../../domain/Ids.js"
import type { Account, Position } from "../../domain/Market.js"
import type { Fill } from "../../domain/Order.js"
import { nowIso } from "../AuditLog.js"
import { ExecutionError } from "../errors.js"
import type { ExecutionProvider, ExecutionReport, ExecutionStatus, SubmitOrder } from "../ExecutionProvider.js"

export interface PlannedFill {
  readonly quantity: Dec.Decimal
  readonly price: Dec.Decimal
  readonly commission?: Dec.Decimal
}

/** What happens to a new order: rejected, or some fills and then the rest working or canceled. */
export type FillDecision =
  | { readonly _tag: "Reject"; readonly reason: string }
  | {
    readonly _tag: "Execute"
    readonly fills: ReadonlyArray<PlannedFill>
    /** What becomes of a quantity not filled: left working, or canceled. */
    readonly remainder: "working" | "canceled"
    readonly cancelReason?: string
  }

export interface VenueOrder {
  readonly request: SubmitOrder
  readonly status: ExecutionStatus
  readonly fills: ReadonlyArray<Fill>
  readonly rejectReason?: string
}

export interface Venue {
  readonly provider: ExecutionProvider["Type"]
  /** Every order the venue has accepted, by client order id. */
  readonly orders: Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>>
}

const report = (order: VenueOrder): ExecutionReport => ({
  clientOrderId: order.request.clientOrderId,
  status: order.status,
  fills: order.fills,
  ...(order.rejectReason === undefined ? {} : { rejectReason: order.rejectReason })
})

export const makeVenue = (options: {
  readonly name: string
  readonly account: Partial<Account>
  readonly decide: (order: SubmitOrder) => Effect.Effect<FillDecision, ExecutionError>
}): Effect.Effect<Venue> =>
  Effect.gen(function*() {
    // Mutable state, changed only under `lock` (or in one synchronous step): a run of thousands of orders
    // must not copy the book per order.
    const orders = new Map<ClientOrderId, VenueOrder>()
    const positions = new Map<Symbol, Dec.Decimal>((options.account.positions ?? []).map((p) => [p.symbol, p.quantity]))
    let cash = options.account.cash ?? Dec.ZERO
    const lock = yield* Effect.makeSemaphore(1)

    const book = (fill: Fill) => {
      const value = Dec.mul(fill.quantity, fill.price)
      cash = Dec.sub(fill.side === "BUY" ? Dec.sub(cash, value) : Dec.add(cash, value), fill.commission)
      const change = fill.side === "BUY" ? fill.quantity : Dec.negate(fill.quantity)
      positions.set(fill.symbol, Dec.add(positions.get(fill.symbol) ?? Dec.ZERO, change))
    }

    const accept = (request: SubmitOrder) =>
      Effect.gen(function*() {
        const decision = yield* options.decide(request)
        if (decision._tag === "Reject") {
          return { request, status: "REJECTED", fills: [], rejectReason: decision.reason } satisfies VenueOrder
        }
        const time = yield* nowIso
        const fills = decision.fills
          .filter((f) => Dec.isPositive(f.quantity))
          .map((f, i): Fill => ({
            executionId: `${request.clientOrderId}-F${i + 1}` as ExecutionId,
            clientOrderId: request.clientOrderId,
            symbol: request.symbol,
            side: request.side,
            quantity: f.quantity,
            price: f.price,
            commission: f.commission ?? Dec.ZERO,
            time
          }))
        for (const fill of fills) book(fill)
        const filled = Dec.sum(fills.map((f) => f.quantity))
        const complete = Dec.gte(filled, request.quantity)
        const status: ExecutionStatus = complete
          ? "FILLED"
          : decision.remainder === "canceled"
          ? "CANCELED"
          : fills.length > 0
          ? "PARTIAL"
          : "SUBMITTED"
        return {
          request,
          status,
          fills,
          ...(status === "CANCELED" && decision.cancelReason !== undefined ? { rejectReason: decision.cancelReason } : {})
        } satisfies VenueOrder
      })

    const provider: ExecutionProvider["Type"] = {
      name: options.name,
      submit: (requests) =>
        lock.withPermits(1)(
          Effect.forEach(requests, (request) => {
            const known = orders.get(request.clientOrderId)
            if (known !== undefined) return Effect.succeed(report(known))
            return Effect.map(accept(request), (order) => {
              orders.set(request.clientOrderId, order)
              return report(order)
            })
          })
        ),
      status: (ids) =>
        Effect.sync(() =>
          ids.flatMap((id) => {
            const order = orders.get(id)
            return order === undefined ? [] : [report(order)]
          })
        ),
      cancel: (id) =>
        lock.withPermits(1)(Effect.suspend(() => {
          const order = orders.get(id)
          if (order === undefined) {
            return new ExecutionError({ provider: options.name, operation: "cancel", reason: `unknown order ${id}` })
          }
          if (order.status !== "SUBMITTED" && order.status !== "PARTIAL") return Effect.succeed(report(order))
          const canceled: VenueOrder = { ...order, status: "CANCELED" }
          orders.set(id, canceled)
          return Effect.succeed(report(canceled))
        })),
      account: Effect.sync(() => {
        const list: Array<Position> = []
        for (const [symbol, quantity] of [...positions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          if (!Dec.isZero(quantity)) list.push({ symbol, quantity })
        }
        return { cash, positions: list }
      })
    }
    return { provider, orders: Effect.sync(() => new Map(orders)) }
  })
