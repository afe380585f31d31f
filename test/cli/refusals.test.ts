/**
 * What `trade-exec` refuses and how it ends when it cannot go on, through the built command in child
 * processes, on real SQLite files (and the real PostgreSQL): environment variables checked before the
 * first write, an empty database target, numbers beyond what can be read back, a risk file read exactly
 * and refusing a limit given twice, flags named as the user typed them, a price stamped in the future,
 * another application's database left untouched, a missing database not created, a read-only file, a
 * database another process keeps locked, and runs held by another process (exit 5).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { withLockTimeout } from "../../adapters/sql/layers.js"
import { build, cli, start, workspace } from "../support/cli.js"
import { describePg, freshSchema, pgUrl } from "../support/postgres.js"

beforeAll(() => build(), 120_000)

const ITEMS = "symbol,weight,sector\nAAA,0.2,Tech\nBBB,0.1,Health\n"
const PRICES = "symbol,price,volume\nAAA,50,1000000\nBBB,33,1000000\n"
const RUN = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000"]
const origin = (files: Record<string, string> = {}) => workspace({ "items.csv": ITEMS, "prices.csv": PRICES, ...files })

const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

const tablesOf = (path: string) => {
  const conn = new Database(path, { readonly: true })
  try {
    return (conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
  } finally {
    conn.close()
  }
}

describe.concurrent("trade-exec refuses, before writing anything, naming the flag, the variable or the key", () => {
  const risk = (json: string) => ({ "risk.json": json })
  const cases: ReadonlyArray<readonly [string, Record<string, string>, Record<string, string>, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    // An empty target is SQLite's throwaway database: the run would be gone when the command ends.
    ["an empty --db", {}, {}, [...RUN, "--db", ""], ["--db", "empty"]],
    ["an empty --db of spaces", {}, {}, [...RUN, "--db", "  "], ["--db", "empty"]],
    ["an in-memory --db", {}, {}, [...RUN, "--db", ":memory:"], ["--db", "in-memory database"]],
    ["an in-memory TRADE_EXEC_DB", {}, { TRADE_EXEC_DB: "file::memory:?cache=shared" }, [...RUN], ["TRADE_EXEC_DB", "in-memory database"]],
    ["an empty TRADE_EXEC_DB", {}, { TRADE_EXEC_DB: "" }, RUN, ["TRADE_EXEC_DB", "empty"]],
    ["an unparsable TRADE_EXEC_PAPER_CASH", {}, { TRADE_EXEC_PAPER_CASH: "abc" }, RUN, ["TRADE_EXEC_PAPER_CASH", "abc"]],
    ["a TRADE_EXEC_PAPER_CASH with a thousands separator", {}, { TRADE_EXEC_PAPER_CASH: "1,000" }, RUN, ["TRADE_EXEC_PAPER_CASH", "1,000"]],
    ["a negative TRADE_EXEC_PAPER_CASH", {}, { TRADE_EXEC_PAPER_CASH: "-5" }, RUN, ["TRADE_EXEC_PAPER_CASH", "must not be negative"]],
    ["a TRADE_EXEC_PAPER_CASH beyond the input range", {}, { TRADE_EXEC_PAPER_CASH: "1e31" }, RUN, ["TRADE_EXEC_PAPER_CASH", "out of range"]],
    // Checked before the snapshot and the run are written, not after.
    ["an unparsable TRADE_EXEC_LEASE_SECONDS", {}, { TRADE_EXEC_LEASE_SECONDS: "abc" }, RUN, ["TRADE_EXEC_LEASE_SECONDS", "abc"]],
    // A lease past year 9999 sorts before now as text: every lease would look expired.
    ["a TRADE_EXEC_LEASE_SECONDS of 999999999999", {}, { TRADE_EXEC_LEASE_SECONDS: "999999999999" }, RUN, ["TRADE_EXEC_LEASE_SECONDS", "from 1 to 86400"]],
    ["a zero TRADE_EXEC_LEASE_SECONDS", {}, { TRADE_EXEC_LEASE_SECONDS: "0" }, RUN, ["TRADE_EXEC_LEASE_SECONDS", "from 1 to 86400"]],
    ["a TRADE_EXEC_WORKER_ID with a space", {}, { TRADE_EXEC_WORKER_ID: "desk one" }, RUN, ["TRADE_EXEC_WORKER_ID", "desk one"]],
    ["an empty TRADE_EXEC_WORKER_ID", {}, { TRADE_EXEC_WORKER_ID: "" }, RUN, ["TRADE_EXEC_WORKER_ID"]],
    ["an unknown TRADE_EXEC_PAPER_COMMISSION", {}, { TRADE_EXEC_PAPER_COMMISSION: "cheap" }, RUN, ["TRADE_EXEC_PAPER_COMMISSION", "ib-fixed, ib-tiered or none"]],
    ["an unparsable TRADE_EXEC_PAPER_SLIPPAGE_BPS", {}, { TRADE_EXEC_PAPER_SLIPPAGE_BPS: "two" }, RUN, ["TRADE_EXEC_PAPER_SLIPPAGE_BPS", "two"]],
    ["a negative TRADE_EXEC_PAPER_SLIPPAGE_BPS", {}, { TRADE_EXEC_PAPER_SLIPPAGE_BPS: "-3" }, RUN, ["TRADE_EXEC_PAPER_SLIPPAGE_BPS", "at least 0 and below 10000"]],
    ["a TRADE_EXEC_PAPER_SLIPPAGE_BPS of 20000", {}, { TRADE_EXEC_PAPER_SLIPPAGE_BPS: "20000" }, RUN, ["TRADE_EXEC_PAPER_SLIPPAGE_BPS", "at least 0 and below 10000"]],
    ["a bad variable for a command that only reads", {}, { TRADE_EXEC_LEASE_SECONDS: "soon" }, ["runs"], ["TRADE_EXEC_LEASE_SECONDS"]],
    // The flag as typed, not the build's parameter name.
    ["an out-of-range --limit-offset-bps", {}, {}, [...RUN, "--order-type", "LMT", "--limit-offset-bps", "-100000"], ["--limit-offset-bps", "-9999 and 9999"]],
    // Within the range, everything computed from the input can be stored and read back.
    ["a --portfolio-value of 1e100 with a --lot-size of 1e-100", {}, {}, [...RUN.slice(0, -1), "1e100", "--lot-size", "1e-100"], ["--portfolio-value", "out of range", "1e100"]],
    ["a --lot-size with 31 decimals", {}, {}, [...RUN, "--lot-size", "0.0000000000000000000000000000001"], ["--lot-size", "out of range"]],
    ["a --cash of 31 digits", {}, {}, [...RUN, "--cash", "1000000000000000000000000000000"], ["--cash", "out of range"]],
    ["a price of 31 digits", { "prices.csv": "symbol,price\nAAA,1000000000000000000000000000000\n" }, {}, RUN, ["prices.csv row 2, price", "out of range"]],
    ["a weight with 31 decimals", { "items.csv": "symbol,weight\nAAA,0.0000000000000000000000000000001\n" }, {}, RUN, ["items.csv row 2, weight", "out of range"]],
    ["a risk limit of 31 digits", risk('{"max_order_notional": 1e31}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "max_order_notional", "out of range"]],
    ["a risk limit given twice", risk('{"max_order_notional": 5000, "max_order_notional": 10}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "max_order_notional", "twice"]],
    ["a risk limit given in both spellings", risk('{"max_order_notional": 5000, "maxOrderNotional": 10}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "maxOrderNotional", 'same limit as "max_order_notional"']],
    ["a risk policy given twice", risk('{"policy": "drop_orders", "policy": "block_run"}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "policy", "twice"]],
    ["a fractional max_orders_per_run", risk('{"max_orders_per_run": 2.5}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "max_orders_per_run", "whole number"]],
    ["a risk limit that is not a number", risk('{"max_order_notional": true}'), {}, [...RUN, "--risk", "risk.json"], ["risk.json", "max_order_notional", "must be a number"]]
  ]

  it.each(cases)("refuses %s (exit 2)", async (_, files, env, args, mentions) => {
    const dir = origin(files)
    const before = readdirSync(dir).sort()
    const result = await cli(dir, args, env)
    expect(result.code, result.stdout + result.stderr).toBe(2)
    for (const text of mentions) expect(result.stderr + result.stdout).toContain(text)
    // Never the build's own parameter names for what the command line set.
    expect(result.stderr).not.toMatch(/limitOffsetBps|portfolioValue|lotSize|cashBufferRatio/)
    expect(readdirSync(dir).sort(), "nothing written").toEqual(before)
  }, 60_000)
})

describe("trade-exec reads what it is given exactly", () => {
  it("keeps every digit of a risk limit written as a 30-digit JSON number", async () => {
    // As a binary double the first is 123456789012345680000000000000.
    const dir = origin({ "risk.json": '{"max_order_notional": 123456789012345678901234567890, "max_order_quantity": "1000000.000000000000000000000000000001"}' })
    const result = await cli(dir, [...RUN, "--risk", "risk.json", "--dry-run", "--json"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json().run.params.risk).toEqual({
      maxOrderNotional: "123456789012345678901234567890",
      maxOrderQuantity: "1000000.000000000000000000000000000001"
    })
  })

  it("reads back, executes and shows a run built from the largest and finest values it accepts", async () => {
    const dir = workspace({
      "items.csv": "symbol,weight\nAAA,0.3\nBBB,0.2\nCCC,0.1\n",
      "prices.csv": "symbol,price\nAAA,0.000000000000000000000000000001\nBBB,999999999999999999999999999999\nCCC,30\n"
    })
    const args = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "999999999999999999999999999999", "--lot-size", "0.000000000000000000000000000001"]
    const dry = await cli(dir, [...args, "--dry-run", "--json"])
    expect(dry.code, dry.stderr).toBe(0)
    const { run, orders } = dry.json()
    expect(orders.map((o: any) => [o.symbol, o.quantity])).toEqual([
      ["AAA", "299999999999999999999999999999700000000000000000000000000000"],
      ["BBB", "0.2"],
      ["CCC", "3333333333333333333333333333.33"]
    ])
    const executed = await cli(dir, ["execute", run.id, "--json"])
    expect(executed.code, executed.stderr).toBe(0)
    expect(executed.json().orders.map((o: any) => [o.quantity, o.status, o.filledQuantity])).toEqual(orders.map((o: any) => [o.quantity, "FILLED", o.quantity]))
    const shown = await cli(dir, ["show", run.id])
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain("299999999999999999999999999999700000000000000000000000000000")
    // A second run rebalances from the paper account those fills left, read back from the database.
    const again = await cli(dir, [...args, "--json"])
    expect(again.code, again.stderr).toBe(0)
    expect(again.json().orders).toEqual([])
  })

  it("rejects as stale a price stamped in the future beyond the clock-skew tolerance (exit 3)", async () => {
    const dir = origin({
      "prices.csv": "symbol,price,time\nAAA,50,2099-01-01T00:00:00Z\nBBB,33,2099-01-01T00:00:00Z\n",
      "risk.json": '{"max_price_age_seconds": 60}'
    })
    const result = await cli(dir, [...RUN, "--risk", "risk.json", "--json"])
    expect(result.code, result.stderr).toBe(3)
    expect(result.json().risk.reasons).toEqual(["price_staleness:AAA", "price_staleness:BBB"])
    expect(Number(result.json().risk.violations[0].actual)).toBeLessThan(-60 * 60 * 24 * 365)
  })
})

describe("trade-exec leaves a database that is not its own as it is", () => {
  const foreign = (statements: ReadonlyArray<string>) => {
    const dir = origin()
    const conn = new Database(join(dir, "app.db"))
    for (const statement of statements) conn.exec(statement)
    conn.close()
    return dir
  }

  it.each([
    ["with only a users table", ["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('ann')"], "users"],
    ["with a trade_runs table of its own shape", ["CREATE TABLE trade_runs (id INTEGER PRIMARY KEY, what TEXT)"], "trade_runs"]
  ])("refuses another application's SQLite file %s (exit 2), adding nothing to it", async (_, statements, table) => {
    const dir = foreign(statements)
    const db = join(dir, "app.db")
    const before = digest(db)
    const files = readdirSync(dir).sort()
    for (const args of [[...RUN, "--db", "app.db"], ["runs", "--db", "app.db"], ["worker", "--drain", "--db", "app.db"]]) {
      const result = await cli(dir, args)
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr).toContain(`app.db holds tables of another application (${table})`)
    }
    expect(digest(db), "the file is byte for byte as it was").toBe(before)
    expect(tablesOf(db)).toEqual([table])
    expect(readdirSync(dir).sort()).toEqual(files)
  })

  it.each([["execute", []], ["show", []], ["audit", []], ["replay", []], ["report", ["--html", "run.html"]]] as const)("%s of an unknown run on a missing database file creates no file (exit 2)", async (command, rest) => {
    const dir = origin()
    const result = await cli(dir, [command, "run_does_not_exist", ...rest, "--db", "runs.db"])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain("runs.db does not exist")
    expect(existsSync(join(dir, "runs.db"))).toBe(false)
    expect(readdirSync(dir).sort()).toEqual(["items.csv", "prices.csv"])
  })
})

describe("trade-exec on a database it cannot write or must wait for", () => {
  /** Makes the file read-only for this process, which may be root (for whom only an immutable file is). */
  const readOnly = (path: string): (() => void) => {
    if (process.getuid?.() === 0) {
      execFileSync("chattr", ["+i", path])
      return () => execFileSync("chattr", ["-i", path])
    }
    chmodSync(path, 0o444)
    return () => chmodSync(path, 0o644)
  }

  it("refuses to write to a read-only database file (exit 2), leaving no -wal or -shm, and still shows its runs", async () => {
    const dir = origin()
    const dry = await cli(dir, [...RUN, "--dry-run", "--json"])
    expect(dry.code, dry.stderr).toBe(0)
    const db = join(dir, "trade-exec.db")
    const before = digest(db)
    const files = readdirSync(dir).sort()
    const restore = readOnly(db)
    try {
      for (const args of [RUN, ["execute", dry.json().run.id]]) {
        const result = await cli(dir, args)
        expect(result.code, result.stderr).toBe(2)
        expect(result.stderr).toContain("trade-exec.db is read-only")
        expect(readdirSync(dir).sort()).toEqual(files)
      }
      const shown = await cli(dir, ["show", dry.json().run.id, "--json"])
      expect(shown.code, shown.stderr).toBe(0)
      expect(shown.json().run.status).toBe("queued")
      expect(digest(db)).toBe(before)
    } finally {
      restore()
    }
  })

  it("says why it cannot read a database whose directory cannot be written (exit 2): SQLite makes its -shm file beside it", async () => {
    const dir = origin()
    expect((await cli(dir, [...RUN, "--dry-run"])).code).toBe(0)
    // A directory others may still enter and read (0555); root can only be kept out by making it immutable.
    const restore = process.getuid?.() === 0 ? readOnly(dir) : (chmodSync(dir, 0o555), () => chmodSync(dir, 0o755))
    try {
      const result = await cli(dir, ["runs"])
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr).toContain("trade-exec.db is in WAL mode and its directory cannot be written")
    } finally {
      restore()
    }
  })

  it("names the lock when another process keeps the database locked past the busy timeout (exit 5), and the run goes on later", async () => {
    const dir = origin()
    const dry = await cli(dir, [...RUN, "--dry-run", "--json"])
    const runId = dry.json().run.id
    const holder = new Database(join(dir, "trade-exec.db"))
    try {
      holder.exec("BEGIN IMMEDIATE")
      holder.prepare("UPDATE trade_runs SET updated_at = updated_at").run()
      // The command waits for the busy timeout (10 s), then gives up.
      const locked = await cli(dir, ["execute", runId])
      expect(locked.code, locked.stderr).toBe(5)
      expect(locked.stderr).toContain("locked by another process")
      expect(locked.stderr).not.toContain("cannot rollback")
    } finally {
      holder.exec("ROLLBACK")
      holder.close()
    }
    const resumed = await cli(dir, ["execute", runId, "--json"])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.json().run.status).toBe("done")
  }, 60_000)
})

