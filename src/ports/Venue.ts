/**
 * The bookkeeping of a simulated venue, shared by `ExecutionProvider.makeMemory`, the paper broker
 * (adapters/mock) and its book in a database (adapters/sql/SqlPaperBook), and the order in which every
 * venue lists positions (`bySymbol`, LEAN's too):
 * orders by client order id (so submission is idempotent), fills with deterministic execution ids, and
 * an account that follows its own fills. What fills, at what price and for what commission is decided by
 * the venue's `market`, when an order arrives and again each time a working order is asked about; where
 * the orders and the account are kept is its `VenueBook` (memory here, a database for a paper account that
 * outlives the process).
 */
import { Effect } from "effect"
import * as Dec from "../domain/Decimal.js"
import type { ExecutionReport, ExecutionStatus, SubmitOrder } from "../domain/Execution.js"
import type { ClientOrderId, ExecutionId, Symbol } from "../domain/Ids.js"
import type { Account, Position } from "../domain/Market.js"
import type { Fill } from "../domain/Order.js"
import { nowIso } from "../internal/nowIso.js"
import { pickKeys } from "../internal/pickKeys.js"
import { ExecutionError } from "./errors.js"

export interface PlannedFill {
  readonly quantity: Dec.Decimal
  readonly price: Dec.Decimal
  readonly commission?: Dec.Decimal
}

/**
 * What happens to an order now: a new one rejected, or some fills and then the rest working or canceled.
 * A working order is never rejected after the fact: a `Reject` for it leaves it as it is.
 */
export type FillDecision =
  | { readonly _tag: "Reject"; readonly reason: string }
  | {
    readonly _tag: "Execute"
    readonly fills: ReadonlyArray<PlannedFill>
    /** What becomes of a quantity not filled: left working, or canceled. */
    readonly remainder: "working" | "canceled"
    readonly cancelReason?: string
    /** The market observation the fills traded against (see `VenueOrder.lastTradedOn`). */
    readonly observation?: string
  }

/** An order as the venue judges it: what was asked, and what it has done so far (nothing, when new). */
export interface OrderSoFar {
  readonly request: SubmitOrder
  /** Absent for an order arriving now. */
  readonly status?: ExecutionStatus
  readonly fills: ReadonlyArray<Fill>
  /**
   * The market observation (a quote, as the venue names it) the order last traded against. An observation
   * is traded once: an order that filled up to the participation cap of a quote gets its next fill from a
   * later quote, not from being asked again while the market stands still.
   */
  readonly lastTradedOn?: string
}

/** How each order of a batch trades against the market the venue looked at once for the batch. */
export type Judge = (order: OrderSoFar) => FillDecision

export interface VenueOrder extends OrderSoFar {
  readonly status: ExecutionStatus
  readonly rejectReason?: string
}

export const isWorking = (order: { readonly status: ExecutionStatus }): boolean =>
  order.status === "SUBMITTED" || order.status === "PARTIAL"

/**
 * Where a venue keeps its orders and its account. Every change goes through `update`, which makes it one
 * atomic step of the book: two changes of the same orders (two processes asking `status()` at once, a
 * cancel racing a fill) never both apply to the same state.
 */
export interface VenueBook {
  /** The orders it already has among `ids`, as they are now (read without waiting for a change). */
  readonly find: (ids: ReadonlyArray<ClientOrderId>) => Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
  /**
   * One change of the book, all or nothing: reads the orders among `ids` as they are once no other
   * change of the book is under way, lets `change` say which orders are new or changed, keeps those and
   * books the fills they gained into the account. Answers the orders among `ids` as they are afterwards.
   */
  readonly update: (
    operation: string,
    ids: ReadonlyArray<ClientOrderId>,
    change: (current: ReadonlyMap<ClientOrderId, VenueOrder>) => ReadonlyArray<VenueOrder>
  ) => Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
  /** Cash and positions as of one moment (never half of a change). */
  readonly account: Effect.Effect<Account, ExecutionError>
  readonly orders: Effect.Effect<ReadonlyMap<ClientOrderId, VenueOrder>, ExecutionError>
}

