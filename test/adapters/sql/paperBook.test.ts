/**
 * The paper broker with its book in the database (SqlPaperBook), on a SQLite file and on PostgreSQL: the
 * provider contract and the working-order contract, and the book shared by processes: several processes
 * asking `status()` about the same resting orders at the same moment fill each order once, several
 * submitting at the same moment lose no fill, and the account books each fill once.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseLive } from "../../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { SubmitOrder } from "../../../src/domain/Execution.js"
import type { ClientOrderId, ExecutionId, RunId, Symbol } from "../../../src/domain/Ids.js"
import type { Fill } from "../../../src/domain/Order.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import type { VenueOrder } from "../../../src/ports/Venue.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"
import { providerContract, workingOrderContract } from "../../contract/provider.contract.js"
import { paperUnderTest } from "../../support/paperVenue.js"
import { describePg, freshSchema, pgAvailable } from "../../support/postgres.js"
import { spawnPaperBroker } from "../../support/processes.js"
import { quote } from "../../support/world.js"

const dir = mkdtempSync(join(tmpdir(), "trade-exec-paper-book-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `count` books on `db`, each over a connection of its own, as so many processes would hold them. */
const books = (db: string, count: number) =>
  Effect.forEach(Array.from({ length: count }), () =>
    Effect.flatMap(Layer.build(DatabaseLive(db)), (storage) =>
      SqlPaperBook.make({ cash: Dec.unsafe(10_000_000) }).pipe(Effect.provide(storage))), { discard: false }).pipe(Effect.orDie)

const N = 60

/** Processes on the paper broker, told to act at once when all of them have opened the book. */
const together = async (envs: ReadonlyArray<Record<string, string>>) => {
  const processes = envs.map(spawnPaperBroker)
  await Promise.all(processes.map((p) => p.ready))
  for (const p of processes) p.go()
  return Promise.all(processes.map((p) => p.result))
}

/**
 * 4 processes at once each buying 10 of the same 40 symbols at 25: every position ends at 40 and the cash
 * 100,000 less 160 fills of 250, as the fills imply (a book that reads and writes back absolute values
 * loses some of them).
 */
const raceSubmit = async (db: string) => {
  const symbols = Array.from({ length: 40 }, (_, i) => `B${i}`)
  await Effect.runPromise(SqlPaperBook.open({ cash: Dec.unsafe(100_000) }).pipe(Effect.provide(DatabaseLive(db))))
  const results = await together([1, 2, 3, 4].map((i) => ({
    TE_DB: db,
    TE_ACTION: "submit",
    TE_SYMBOLS: symbols.join(","),
    TE_QUANTITY: "10",
    TE_PRICE: "25",
    TE_TAG: `p${i}`
  })))
  for (const r of results) expect(r.code, r.stderr).toBe(0)
  for (const r of results) expect((r.output?.reports as Array<{ status: string }>).every((x) => x.status === "FILLED")).toBe(true)
  const { account } = await Effect.runPromise(SqlPaperBook.open().pipe(Effect.provide(DatabaseLive(db))))
  expect(Dec.toString(account.cash)).toBe("60000")
  expect(account.positions.map((p) => `${p.symbol} ${Dec.toString(p.quantity)}`).sort()).toEqual(symbols.map((s) => `${s} 40`).sort())
}

/**
 * N resting buys (limit 90, market 100) on a fresh book, then 4 processes, once all of them have opened
 * the book, told at once to ask `status()` about all of them with the market at 89: each order fills once, in full, and the account
 * books each fill once.
 */
const raceStatus = async (db: string) => {
  const orders: Array<SubmitOrder> = Array.from({ length: N }, (_, i) => ({
    runId: "run-race" as RunId,
    clientOrderId: `R${i}-B-race` as ClientOrderId,
    symbol: `R${i}` as Symbol,
    side: "BUY",
    quantity: Dec.unsafe(10),
    orderType: "LMT",
    limitPrice: Dec.unsafe(90),
    referencePrice: Dec.unsafe(100)
  }))
  const broker = SqlPaperBook.layer({ cash: 100_000 }).pipe(
    Layer.provide(PriceFeed.layerMemory(orders.map((o) => quote(o.symbol, 100)))),
    Layer.provideMerge(DatabaseLive(db))
  )
  const submitted = await Effect.runPromise(
    Effect.flatMap(ExecutionProvider, (p) => p.submit(orders)).pipe(Effect.provide(broker))
  )
  expect(submitted.every((r) => r.status === "SUBMITTED")).toBe(true)

  const results = await together([1, 2, 3, 4].map(() => ({
    TE_DB: db,
    TE_ACTION: "status",
    TE_IDS: orders.map((o) => o.clientOrderId).join(","),
    TE_PRICE: "89"
  })))
  for (const r of results) expect(r.code, r.stderr).toBe(0)
  const answers = results.map((r) => r.output?.reports as Array<{ clientOrderId: string; status: string; fills: Array<{ executionId: string; quantity: string; price: string }> }>)
  for (const reports of answers) {
    expect(reports.map((r) => r.status)).toEqual(orders.map(() => "FILLED"))
    expect(reports.map((r) => r.fills.map((f) => `${f.executionId} ${f.quantity} @ ${f.price}`)))
      .toEqual(orders.map((o) => [`${o.clientOrderId}-F1 10 @ 89`]))
  }
  const account = await Effect.runPromise(Effect.flatMap(ExecutionProvider, (p) => p.account).pipe(Effect.provide(broker)))
  // 100,000 − 60 × 10 × 89
  expect(Dec.toString(account.cash)).toBe("46600")
  expect(account.positions.map((p) => `${p.symbol} ${Dec.toString(p.quantity)}`).sort())
    .toEqual(orders.map((o) => `${o.symbol} 10`).sort())
}

