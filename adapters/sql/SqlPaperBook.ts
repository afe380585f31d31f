/**
 * The paper broker's book in the database: orders it received and the account its fills left, so a
 * paper account survives the process (consecutive CLI runs rebalance from what earlier runs bought) and a
 * resumed run finds the orders a crashed process already handed over, as it would at a real broker.
 * Each accepted batch is one transaction: the orders and the account change together.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Schema } from "effect"
import * as Mock from "../mock/MockExecutionProvider.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, Symbol } from "../../src/domain/Ids.js"
import type { Account } from "../../src/domain/Market.js"
import { Fill } from "../../src/domain/Order.js"
import { nowIso } from "../../src/ports/AuditLog.js"
import { ExecutionError } from "../../src/ports/errors.js"
import { ExecutionProvider, ExecutionStatus, type SubmitOrder } from "../../src/ports/ExecutionProvider.js"
import { bookFill, positionList, type VenueBook, type VenueOrder } from "../../src/ports/internal/venue.js"
import type { PriceFeed } from "../../src/ports/PriceFeed.js"
import { Decimal, optional } from "../../src/domain/schema.js"
import { ClientOrderId as ClientOrderIdSchema, RunId, Symbol as SymbolSchema } from "../../src/domain/Ids.js"
import { OrderSide, OrderType } from "../../src/domain/Order.js"
import { canonicalJson } from "../../src/Digest.js"
import { chunks, transactionOf } from "./support.js"

const Request = Schema.Struct({
  runId: RunId,
  clientOrderId: ClientOrderIdSchema,
  symbol: SymbolSchema,
  side: OrderSide,
  quantity: Decimal,
  orderType: OrderType,
  limitPrice: optional(Decimal),
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
  readonly received_at: string
}

const failure = (operation: string) => (error: SqlError | { readonly message: string }) =>
  new ExecutionError({ provider: "paper", operation, reason: `paper book: ${error.message}` })

const decodeOrder = (row: OrderRow): VenueOrder => ({
  request: Schema.decodeUnknownSync(Schema.parseJson(Request))(row.request) as SubmitOrder,
  status: Schema.decodeUnknownSync(ExecutionStatus)(row.status),
  fills: Schema.decodeUnknownSync(Schema.parseJson(Fills))(row.fills),
  ...(row.reject_reason === null ? {} : { rejectReason: row.reject_reason })
})

export const make = (initial: Partial<Account> = {}): Effect.Effect<VenueBook, ExecutionError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const transaction = transactionOf(sql)

    // The account is seeded once, when the book is first used; later starts find it as its fills left it.
    // (Looked up first, so a read-only database with an account opens without writing.)
    const [seeded] = yield* sql`SELECT id FROM paper_account WHERE id = 1`.pipe(Effect.mapError(failure("open")))
    if (seeded === undefined) yield* transaction(Effect.gen(function*() {
      const created = yield* sql`INSERT INTO paper_account (id, cash) VALUES (1, ${Dec.toString(initial.cash ?? Dec.ZERO)})
        ON CONFLICT (id) DO NOTHING RETURNING id`
      if (created.length === 0) return
      for (const batch of chunks(initial.positions ?? [])) {
        yield* sql`INSERT INTO paper_positions ${sql.insert(batch.map((p) => ({ symbol: p.symbol, quantity: Dec.toString(p.quantity) })))}`
      }
    })).pipe(Effect.mapError(failure("open")))

    const rowOf = (order: VenueOrder, receivedAt: string): OrderRow => ({
      client_order_id: order.request.clientOrderId,
      run_id: order.request.runId,
      symbol: order.request.symbol,
      status: order.status,
      request: canonicalJson(Schema.encodeSync(Request)(order.request)),
      fills: canonicalJson(Schema.encodeSync(Fills)(order.fills)),
      reject_reason: order.rejectReason ?? null,
      received_at: receivedAt
    })

    const find = (ids: ReadonlyArray<ClientOrderId>) =>
      Effect.gen(function*() {
        const out = new Map<ClientOrderId, VenueOrder>()
        for (const batch of chunks(ids)) {
          const rows = yield* sql<OrderRow>`SELECT * FROM paper_orders WHERE ${sql.in("client_order_id", batch)}`
          for (const row of rows) out.set(row.client_order_id as ClientOrderId, decodeOrder(row))
        }
        return out as ReadonlyMap<ClientOrderId, VenueOrder>
      }).pipe(Effect.mapError(failure("status")))

    const readAccount = (symbols?: ReadonlyArray<Symbol>) =>
      Effect.gen(function*() {
        const [cash] = yield* sql<{ cash: string }>`SELECT cash FROM paper_account WHERE id = 1`
        const rows = symbols === undefined
          ? yield* sql<{ symbol: string; quantity: string }>`SELECT symbol, quantity FROM paper_positions`
          : (yield* Effect.forEach(chunks(symbols), (batch) =>
            sql<{ symbol: string; quantity: string }>`SELECT symbol, quantity FROM paper_positions WHERE ${sql.in("symbol", batch)}`)).flat()
        return {
          cash: Dec.unsafe(String(cash?.cash ?? "0")),
          positions: new Map(rows.map((r) => [r.symbol as Symbol, Dec.unsafe(String(r.quantity))]))
        }
      })

    return {
      find,
      accept: (orders) =>
        transaction(Effect.gen(function*() {
          const receivedAt = yield* nowIso
          for (const batch of chunks(orders)) {
            yield* sql`INSERT INTO paper_orders ${sql.insert(batch.map((o) => rowOf(o, receivedAt)))}`
          }
          const fills = orders.flatMap((o) => o.fills)
          if (fills.length === 0) return
          const account = yield* readAccount([...new Set(fills.map((f) => f.symbol))])
          for (const fill of fills) bookFill(account, fill)
          yield* sql`UPDATE paper_account SET cash = ${Dec.toString(account.cash)} WHERE id = 1`
          for (const batch of chunks([...account.positions])) {
            yield* sql`INSERT INTO paper_positions ${
              sql.insert(batch.map(([symbol, quantity]) => ({ symbol, quantity: Dec.toString(quantity) })))
            } ON CONFLICT (symbol) DO UPDATE SET quantity = excluded.quantity`
          }
        })).pipe(Effect.mapError(failure("submit"))),
      replace: (order) =>
        sql`UPDATE paper_orders SET status = ${order.status}, reject_reason = ${order.rejectReason ?? null}
          WHERE client_order_id = ${order.request.clientOrderId}`.pipe(Effect.asVoid, Effect.mapError(failure("cancel"))),
      account: Effect.map(readAccount(), (a) => ({ cash: a.cash, positions: positionList(a.positions) })).pipe(
        Effect.mapError(failure("account"))
      ),
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
export const layer = (config: Mock.MockConfig = {}): Layer.Layer<ExecutionProvider, ExecutionError, SqlClient.SqlClient | PriceFeed> =>
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