describe("trade-exec exits 5 when another process holds the run", () => {
  /** A decision of `n` names, each of `weight`, priced 10 to 99: large enough to be still sending when looked at. */
  const decisionOf = (n: number, weight: string) => {
    const names = Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, "0")}`)
    return workspace({
      "items.csv": ["symbol,weight", ...names.map((s) => `${s},${weight}`)].join("\n"),
      "prices.csv": ["symbol,price", ...names.map((s, i) => `${s},${10 + (i % 90)}`)].join("\n")
    })
  }
  const LARGE = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000000"]

  /** The run once some of its orders are out, or undefined while there is none yet. */
  const sending = (dir: string): string | undefined => {
    const path = join(dir, "trade-exec.db")
    if (!existsSync(path)) return undefined
    const conn = new Database(path, { readonly: true })
    try {
      const sent = (conn.prepare("SELECT count(*) AS n FROM trade_orders WHERE status <> 'NEW'").get() as { n: number }).n
      return sent > 0 ? (conn.prepare("SELECT id FROM trade_runs").get() as { id: string }).id : undefined
    } catch {
      return undefined // the schema is not there yet
    } finally {
      conn.close()
    }
  }

  it("refuses a second process given the same TRADE_EXEC_WORKER_ID a run the first is executing", async () => {
    const n = 20_000
    const dir = decisionOf(n, "0.00004")
    const first = start(dir, LARGE, { TRADE_EXEC_WORKER_ID: "desk-1" })
    let runId: string | undefined
    while ((runId = sending(dir)) === undefined && first.child.exitCode === null) await new Promise((r) => setTimeout(r, 10))
    expect(runId, first.stderr()).toBeDefined()
    const second = await cli(dir, ["execute", runId!], { TRADE_EXEC_WORKER_ID: "desk-1" })
    expect(second.code, second.stderr).toBe(5)
    expect(second.stderr).toContain("held by another process")
    expect(second.stderr).toMatch(/is held by desk-1@[0-9a-f]{8}/)
    const done = await first.result
    expect(done.code, done.stderr).toBe(0)
    const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
    try {
      expect(conn.prepare("SELECT count(*) AS n, count(DISTINCT client_order_id) AS ids FROM paper_orders").get()).toEqual({ n, ids: n })
    } finally {
      conn.close()
    }
  })

  it("stops a process that lost its lease to another (exit 5), leaving the run to that one", async () => {
    const dir = decisionOf(20_000, "0.00004")
    const running = start(dir, LARGE, { TRADE_EXEC_LEASE_SECONDS: "1" })
    let runId: string | undefined
    while ((runId = sending(dir)) === undefined && running.child.exitCode === null) await new Promise((r) => setTimeout(r, 10))
    expect(runId, running.stderr()).toBeDefined()
    // The process stalls (a pause, a machine asleep) past its lease, and another takes the run over. It may
    // be stopped inside a transaction: then it runs on a moment and is stopped again until the run is free.
    running.child.kill("SIGSTOP")
    const thief = new Database(join(dir, "trade-exec.db"), { timeout: 200 })
    try {
      for (let taken = false; !taken;) {
        try {
          thief.prepare("UPDATE trade_runs SET lease_owner = 'other-host-7', lease_expires_at = '2999-01-01T00:00:00.000Z' WHERE id = ?").run(runId)
          taken = true
        } catch (error) {
          if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error
          running.child.kill("SIGCONT")
          await new Promise((r) => setTimeout(r, 20))
          running.child.kill("SIGSTOP")
        }
      }
    } finally {
      thief.close()
      running.child.kill("SIGCONT")
    }
    const stopped = await running.result
    expect(stopped.code, stopped.stderr).toBe(5)
    expect(stopped.stderr).toContain("held by another process")
    const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
    try {
      expect(conn.prepare("SELECT status, lease_owner FROM trade_runs").get()).toEqual({ status: "running", lease_owner: "other-host-7" })
    } finally {
      conn.close()
    }
  })
})

/** A statement on the test database, outside trade-exec. */
const admin = <A>(f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(PgClient.make({ url: Redacted.make(pgUrl) }), f)).pipe(Effect.provide(Reactivity.layer)))

const schemas: Array<{ readonly drop: () => Promise<void> }> = []
afterAll(() => Promise.all(schemas.map((s) => s.drop())))

describePg("trade-exec on PostgreSQL it may not use", () => {
  it("refuses a search_path naming no schema that exists (exit 2), creating nothing", async () => {
    const url = `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c search_path=no_such_schema_for_trade_exec")}`
    const result = await cli(origin(), [...RUN, "--db", url])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain("no schema of its search_path (no_such_schema_for_trade_exec) exists")
  })

  it("refuses a schema holding another application's tables (exit 2), adding none", async () => {
    const schema = await freshSchema("foreign")
    schemas.push(schema)
    await admin((sql) => sql.unsafe(`CREATE TABLE ${schema.name}.users (id serial PRIMARY KEY, name text)`))
    const result = await cli(origin(), [...RUN, "--db", schema.url])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain("holds tables of another application (users)")
    const tables = await admin((sql) => sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${schema.name}`)
    expect(tables.map((t) => t.name)).toEqual(["users"])
  })

  it("names the lock when another session keeps the run locked past the lock timeout (exit 5), and the run goes on later", async () => {
    const schema = await freshSchema("locked")
    schemas.push(schema)
    const dir = origin()
    const runId = (await cli(dir, [...RUN, "--dry-run", "--json", "--db", schema.url])).json().run.id
    // Another session holds the run's row, as a stuck process in the middle of a transaction would.
    let release = () => {}
    let held = () => {}
    const releasing = new Promise<void>((resolve) => (release = resolve))
    const holding = new Promise<void>((resolve) => (held = resolve))
    const holder = Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(schema.url) })
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT id FROM trade_runs WHERE id = ${runId} FOR UPDATE`
        held()
        yield* Effect.promise(() => releasing)
      }))
    })).pipe(Effect.provide(Reactivity.layer)))
    await holding
    try {
      // The command waits for the lock timeout (10 s), then gives up.
      const locked = await cli(dir, ["execute", runId, "--db", schema.url])
      expect(locked.code, locked.stderr).toBe(5)
      expect(locked.stderr).toContain("locked by another process")
      expect(locked.stderr).toContain("55P03")
    } finally {
      release()
      await holder
    }
    const resumed = await cli(dir, ["execute", runId, "--json", "--db", schema.url])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.json().run.status).toBe("done")
  }, 60_000)

  it("adds the lock timeout to a URL's server options, keeping what the URL sets", () => {
    expect(withLockTimeout("postgres://u@db:5432/trades", 10_000)).toBe("postgres://u@db:5432/trades?options=-c+lock_timeout%3D10000")
    const scoped = withLockTimeout("postgres://u@db/trades?options=-c%20search_path%3Dtrading&sslmode=require", 2_500)
    expect(new URL(scoped).searchParams.get("options")).toBe("-c search_path=trading -c lock_timeout=2500")
    expect(new URL(scoped).searchParams.get("sslmode")).toBe("require")
    const own = "postgres://u@db/trades?options=-c%20lock_timeout%3D0"
    expect(withLockTimeout(own, 10_000)).toBe(own)
  })
})