describe("the paper book on a SQLite file", () => {
  // One connection: SQLite's driver is synchronous, so connections racing within one process would wait
  // on each other's locks while holding the thread; processes race below.
  const fixture = paperUnderTest(books(join(dir, "contract.db"), 1))
  providerContract("ExecutionProvider contract: paper broker on SQLite", fixture)
  workingOrderContract("ExecutionProvider contract, working orders: paper broker on SQLite", fixture)

  it("reads back an account of any length its own arithmetic wrote, exactly", async () => {
    // 250 digits: longer than any input may be, as a book's sums of many fills can grow.
    const cash = `${"9".repeat(240)}.0000000001`
    const db = join(dir, "long.db")
    await Effect.runPromise(SqlPaperBook.open({ cash: Dec.fromStored(cash)!, positions: [{ symbol: "AAA" as Symbol, quantity: Dec.fromStored(cash)! }] })
      .pipe(Effect.provide(DatabaseLive(db))))
    const { account, opened } = await Effect.runPromise(SqlPaperBook.open().pipe(Effect.provide(DatabaseLive(db))))
    expect([opened, Dec.toString(account.cash), account.positions.map((p) => Dec.toString(p.quantity))]).toEqual([false, cash, [cash]])
  })
  it("keeps every member of an order's request and fills, as another connection reads them back", async () => {
    const db = join(dir, "members.db")
    const request: SubmitOrder = {
      runId: "run_members" as RunId,
      clientOrderId: "AAA-B-members" as ClientOrderId,
      symbol: "AAA" as Symbol,
      side: "BUY",
      quantity: Dec.unsafe("40"),
      orderType: "LMT",
      limitPrice: Dec.unsafe("49.75"),
      timeInForce: "GTC",
      referencePrice: Dec.unsafe("50.00"),
      snapshotPrice: Dec.unsafe("0.000125")
    }
    const fill: Fill = {
      executionId: "AAA-B-members-F1" as ExecutionId,
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: "BUY",
      quantity: Dec.unsafe("15"),
      price: Dec.unsafe("49.5"),
      commission: Dec.unsafe("1.25"),
      time: "2026-11-25T21:00:00.000Z"
    }
    const order: VenueOrder = { request, status: "PARTIAL", fills: [fill], lastTradedOn: "AAA 2026-11-25T21:00:00.000Z" }
    await Effect.runPromise(
      Effect.flatMap(SqlPaperBook.make({ cash: Dec.unsafe(10_000) }), (book) => book.update("submit", [request.clientOrderId], () => [order]))
        .pipe(Effect.provide(DatabaseLive(db)))
    )
    const read = await Effect.runPromise(
      Effect.flatMap(SqlPaperBook.make(), (book) => book.find([request.clientOrderId])).pipe(Effect.provide(DatabaseLive(db)))
    )
    // Decimals by their value: "50.00" is stored as its canonical "50".
    const members = (value: object) =>
      Object.entries(value).map(([name, member]) => `${name} ${Dec.isDecimal(member) ? Dec.toString(member) : String(member)}`).sort()
    const back = read.get(request.clientOrderId)
    expect(back && [members(back.request), back.fills.map(members), back.status, back.lastTradedOn])
      .toEqual([members(request), [members(fill)], "PARTIAL", order.lastTradedOn])
  })
  it("fills a resting order once when 4 processes ask status() about it at the same moment", () => raceStatus(join(dir, "race.db")), 120_000)
  it("books every fill of 4 processes submitting at the same moment", () => raceSubmit(join(dir, "submit.db")), 120_000)
})

const schema = pgAvailable || process.env.CI ? await freshSchema("paperbook") : undefined
const raceSchema = pgAvailable || process.env.CI ? await freshSchema("paperrace") : undefined
const submitSchema = pgAvailable || process.env.CI ? await freshSchema("papersubmit") : undefined
afterAll(async () => {
  await schema?.drop()
  await raceSchema?.drop()
  await submitSchema?.drop()
})
describePg("the paper book on PostgreSQL", () => {
  const fixture = paperUnderTest(books(schema?.url ?? "postgres://unreachable", 3))
  providerContract("ExecutionProvider contract: paper broker on PostgreSQL", fixture)
  workingOrderContract("ExecutionProvider contract, working orders: paper broker on PostgreSQL (3 connections racing)", fixture)

  it("fills a resting order once when 4 processes ask status() about it at the same moment", () =>
    raceStatus(raceSchema?.url ?? "postgres://unreachable"), 120_000)
  it("books every fill of 4 processes submitting at the same moment", () => raceSubmit(submitSchema?.url ?? "postgres://unreachable"), 120_000)
})
