/**
 * The floor: the rows a full run leaves — snapshot and items, the run, its orders, their fills, two
 * status updates per order, and the audit events — written straight through better-sqlite3 prepared
 * statements in one transaction, into the same (migrated) schema. No Effect, no validation, no hashing:
 * the least this machine needs to put those rows on disk.
 */
import Database from "better-sqlite3"
import { Effect, ManagedRuntime } from "effect"
import { createRequire } from "node:module"
import { PgLive, SqliteLive } from "../adapters/sql/layers.js"
import * as Dec from "../src/domain/Decimal.js"
import type { Universe } from "./universe.js"

export const floor = async (file: string, data: Universe, orders: number): Promise<number> => {
  const schema = ManagedRuntime.make(SqliteLive({ filename: file }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const db = new Database(file)
  // The same settings as SqliteLive's: WAL, synchronous NORMAL.
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  const now = "2026-11-25T21:00:00.000Z"
  const hash = "f".repeat(64)
  const statements = {
    snapshot: db.prepare("INSERT INTO decision_snapshots (id, status, digest, frozen_at, source, created_at) VALUES (?, 'success', ?, ?, NULL, ?)"),
    item: db.prepare("INSERT INTO snapshot_items (snapshot_id, position, symbol, weight, score, rank, sector, price) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)"),
    run: db.prepare("INSERT INTO trade_runs (id, snapshot_id, status, mode, attempts, created_at, updated_at) VALUES (?, ?, 'queued', 'paper', 0, ?, ?)"),
    documents: db.prepare("INSERT INTO trade_run_documents (run_id, params) VALUES (?, '{}')"),
    runUpdate: db.prepare("UPDATE trade_runs SET status = ?, updated_at = ? WHERE id = ?"),
    order: db.prepare(`INSERT INTO trade_orders (run_id, client_order_id, position, symbol, side, quantity, order_type, limit_price,
      reference_price, current_quantity, target_quantity, target_weight, sector, status, filled_quantity, avg_fill_price, commission,
      reject_reason, created_at, updated_at) VALUES (?, ?, ?, ?, 'BUY', ?, 'MKT', NULL, ?, '0', ?, ?, ?, 'NEW', '0', NULL, '0', NULL, ?, ?)`),
    orderUpdate: db.prepare("UPDATE trade_orders SET status = ?, filled_quantity = ?, avg_fill_price = ?, updated_at = ? WHERE run_id = ? AND client_order_id = ?"),
    fill: db.prepare("INSERT INTO trade_fills (execution_id, run_id, client_order_id, symbol, side, quantity, price, commission, time, recorded_at) VALUES (?, ?, ?, ?, 'BUY', ?, ?, '0', ?, ?)"),
    event: db.prepare("INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
  }
  const start = performance.now()
  db.transaction(() => {
    statements.snapshot.run("snap_floor", hash, now, now)
    data.items.forEach((item, i) =>
      statements.item.run("snap_floor", i, item.symbol, Dec.toString(item.weight), item.score === undefined ? null : Dec.toString(item.score), item.rank ?? null, item.sector ?? null))
    statements.run.run("run_floor", "snap_floor", now, now)
    statements.documents.run("run_floor")
    let seq = 0
    const event = (type: string, payload: string) => statements.event.run(++seq, now, type, "run_floor", payload, hash, hash)
    event("trade_run.transition", '{"from":"queued","to":"running"}')
    statements.runUpdate.run("running", now, "run_floor")
    const picked = data.items.slice(0, orders)
    picked.forEach((item, i) => {
      const quote = data.quotes[i]!
      statements.order.run("run_floor", `${item.symbol}-B-floor`, i, item.symbol, "100", Dec.toString(quote.price), "100", Dec.toString(item.weight), item.sector ?? null, now, now)
    })
    event("trade_run.orders_built", `{"orders":${orders}}`)
    event("trade_run.risk", '{"passed":true}')
    for (const [to, filled] of [["SUBMITTED", "0"], ["FILLED", "100"]] as const) {
      picked.forEach((item, i) => {
        const id = `${item.symbol}-B-floor`
        if (to === "FILLED") statements.fill.run(`${id}-F1`, "run_floor", id, item.symbol, "100", Dec.toString(data.quotes[i]!.price), now, now)
        statements.orderUpdate.run(to, filled, to === "FILLED" ? Dec.toString(data.quotes[i]!.price) : null, now, "run_floor", id)
        event("trade_order.transition", `{"clientOrderId":"${id}","symbol":"${item.symbol}","from":"${to === "FILLED" ? "SUBMITTED" : "NEW"}","to":"${to}"}`)
      })
    }
    statements.runUpdate.run("done", now, "run_floor")
    event("trade_run.transition", '{"from":"running","to":"done"}')
    event("trade_run.execute", '{"dryRun":false}')
  })()
  const ms = performance.now() - start
  db.close()
  return ms
}

/** What the floor needs of `pg`'s client (pg ships no types and the project has no `@types/pg`). */
interface PgConnection {
  connect(): Promise<void>
  query(text: string, values?: ReadonlyArray<unknown>): Promise<unknown>
  end(): Promise<void>
}

/**
 * The same rows as `floor`, written through `pg` in one transaction into a migrated schema (`url`'s
 * search_path): one multi-row statement a table and a step, each row set passed as arrays through `unnest`,
 * as the PostgreSQL repository itself writes them.
 */
export const floorPg = async (url: string, data: Universe, orders: number): Promise<number> => {
  const schema = ManagedRuntime.make(PgLive({ url }))
  await schema.runPromise(Effect.void)
  await schema.dispose()

  const pg = createRequire(import.meta.url)("pg") as { Client: new (config: { connectionString: string }) => PgConnection }
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const now = "2026-11-25T21:00:00.000Z"
  const hash = "f".repeat(64)
  const picked = data.items.slice(0, orders)
  const ids = picked.map((item) => `${item.symbol}-B-floor`)
  const prices = picked.map((_, i) => Dec.toString(data.quotes[i]!.price))
  const events: Array<[string, string]> = []
  const event = (type: string, payload: string) => events.push([type, payload])

  const start = performance.now()
  await db.query("BEGIN")
  await db.query("INSERT INTO decision_snapshots (id, status, digest, frozen_at, source, created_at) VALUES ('snap_floor', 'success', $1, $2, NULL, $2)", [hash, now])
  await db.query(
    `INSERT INTO snapshot_items (snapshot_id, position, symbol, weight, score, rank, sector, price)
     SELECT 'snap_floor', * , NULL FROM unnest($1::int[], $2::text[], $3::numeric[], $4::numeric[], $5::int[], $6::text[])`,
    [
      data.items.map((_, i) => i),
      data.items.map((item) => item.symbol),
      data.items.map((item) => Dec.toString(item.weight)),
      data.items.map((item) => (item.score === undefined ? null : Dec.toString(item.score))),
      data.items.map((item) => item.rank ?? null),
      data.items.map((item) => item.sector ?? null)
    ]
  )
  await db.query("INSERT INTO trade_runs (id, snapshot_id, status, mode, attempts, created_at, updated_at) VALUES ('run_floor', 'snap_floor', 'queued', 'paper', 0, $1, $1)", [now])
  await db.query("INSERT INTO trade_run_documents (run_id, params) VALUES ('run_floor', '{}')")
  event("trade_run.transition", '{"from":"queued","to":"running"}')
  await db.query("UPDATE trade_runs SET status = 'running', updated_at = $1 WHERE id = 'run_floor'", [now])
  await db.query(
    `INSERT INTO trade_orders (run_id, client_order_id, position, symbol, side, quantity, order_type, limit_price, reference_price,
       current_quantity, target_quantity, target_weight, sector, status, filled_quantity, avg_fill_price, commission, reject_reason,
       created_at, updated_at)
     SELECT 'run_floor', v.id, v.position, v.symbol, 'BUY', 100, 'MKT', NULL, v.price, 0, 100, v.weight, v.sector, 'NEW', 0, NULL, 0,
       NULL, $6, $6
     FROM unnest($1::text[], $2::int[], $3::text[], $4::numeric[], $5::numeric[], $7::text[]) AS v(id, position, symbol, price, weight, sector)`,
    [ids, picked.map((_, i) => i), picked.map((item) => item.symbol), prices, picked.map((item) => Dec.toString(item.weight)), now, picked.map((item) => item.sector ?? null)]
  )
  event("trade_run.orders_built", `{"orders":${orders}}`)
  event("trade_run.risk", '{"passed":true}')
  for (const [to, filled] of [["SUBMITTED", "0"], ["FILLED", "100"]] as const) {
    if (to === "FILLED") {
      await db.query(
        `INSERT INTO trade_fills (execution_id, run_id, client_order_id, symbol, side, quantity, price, commission, time, recorded_at)
         SELECT v.id || '-F1', 'run_floor', v.id, v.symbol, 'BUY', 100, v.price, 0, $4, $4 FROM unnest($1::text[], $2::text[], $3::numeric[]) AS v(id, symbol, price)`,
        [ids, picked.map((item) => item.symbol), prices, now]
      )
    }
    await db.query(
      `UPDATE trade_orders o SET status = $2, filled_quantity = $3, avg_fill_price = v.price, updated_at = $4
       FROM unnest($1::text[], $5::numeric[]) AS v(id, price) WHERE o.run_id = 'run_floor' AND o.client_order_id = v.id`,
      [ids, to, filled, now, to === "FILLED" ? prices : ids.map(() => null)]
    )
    ids.forEach((id, i) =>
      event("trade_order.transition", `{"clientOrderId":"${id}","symbol":"${picked[i]!.symbol}","from":"${to === "FILLED" ? "SUBMITTED" : "NEW"}","to":"${to}"}`)
    )
  }
  await db.query("UPDATE trade_runs SET status = 'done', updated_at = $1 WHERE id = 'run_floor'", [now])
  event("trade_run.transition", '{"from":"running","to":"done"}')
  event("trade_run.execute", '{"dryRun":false}')
  await db.query(
    `INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash)
     SELECT v.seq, $3, v.type, 'run_floor', v.payload, $4, $4 FROM unnest($1::int[], $2::text[], $5::text[]) AS v(seq, type, payload)`,
    [events.map((_, i) => i + 1), events.map(([type]) => type), now, hash, events.map(([, payload]) => payload)]
  )
  await db.query("COMMIT")
  const ms = performance.now() - start
  await db.end()
  return ms
}
