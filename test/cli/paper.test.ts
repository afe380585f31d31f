/**
 * `trade-exec` and the paper broker's book in the database, end to end with the built command in child
 * processes: a passive limit rests in the book, where a later price fills it; concurrent runs on one
 * PostgreSQL database leave the book equal to what their fills imply; a slippage that could price a fill
 * at zero or less is refused; `--positions` opens a new paper account and must agree with an existing one.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { DatabaseLive } from "../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId } from "../../src/domain/Ids.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { build, cli, workspace } from "../support/cli.js"
import { describePg, freshSchema, pgAvailable } from "../support/postgres.js"
import { quote } from "../support/world.js"

beforeAll(() => build(), 120_000)

const rows = (dir: string, statement: string) => {
  const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
  try {
    return conn.prepare(statement).all() as Array<Record<string, unknown>>
  } finally {
    conn.close()
  }
}

/** Every row of the database, to compare before and after. */
const dump = (dir: string) =>
  JSON.stringify(
    ["decision_snapshots", "snapshot_items", "trade_runs", "trade_orders", "trade_fills", "audit_events", "paper_orders", "paper_positions", "paper_account"]
      .map((t) => rows(dir, `SELECT * FROM ${t} ORDER BY 1`))
  )

const paperPositions = (dir: string) =>
  rows(dir, "SELECT symbol, quantity FROM paper_positions WHERE quantity <> '0' ORDER BY symbol").map((r) => `${r.symbol} ${r.quantity}`)

const paperCash = (dir: string) => String(rows(dir, "SELECT cash FROM paper_account")[0]?.cash)

describe("a limit order on the paper broker", () => {
  it("rests in the database when the market does not reach it, and a later price seen by another process fills it", async () => {
    const dir = workspace({ "items.csv": "symbol,weight\nAAA,0.2\nBBB,0.1\n", "prices.csv": "symbol,price\nAAA,50\nBBB,33\n" })
    const run = await cli(dir, [
      "run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000",
      "--order-type", "LMT", "--limit-offset-bps", "-50", "--json"
    ])
    // (Whether the run waits for its working orders is the runner's business; the venue keeps them.)
    expect(run.stderr).not.toContain("Error")
    const { orders } = run.json()
    expect(orders.map((o: any) => [o.symbol, o.side, o.quantity, o.limitPrice, o.status, o.filledQuantity, o.rejectReason]))
      .toEqual([["AAA", "BUY", "40", "49.75", "SUBMITTED", "0", null], ["BBB", "BUY", "30", "32.835", "SUBMITTED", "0", null]])
    expect(rows(dir, "SELECT symbol, status, fills FROM paper_orders ORDER BY symbol"))
      .toEqual([{ symbol: "AAA", status: "SUBMITTED", fills: "[]" }, { symbol: "BBB", status: "SUBMITTED", fills: "[]" }])

    // Another process opens the same book with AAA fallen through its limit.
    const broker = SqlPaperBook.layer({}).pipe(
      Layer.provide(PriceFeed.layerMemory([quote("AAA", "49.5"), quote("BBB", 33)])),
      Layer.provide(DatabaseLive(join(dir, "trade-exec.db")))
    )
    const ids = orders.map((o: any) => o.clientOrderId as ClientOrderId)
    const reports = await Effect.runPromise(Effect.flatMap(ExecutionProvider, (p) => p.status(ids)).pipe(Effect.provide(broker)))
    expect(reports.map((r) => [r.status, ...r.fills.map((f) => `${f.executionId} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)}`)]))
      .toEqual([["FILLED", `${ids[0]}-F1 40 @ 49.5`], ["SUBMITTED"]])
    expect(paperPositions(dir)).toEqual(["AAA 40"])
    // 10,000 − 40 × 49.5
    expect(paperCash(dir)).toBe("8020")
  }, 60_000)
})

