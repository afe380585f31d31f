/**
 * The paper broker's book in the database: orders it received and the account its fills left, so a
 * paper account survives the process (consecutive CLI runs rebalance from what earlier runs bought), a
 * resumed run finds the orders a crashed process already handed over, as it would at a real broker, and
 * another process sees the orders that rest.
 *
 * Every change of the book (orders received, fills booked, a cancel) is one transaction that first takes
 * the account row (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` takes the whole file), then
 * reads the orders and the positions it changes. So changes of the book happen one after another, each on
 * what the one before left: no update is lost and no order fills twice, however many processes share the
 * database. (Amounts are exact decimals, TEXT in SQLite: a relative `SET cash = cash - x` there would be
 * binary floating point.)
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Schema } from "effect"
import * as Mock from "../mock/MockExecutionProvider.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { InvalidInput } from "../../src/domain/errors.js"
import { ExecutionStatus, type SubmitOrder } from "../../src/domain/Execution.js"
import type { ClientOrderId, Symbol } from "../../src/domain/Ids.js"
import type { Account } from "../../src/domain/Market.js"
import { Fill } from "../../src/domain/Order.js"
import { nowIso } from "../../src/internal/nowIso.js"
import { ExecutionError } from "../../src/ports/errors.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { bookFill, gainedFills, positionList, type VenueBook, type VenueOrder } from "../../src/ports/Venue.js"
import type { PriceFeed } from "../../src/ports/PriceFeed.js"
import { Decimal, optional } from "../../src/domain/schema.js"
import { ClientOrderId as ClientOrderIdSchema, RunId, Symbol as SymbolSchema } from "../../src/domain/Ids.js"
import { OrderSide, OrderType, TimeInForce } from "../../src/domain/Order.js"
import { chunks, isPostgres, transactionOf } from "./support.js"

const Request = Schema.Struct({
  runId: RunId,
  clientOrderId: ClientOrderIdSchema,
  symbol: SymbolSchema,
  side: OrderSide,
  quantity: Decimal,
  orderType: OrderType,
  limitPrice: optional(Decimal),
  timeInForce: optional(TimeInForce),
  referencePrice: Decimal,
  snapshotPrice: optional(Decimal)
})
const Fills = Schema.Array(Fill)

type OrderRow = {
  readonly client_order_id: string
  readonly run_id: string
  readonly symbol: string
  readonly status: string
  readonly request: string
  readonly fills: string
  readonly reject_reason: string | null
  readonly last_traded_on: string | null
  readonly received_at: string
}

const failure = (operation: string) => (error: SqlError | { readonly message: string }) =>
  new ExecutionError({ provider: "paper", operation, reason: `paper book: ${error.message}` })

// Made once: `Schema.parseJson(schema)` is a new schema each time, compiled anew for every row.
const decodeRequest = Schema.decodeUnknownSync(Schema.parseJson(Request))
const decodeStatus = Schema.decodeUnknownSync(ExecutionStatus)
const decodeFills = Schema.decodeUnknownSync(Schema.parseJson(Fills))

// What `Schema.encodeSync(Request)` and `(Fills)` give, made straight from the members the schemas name
// (decimals as canonical text, absent members left out) and written by `JSON.stringify`: encoding every
// order's request and fills through the schemas took 5% of a 5,000-name `trade-exec run`, and the canonical
// writer after it (which the book does not need: it reads its rows back through the schemas) 3%, most of it
// running before V8 had optimized it. Every member is text or a decimal.
const membersOf = (names: ReadonlyArray<string>) => (value: object): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name of names) {
    const member = (value as Record<string, unknown>)[name]
    if (member !== undefined) out[name] = Dec.isDecimal(member) ? Dec.toString(member) : member
  }
  return out
}
const requestMembers = membersOf(Object.keys(Request.fields))
const fillMembers = membersOf(Object.keys(Fill.fields))
const requestJson = (request: SubmitOrder): string => JSON.stringify(requestMembers(request))
const fillsJson = (fills: ReadonlyArray<Fill>): string => JSON.stringify(fills.map(fillMembers))

const decodeOrder = (row: OrderRow): VenueOrder => ({
  request: decodeRequest(row.request) as SubmitOrder,
  status: decodeStatus(row.status),
  fills: decodeFills(row.fills),
  ...(row.reject_reason === null ? {} : { rejectReason: row.reject_reason }),
  ...(row.last_traded_on === null ? {} : { lastTradedOn: row.last_traded_on })
})

/** The paper account as it stands: whether it was opened just now (from `initial`), and what it holds. */
export interface OpenedAccount {
  readonly opened: boolean
  readonly account: Account
}