/**
 * A simulated venue: the `ExecutionProvider` service it serves, whose only failure is the venue's own
 * refusal (it never times out), and the orders it holds.
 */
export interface Venue {
  readonly provider: {
    readonly name: string
    readonly submit: (orders: ReadonlyArray<SubmitOrder>) => Effect.Effect<ReadonlyArray<ExecutionReport>, ExecutionError>
    readonly status: (ids: ReadonlyArray<ClientOrderId>) => Effect.Effect<ReadonlyArray<ExecutionReport>, ExecutionError>
    readonly cancel: (id: ClientOrderId) => Effect.Effect<ExecutionReport, ExecutionError>
    readonly account: Effect.Effect<Account, ExecutionError>
  }
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

/** The fills `after` gained over `before` (all of them for a new order): what a change books into the account. */
export const gainedFills = (before: VenueOrder | undefined, after: VenueOrder): ReadonlyArray<Fill> =>
  before === undefined ? after.fills : after.fills.slice(before.fills.length)

/** A book in memory: mutable maps, changed in one synchronous step each, so a large run copies nothing. */
export const memoryBook = (initial: Partial<Account> = {}): VenueBook => {
  const orders = new Map<ClientOrderId, VenueOrder>()
  const account = {
    cash: initial.cash ?? Dec.ZERO,
    positions: new Map<Symbol, Dec.Decimal>((initial.positions ?? []).map((p) => [p.symbol, p.quantity]))
  }
  const pick = (ids: ReadonlyArray<ClientOrderId>) => pickKeys(orders, ids)
  return {
    find: (ids) => Effect.sync(() => pick(ids)),
    update: (_operation, ids, change) =>
      Effect.sync(() => {
        const current = pick(ids)
        for (const order of change(current)) {
          const id = order.request.clientOrderId
          for (const fill of gainedFills(orders.get(id), order)) bookFill(account, fill)
          orders.set(id, order)
        }
        return pick(ids)
      }),
    account: Effect.sync(() => ({ cash: account.cash, positions: positionList(account.positions) })),
    orders: Effect.sync(() => new Map(orders))
  }
}

/**
 * An order after the venue's decision: new fills numbered on from the order's own (`<id>-F1`, `-F2`, ...,
 * so the same history gives the same ids), its status from what has filled and what becomes of the rest.
 * Answers the order itself when nothing changes.
 */
export const advance = (order: VenueOrder, decision: FillDecision, time: string): VenueOrder => {
  if (decision._tag === "Reject") return order
  const { request } = order
  const start = order.fills.length
  const gained = decision.fills
    .filter((f) => Dec.isPositive(f.quantity))
    .map((f, i): Fill => ({
      executionId: `${request.clientOrderId}-F${start + i + 1}` as ExecutionId,
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: request.side,
      quantity: f.quantity,
      price: f.price,
      commission: f.commission ?? Dec.ZERO,
      time
    }))
  if (gained.length === 0 && decision.remainder === "working") return order
  const fills = [...order.fills, ...gained]
  const filled = Dec.sum(fills.map((f) => f.quantity))
  const status: ExecutionStatus = Dec.gte(filled, request.quantity)
    ? "FILLED"
    : decision.remainder === "canceled"
    ? "CANCELED"
    : fills.length > 0
    ? "PARTIAL"
    : "SUBMITTED"
  const lastTradedOn = gained.length > 0 ? decision.observation : order.lastTradedOn
  return {
    request,
    status,
    fills,
    ...(status === "CANCELED" && decision.cancelReason !== undefined ? { rejectReason: decision.cancelReason } : {}),
    ...(lastTradedOn === undefined ? {} : { lastTradedOn })
  }
}

export const makeVenue = (options: {
  readonly name: string
  /**
   * Looks at the market once for a batch of orders (new ones at `submit`, working ones at `status`) and
   * answers how each trades against what it saw. It runs before the book's change, so a slow market
   * never holds the book.
   */
  readonly market: (orders: ReadonlyArray<SubmitOrder>, operation: "submit" | "status") => Effect.Effect<Judge, ExecutionError>
  /** Where orders and the account live; in memory (starting from `account`) by default. */
  readonly book?: VenueBook
  readonly account?: Partial<Account>
}): Effect.Effect<Venue> =>
  Effect.gen(function*() {
    const book = options.book ?? memoryBook(options.account)
    // One change at a time within the process; the book serializes changes across processes.
    const lock = yield* Effect.makeSemaphore(1)

    const fresh = (request: SubmitOrder, judge: Judge, time: string): VenueOrder => {
      const decision = judge({ request, fills: [] })
      return decision._tag === "Reject"
        ? { request, status: "REJECTED", fills: [], rejectReason: decision.reason }
        : advance({ request, status: "SUBMITTED", fills: [] }, decision, time)
    }

    const reports = (ids: ReadonlyArray<ClientOrderId>, found: ReadonlyMap<ClientOrderId, VenueOrder>) =>
      ids.flatMap((id) => {
        const order = found.get(id)
        return order === undefined ? [] : [report(order)]
      })

    const provider: Venue["provider"] = {
      name: options.name,
      submit: (requests) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const ids = requests.map((r) => r.clientOrderId)
          const known = yield* book.find(ids)
          // New orders only, each once even if it appears twice in the batch.
          const unknown = new Map<ClientOrderId, SubmitOrder>()
          for (const request of requests) {
            if (!known.has(request.clientOrderId)) unknown.set(request.clientOrderId, request)
          }
          if (unknown.size === 0) return reports(ids, known)
          const judge = yield* options.market([...unknown.values()], "submit")
          const time = yield* nowIso
          const after = yield* book.update("submit", [...unknown.keys()], (current) =>
            // An order another process handed over meanwhile is answered as that process left it.
            [...unknown.values()].filter((r) => !current.has(r.clientOrderId)).map((r) => fresh(r, judge, time)))
          return reports(ids, new Map([...known, ...after]))
        })),
      // Asking is when a working order meets the market again: each one is judged against the quotes of
      // now, and what fills is booked before it is answered.
      status: (ids) =>
        Effect.gen(function*() {
          const found = yield* book.find(ids)
          const working = [...found.values()].filter(isWorking)
          if (working.length === 0) return reports(ids, found)
          return yield* lock.withPermits(1)(Effect.gen(function*() {
            const judge = yield* options.market(working.map((o) => o.request), "status")
            const time = yield* nowIso
            // Only orders the market moves are changed, so asking about orders that still rest takes no
            // lock: the book's change judges them again as they are then.
            const moved = working.filter((order) => advance(order, judge(order), time) !== order)
            if (moved.length === 0) return reports(ids, found)
            const after = yield* book.update("status", moved.map((o) => o.request.clientOrderId), (current) =>
              [...current.values()].flatMap((order) => {
                if (!isWorking(order)) return []
                const next = advance(order, judge(order), time)
                return next === order ? [] : [next]
              }))
            return reports(ids, new Map([...found, ...after]))
          }))
        }),
      // A cancel ends what works as the book holds it, fills kept; a reason the venue itself gave an order
      // it had already ended is kept in the report.
      cancel: (id) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const after = yield* book.update("cancel", [id], (current) => {
            const order = current.get(id)
            return order === undefined || !isWorking(order) ? [] : [{ ...order, status: "CANCELED" }]
          })
          const order = after.get(id)
          if (order === undefined) {
            return yield* new ExecutionError({ provider: options.name, operation: "cancel", reason: `unknown order ${id}` })
          }
          return report(order)
        })),
      account: book.account
    }
    return { provider, orders: book.orders }
  })
