/**
 * The bookkeeping of a simulated venue, shared by `ExecutionProvider.makeMemory` and the paper broker:
 * orders by client order id (so submission is idempotent), fills with deterministic execution ids, and
 * an account that follows its own fills. What fills, at what price and for what commission is decided by
 * the venue's `decide`; where the orders and the account are kept is its `VenueBook` (memory here, a
 * database for a paper account that outlives the process).
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

/** Where a venue keeps its orders and its account. */
export interface VenueBook {
  /** The orders it already has among `ids`. */
  readonly find: (ids: ReadonlyArray<ClientOrderId>) => Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
  /** Keeps new orders and books their fills into the account, all or nothing. */
  readonly accept: (orders: ReadonlyArray<VenueOrder>) => Effect.Effect<void, ExecutionError>
  /** Replaces a known order (a cancel); fills are not rebooked. */
  readonly replace: (order: VenueOrder) => Effect.Effect<void, ExecutionError>
  readonly account: Effect.Effect<Account, ExecutionError>
  readonly orders: Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
}

export interface Venue {
  readonly provider: ExecutionProvider["Type"]
  /** Every order the venue has accepted, by client order id. */
  readonly orders: Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
}

const report = (order: VenueOrder): ExecutionReport => ({
  clientOrderId: order.request.clientOrderId,
  status: order.status,
  fills: order.fills,
  ...(order.rejectReason === undefined ? {} : { rejectReason: order.rejectReason })
})

/** The cash and position changes of a fill. */
export const bookFill = (
  account: { cash: Dec.Decimal; readonly positions: Map<Symbol, Dec.Decimal> },
  fill: Fill
): void => {
  const value = Dec.mul(fill.quantity, fill.price)
  account.cash = Dec.sub(fill.side === "BUY" ? Dec.sub(account.cash, value) : Dec.add(account.cash, value), fill.commission)
  const change = fill.side === "BUY" ? fill.quantity : Dec.negate(fill.quantity)
  account.positions.set(fill.symbol, Dec.add(account.positions.get(fill.symbol) ?? Dec.ZERO, change))
}

/** The order positions are listed in: by symbol, code unit by code unit (not locale-dependent). */
export const bySymbol = (a: Symbol, b: Symbol): number => (a < b ? -1 : a > b ? 1 : 0)

/** Non-zero positions in symbol order. */
export const positionList = (positions: ReadonlyMap<Symbol, Dec.Decimal>): Array<Position> =>
  [...positions]
    .filter(([, quantity]) => !Dec.isZero(quantity))
    .sort(([a], [b]) => bySymbol(a, b))
    .map(([symbol, quantity]) => ({ symbol, quantity }))

/** A book in memory: mutable maps, changed in one synchronous step each, so a large run copies nothing. */
export const memoryBook = (initial: Partial<Account> = {}): VenueBook => {
  const orders = new Map<ClientOrderId, VenueOrder>()
  const account = {
    cash: initial.cash ?? Dec.ZERO,
    positions: new Map<Symbol, Dec.Decimal>((initial.positions ?? []).map((p) => [p.symbol, p.quantity]))
  }
  return {
    find: (ids) =>
      Effect.sync(() => {
        const out = new Map<ClientOrderId, VenueOrder>()
        for (const id of ids) {
          const order = orders.get(id)
          if (order !== undefined) out.set(id, order)
        }
        return out
      }),
    accept: (accepted) =>
      Effect.sync(() => {
        for (const order of accepted) {
          orders.set(order.request.clientOrderId, order)
          for (const fill of order.fills) bookFill(account, fill)
        }
      }),
    replace: (order) => Effect.sync(() => void orders.set(order.request.clientOrderId, order)),
    account: Effect.sync(() => ({ cash: account.cash, positions: positionList(account.positions) })),
    orders: Effect.sync(() => new Map(orders))
  }
}

export const makeVenue = (options: {
  readonly name: string
  /** What happens to each of these new orders, in the same order: one call per submitted batch. */
  readonly decide: (orders: ReadonlyArray<SubmitOrder>) => Effect.Effect<ReadonlyArray<FillDecision>, ExecutionError>
  /** Where orders and the account live; in memory (starting from `account`) by default. */
  readonly book?: VenueBook
  readonly account?: Partial<Account>
}): Effect.Effect<Venue> =>
  Effect.gen(function*() {
    const book = options.book ?? memoryBook(options.account)
    const lock = yield* Effect.makeSemaphore(1)

    const toOrder = (request: SubmitOrder, decision: FillDecision, time: string): VenueOrder => {
        if (decision._tag === "Reject") return { request, status: "REJECTED", fills: [], rejectReason: decision.reason }
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
        const filled = Dec.sum(fills.map((f) => f.quantity))
        const status: ExecutionStatus = Dec.gte(filled, request.quantity)
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
        }
      }

    const provider: ExecutionProvider["Type"] = {
      name: options.name,
      submit: (requests) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const known = new Map(yield* book.find(requests.map((r) => r.clientOrderId)))
          const time = yield* nowIso
          // New orders only, each once even if it appears twice in the batch.
          const fresh = new Map<ClientOrderId, SubmitOrder>()
          for (const request of requests) {
            if (!known.has(request.clientOrderId)) fresh.set(request.clientOrderId, request)
          }
          const newOrders = [...fresh.values()]
          const decisions = newOrders.length === 0 ? [] : yield* options.decide(newOrders)
          const accepted = newOrders.map((request, i) => toOrder(request, decisions[i]!, time))
          for (const order of accepted) known.set(order.request.clientOrderId, order)
          if (accepted.length > 0) yield* book.accept(accepted)
          return requests.map((request) => report(known.get(request.clientOrderId)!))
        })),
      status: (ids) =>
        Effect.map(book.find(ids), (found) =>
          ids.flatMap((id) => {
            const order = found.get(id)
            return order === undefined ? [] : [report(order)]
          })),
      cancel: (id) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const order = (yield* book.find([id])).get(id)
          if (order === undefined) {
            return yield* new ExecutionError({ provider: options.name, operation: "cancel", reason: `unknown order ${id}` })
          }
          if (order.status !== "SUBMITTED" && order.status !== "PARTIAL") return report(order)
          const canceled: VenueOrder = { ...order, status: "CANCELED" }
          yield* book.replace(canceled)
          return report(canceled)
        })),
      account: book.account
    }
    return { provider, orders: book.orders }
  })