/** Seeds the account from `initial` when the database has none (once, whoever comes first): true if it did. */
const seed = (sql: SqlClient.SqlClient, initial: Partial<Account>) =>
  Effect.gen(function*() {
    // Looked up first, so a read-only database with an account opens without writing.
    const [seeded] = yield* sql`SELECT id FROM paper_account WHERE id = 1`
    if (seeded !== undefined) return false
    return yield* transactionOf(sql)(Effect.gen(function*() {
      const created = yield* sql`INSERT INTO paper_account (id, cash) VALUES (1, ${Dec.toString(initial.cash ?? Dec.ZERO)})
        ON CONFLICT (id) DO NOTHING RETURNING id`
      if (created.length === 0) return false
      for (const batch of chunks((initial.positions ?? []).filter((p) => !Dec.isZero(p.quantity)))) {
        yield* sql`INSERT INTO paper_positions ${sql.insert(batch.map((p) => ({ symbol: p.symbol, quantity: Dec.toString(p.quantity) })))}`
      }
      return true
    }))
  })

/**
 * Opens the paper account: seeds it from `initial` when the database has none, and answers it as it then
 * stands, with whether it was opened just now.
 */
export const open = (initial: Partial<Account> = {}): Effect.Effect<OpenedAccount, ExecutionError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const opened = yield* seed(sql, initial)
    return { opened, account: yield* readAccountOnce(sql) }
  }).pipe(Effect.mapError(failure("open")))

/** A stored amount, of whatever length the book's own arithmetic wrote (PostgreSQL's NUMERIC may come as a number). */
const stored = (value: string | number): Dec.Decimal => Dec.fromStored(String(value)) ?? Dec.unsafe(String(value))

const readCashAndPositions = (sql: SqlClient.SqlClient, symbols?: ReadonlyArray<Symbol>) =>
  Effect.gen(function*() {
    const [cash] = yield* sql<{ cash: string }>`SELECT cash FROM paper_account WHERE id = 1`
    const rows = symbols === undefined
      ? yield* sql<{ symbol: string; quantity: string }>`SELECT symbol, quantity FROM paper_positions`
      : (yield* Effect.forEach(chunks(symbols), (batch) =>
        sql<{ symbol: string; quantity: string }>`SELECT symbol, quantity FROM paper_positions WHERE ${sql.in("symbol", batch)}`)).flat()
    return {
      cash: stored(cash?.cash ?? "0"),
      positions: new Map(rows.map((r) => [r.symbol as Symbol, stored(r.quantity)]))
    }
  })

/**
 * Cash and positions as of one moment: a read-only transaction, which on PostgreSQL reads one snapshot
 * (REPEATABLE READ) and in SQLite sees no writer's half (a deferred transaction in WAL mode).
 */