describe("a run whose limit orders rest on paper", () => {
  it("stays running while they rest, is filled at the limit or better by a later prices file, then done; again, nothing is written", async () => {
    const dir = workspace({
      "items.csv": "symbol,weight\nAAA,0.2\nBBB,0.1\n",
      "prices.csv": "symbol,price\nAAA,50\nBBB,33\n",
      "later.csv": "symbol,price\nAAA,49.5\nBBB,32\n"
    })
    const run = await cli(dir, [
      "run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000",
      "--order-type", "LMT", "--limit-offset-bps", "-50", "--json"
    ])
    expect(run.code, run.stderr).toBe(6)
    const doc = run.json()
    expect(doc.run.status).toBe("running")
    expect(doc.orders.map((o: any) => [o.symbol, o.limitPrice, o.status, o.filledQuantity])).toEqual([["AAA", "49.75", "SUBMITTED", "0"], ["BBB", "32.835", "SUBMITTED", "0"]])
    const id = doc.run.id as string
    const orderRows = () => JSON.stringify([rows(dir, "SELECT * FROM trade_orders ORDER BY 1, 2"), rows(dir, "SELECT * FROM trade_fills"), rows(dir, "SELECT * FROM paper_orders ORDER BY 1"), rows(dir, "SELECT * FROM paper_account"), rows(dir, "SELECT * FROM paper_positions")])

    // The same prices again: the orders still rest, nothing fills.
    const before = orderRows()
    const same = await cli(dir, ["execute", id, "--json"])
    expect(same.code, same.stderr).toBe(6)
    expect(orderRows()).toBe(before)

    const later = await cli(dir, ["execute", id, "--prices", "later.csv", "--json"])
    expect(later.code, later.stderr).toBe(0)
    const done = later.json()
    expect(done.run.status).toBe("done")
    expect(done.fills.map((f: any) => [f.executionId.endsWith("-F1"), f.symbol, f.quantity, f.price]))
      .toEqual([[true, "AAA", "40", "49.5"], [true, "BBB", "30", "32"]])
    expect(paperPositions(dir)).toEqual(["AAA 40", "BBB 30"])
    // 10,000 − 40 × 49.5 − 30 × 32
    expect(paperCash(dir)).toBe("7060")

    const tables = () =>
      JSON.stringify(["decision_snapshots", "snapshot_items", "trade_runs", "trade_orders", "trade_fills", "paper_orders", "paper_positions", "paper_account"]
        .map((t) => rows(dir, `SELECT * FROM ${t} ORDER BY 1`)))
    const finished = tables()
    expect((await cli(dir, ["execute", id, "--prices", "later.csv"])).code).toBe(0)
    expect(tables()).toBe(finished)
    expect((await cli(dir, ["audit", id, "--verify"])).code).toBe(0)
    const replay = await cli(dir, ["replay", id, "--json"])
    expect(replay.code, replay.stdout).toBe(0)
    expect(replay.json()).toMatchObject({ matches: true })
  }, 120_000)
})

describe("--slippage-bps", () => {
  const files = { "items.csv": "symbol,weight\nAAA,0\n", "prices.csv": "symbol,price\nAAA,50\n", "positions.csv": "symbol,quantity\nAAA,100\n" }
  const SELL_ALL = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000", "--positions", "positions.csv", "--json"]

  it.each(["10000", "20000", "-1"])("of %s is refused, naming the flag, before anything is written", async (bps) => {
    const dir = workspace(files)
    const result = await cli(dir, [...SELL_ALL, "--slippage-bps", bps])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain("--slippage-bps")
    expect(result.stderr).toContain("at least 0 and below 10000")
    expect(existsSync(join(dir, "trade-exec.db"))).toBe(false)
  }, 60_000)

  it("just below the bound sells at a price above zero", async () => {
    const dir = workspace(files)
    const result = await cli(dir, [...SELL_ALL, "--slippage-bps", "9999"])
    expect(result.code, result.stderr).toBe(0)
    // 50 × (1 − 0.9999)
    expect(result.json().fills.map((f: any) => [f.quantity, f.price])).toEqual([["100", "0.005"]])
  }, 60_000)
})