const readAccountOnce = (sql: SqlClient.SqlClient) =>
  sql.withTransaction(Effect.gen(function*() {
    if (isPostgres(sql)) yield* sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`
    const account = yield* readCashAndPositions(sql)
    return { cash: account.cash, positions: positionList(account.positions) } satisfies Account
  }))

export const make = (initial: Partial<Account> = {}): Effect.Effect<VenueBook, ExecutionError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const transaction = transactionOf(sql)
    yield* seed(sql, initial).pipe(Effect.mapError(failure("open")))

    const rowOf = (order: VenueOrder, receivedAt: string): OrderRow => ({
      client_order_id: order.request.clientOrderId,
      run_id: order.request.runId,
      symbol: order.request.symbol,
      status: order.status,
      request: requestJson(order.request),
      fills: fillsJson(order.fills),
      reject_reason: order.rejectReason ?? null,
      last_traded_on: order.lastTradedOn ?? null,
      received_at: receivedAt
    })

    const findRows = (ids: ReadonlyArray<ClientOrderId>) =>
      Effect.gen(function*() {
        const out = new Map<ClientOrderId, VenueOrder>()
        for (const batch of chunks(ids)) {
          const rows = yield* sql<OrderRow>`SELECT * FROM paper_orders WHERE ${sql.in("client_order_id", batch)}`
          for (const row of rows) out.set(row.client_order_id as ClientOrderId, decodeOrder(row))
        }
        return out
      })

    // The account row is the book's lock: every change takes it first, and holds it to its commit.
    const takeBook = Effect.gen(function*() {
      const rows = yield* (isPostgres(sql)
        ? sql`SELECT id FROM paper_account WHERE id = 1 FOR UPDATE`
        : sql`SELECT id FROM paper_account WHERE id = 1`)
      if (rows.length === 0) return yield* Effect.fail({ message: "the paper account is missing" })
    })

    const update: VenueBook["update"] = (operation, ids, change) =>
      transaction(Effect.gen(function*() {
        yield* takeBook
        const current = yield* findRows(ids)
        const changed = change(current)
        if (changed.length === 0) return current as ReadonlyMap<ClientOrderId, VenueOrder>
        const receivedAt = yield* nowIso
        const added = changed.filter((o) => !current.has(o.request.clientOrderId))
        for (const batch of chunks(added)) {
          yield* sql`INSERT INTO paper_orders ${sql.insert(batch.map((o) => rowOf(o, receivedAt)))}`
        }
        for (const order of changed) {
          if (!current.has(order.request.clientOrderId)) continue
          const row = rowOf(order, receivedAt)
          yield* sql`UPDATE paper_orders SET status = ${row.status}, fills = ${row.fills}, reject_reason = ${row.reject_reason},
            last_traded_on = ${row.last_traded_on} WHERE client_order_id = ${row.client_order_id}`
        }
        const fills = changed.flatMap((o) => gainedFills(current.get(o.request.clientOrderId), o))
        if (fills.length > 0) {
          const account = yield* readCashAndPositions(sql, [...new Set(fills.map((f) => f.symbol))])
          for (const fill of fills) bookFill(account, fill)
          yield* sql`UPDATE paper_account SET cash = ${Dec.toString(account.cash)} WHERE id = 1`
          for (const batch of chunks([...account.positions])) {
            yield* sql`INSERT INTO paper_positions ${
              sql.insert(batch.map(([symbol, quantity]) => ({ symbol, quantity: Dec.toString(quantity) })))
            } ON CONFLICT (symbol) DO UPDATE SET quantity = excluded.quantity`
          }
        }
        const after = new Map(current)
        for (const order of changed) after.set(order.request.clientOrderId, order)
        return after as ReadonlyMap<ClientOrderId, VenueOrder>
      })).pipe(Effect.mapError(failure(operation)))

    return {
      find: (ids) => findRows(ids).pipe(Effect.mapError(failure("status"))),
      update,
      account: readAccountOnce(sql).pipe(Effect.mapError(failure("account"))),
      orders: Effect.map(
        sql<OrderRow>`SELECT * FROM paper_orders ORDER BY received_at, client_order_id`,
        (rows) => new Map(rows.map((r) => [r.client_order_id as ClientOrderId, decodeOrder(r)] as const))
      ).pipe(Effect.mapError(failure("orders")))
    } satisfies VenueBook
  })

/**
 * The paper broker with its book in the database. `config.cash` and `config.positions` seed the account
 * the first time only.
 */
export const layer = (
  config: Mock.MockConfig = {}
): Layer.Layer<ExecutionProvider, ExecutionError | InvalidInput, SqlClient.SqlClient | PriceFeed> =>
  Layer.effect(
    ExecutionProvider,
    Effect.gen(function*() {
      const book = yield* make({
        ...(config.cash === undefined ? {} : { cash: Dec.unsafe(config.cash) }),
        ...(config.positions === undefined ? {} : { positions: config.positions })
      })
      return (yield* Mock.make(config, book)).provider
    })
  )