describe("--positions and the paper account", () => {
  const files = {
    "items.csv": "symbol,weight\nAAA,0\nBBB,0.1\n",
    "prices.csv": "symbol,price\nAAA,50\nBBB,33\n",
    "held.csv": "symbol,quantity\nAAA,100\n",
    "after.csv": "symbol,quantity\nBBB,30\n"
  }
  const RUN = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000"]

  it("open a new paper account holding them, so selling a held position leaves it flat, not short", async () => {
    const dir = workspace(files)
    const result = await cli(dir, [...RUN, "--positions", "held.csv", "--json"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json().orders.map((o: any) => [o.symbol, o.side, o.quantity, o.status])).toEqual([["AAA", "SELL", "100", "FILLED"], ["BBB", "BUY", "30", "FILLED"]])
    expect(paperPositions(dir)).toEqual(["BBB 30"])
    // Opened with the run's cash, 10,000 − 100 × 50; then + 100 × 50 − 30 × 33
    expect(paperCash(dir)).toBe("9010")
    // The book the runs imply (the positions given, then the fills) is the paper account's.
    const reconciled = await cli(dir, ["reconcile", "--json"])
    expect(reconciled.code, reconciled.stdout).toBe(0)
    expect(reconciled.json().breaks).toEqual([])
  }, 60_000)

  it("must agree with an existing paper account: otherwise refused, naming the first symbol that differs, with nothing written", async () => {
    const dir = workspace(files)
    expect((await cli(dir, [...RUN, "--positions", "held.csv"])).code).toBe(0)
    const before = dump(dir)
    const refused = await cli(dir, [...RUN, "--positions", "held.csv"])
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toContain("held.csv, AAA: 100 here, but the paper account in trade-exec.db holds 0")
    expect(refused.stderr).toContain("leave out --positions")
    const dry = await cli(dir, [...RUN, "--positions", "held.csv", "--dry-run"])
    expect(dry.code, dry.stderr).toBe(2)
    expect(dump(dir)).toBe(before)

    // What the account holds is accepted; and without --positions the run trades from the account.
    const agreeing = await cli(dir, [...RUN, "--positions", "after.csv", "--json"])
    expect(agreeing.code, agreeing.stderr).toBe(0)
    expect(agreeing.json().orders).toEqual([])
    const fromAccount = await cli(dir, [...RUN, "--json"])
    expect(fromAccount.code, fromAccount.stderr).toBe(0)
    expect(paperPositions(dir)).toEqual(["BBB 30"])
  }, 120_000)
})

const schema = pgAvailable || process.env.CI ? await freshSchema("paperrun") : undefined
afterAll(() => schema?.drop())
describePg("4 trade-exec run at once on one PostgreSQL database", () => {
  it("leave cash and every paper position equal to what the recorded fills imply from the start", async () => {
    const url = schema?.url ?? "postgres://unreachable"
    const dir = workspace({ "i.csv": "symbol,weight\nAAA,0.3\nBBB,0.2\nCCC,0.1\n", "p.csv": "symbol,price\nAAA,10\nBBB,20\nCCC,30\n" })
    const args = ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000", "--commission", "ib-fixed", "--db", url]
    // The schema is created first: processes migrating one new database at once is another matter.
    expect((await cli(dir, ["runs", "--db", url])).code).toBe(0)
    const results = await Promise.all([1, 2, 3, 4].map(() => cli(dir, args)))
    // One run trades on an account at a time: a run started while another trades is refused (exit 2),
    // with nothing written. (The book's own atomicity under concurrent changes is tested at the provider
    // level, with processes racing on one book: test/adapters/sql/paperBook.test.ts.)
    expect(results.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(1)
    for (const r of results) {
      expect([0, 2], r.stderr).toContain(r.code)
      if (r.code === 2) expect(r.stderr).toContain("is trading on the account")
    }
    // A run refused at its start (it was created as another started) is canceled, not left queued for a
    // worker to send later.
    const runs = (await cli(dir, ["runs", "--json", "--db", url])).json().runs
    expect(runs.filter((r: any) => r.status !== "done").map((r: any) => `${r.id} ${r.status}`)).toEqual([])

    const book = await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const fills = yield* sql<{ symbol: string; side: string; quantity: string; price: string; commission: string }>`
        SELECT symbol, side, quantity, price, commission FROM trade_fills`
      const [account] = yield* sql<{ cash: string }>`SELECT cash FROM paper_account`
      const positions = yield* sql<{ symbol: string; quantity: string }>`SELECT symbol, quantity FROM paper_positions`
      return { fills, cash: account!.cash, positions }
    }).pipe(Effect.provide(DatabaseLive(url))))

    expect(book.fills.length).toBeGreaterThanOrEqual(3)
    // The account opened with 1,000 (the first run's cash); each fill moved it once.
    let cash = Dec.unsafe(1000)
    const held = new Map<string, Dec.Decimal>()
    for (const f of book.fills) {
      const value = Dec.mul(Dec.unsafe(f.quantity), Dec.unsafe(f.price))
      cash = Dec.sub(f.side === "BUY" ? Dec.sub(cash, value) : Dec.add(cash, value), Dec.unsafe(f.commission))
      const change = f.side === "BUY" ? Dec.unsafe(f.quantity) : Dec.negate(Dec.unsafe(f.quantity))
      held.set(f.symbol, Dec.add(held.get(f.symbol) ?? Dec.ZERO, change))
    }
    expect(Dec.toString(Dec.unsafe(book.cash))).toBe(Dec.toString(cash))
    expect(book.positions.map((p) => `${p.symbol} ${Dec.toString(Dec.unsafe(p.quantity))}`).sort())
      .toEqual([...held].map(([symbol, quantity]) => `${symbol} ${Dec.toString(quantity)}`).sort())
  }, 180_000)
})
