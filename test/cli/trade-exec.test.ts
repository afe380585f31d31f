/**
 * `trade-exec` end to end: the built command in a child process, on temp directories, with a real SQLite
 * file. Every command and exit code; a second execute changes nothing; malformed input of every kind is
 * refused with a message naming what is wrong, and leaves nothing behind.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Option } from "effect"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { dbArgument, pricesArgument, venueArguments } from "../../adapters/cli/output.js"
import { build, cli, start, workspace } from "../support/cli.js"

beforeAll(() => build(), 120_000)

const ITEMS = "symbol,weight,sector\nAAA,0.2,Tech\nBBB,0.1,Health\n"
const PRICES = "symbol,price,volume\nAAA,50,1000000\nBBB,33,1000000\n"
const origin = () => workspace({ "items.csv": ITEMS, "prices.csv": PRICES })
const RUN = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000", "--cash-buffer", "0.1"]

/** Every row of the database, to compare before and after. */
const dump = (dir: string, db = "trade-exec.db") => {
  const conn = new Database(join(dir, db), { readonly: true })
  try {
    const tables = ["decision_snapshots", "snapshot_items", "trade_runs", "trade_run_documents", "trade_orders", "trade_fills", "audit_events", "paper_orders", "paper_positions", "paper_account"]
    return JSON.stringify(tables.map((t) => conn.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()))
  } finally {
    conn.close()
  }
}

const sql = (dir: string, statement: string) => {
  const conn = new Database(join(dir, "trade-exec.db"))
  try {
    conn.prepare(statement).run()
  } finally {
    conn.close()
  }
}

describe("trade-exec", () => {
  it("runs the origin case on the default database and prints one JSON document", async () => {
    const dir = origin()
    const result = await cli(dir, [...RUN, "--json"])
    expect(result.code, result.stderr).toBe(0)
    expect(existsSync(join(dir, "trade-exec.db"))).toBe(true)
    const doc = result.json()
    expect(doc.run).toMatchObject({ status: "done", error: null, mode: "paper" })
    expect(doc.run.params).toMatchObject({ portfolioValue: "10000", cashBufferRatio: "0.1" })
    expect(doc.orders.map((o: any) => [o.symbol, o.side, o.quantity, o.orderType, o.limitPrice, o.status, o.filledQuantity, o.avgFillPrice, o.rejectReason]))
      .toEqual([["AAA", "BUY", "36", "MKT", null, "FILLED", "36", "50", null], ["BBB", "BUY", "27", "MKT", null, "FILLED", "27", "33", null]])
    expect(doc.fills.map((f: any) => [f.executionId, f.symbol, f.quantity, f.price, f.commission]))
      .toEqual(doc.orders.map((o: any) => [`${o.clientOrderId}-F1`, o.symbol, o.quantity, o.avgFillPrice, "0"]))
    expect(doc.risk).toEqual({ passed: true, policy: "block_run", violations: [], reasons: [] })
    expect(doc.skipped).toEqual([])
  })

  it("prints a report for people: summary, orders, risk verdict and skips", async () => {
    const dir = workspace({ "items.csv": ITEMS + "CCC,0.1,Tech\n", "prices.csv": PRICES })
    const result = await cli(dir, [...RUN, "--commission", "ib-fixed"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^run run_\S+ {2}done {2}orders 2 \(2 filled\) {2}bought 2,691\.00 {2}sold 0\.00 {2}commissions 2\.00/)
    expect(result.stdout).toContain("SYMBOL  SIDE  QUANTITY  REF PRICE  NOTIONAL  STATUS  FILLED  AVG PRICE")
    expect(result.stdout).toMatch(/AAA\s+BUY\s+36\s+50\s+1,800\.00\s+FILLED\s+36\s+50/)
    expect(result.stdout).toContain("risk: passed (block_run, 0 violation(s))")
    expect(result.stdout).toContain("skipped: 1\n  CCC  missing_price")
  })

  it("dry-runs, then executes the same orders; a second execute changes nothing", async () => {
    const dir = origin()
    const dry = await cli(dir, [...RUN, "--dry-run", "--json"])
    expect(dry.code, dry.stderr).toBe(0)
    const { run, orders } = dry.json()
    expect(run.status).toBe("queued")
    expect(orders.map((o: any) => o.status)).toEqual(["NEW", "NEW"])

    const executed = await cli(dir, ["execute", run.id, "--json"])
    expect(executed.code, executed.stderr).toBe(0)
    expect(executed.json().run.status).toBe("done")
    expect(executed.json().orders.map((o: any) => o.clientOrderId)).toEqual(orders.map((o: any) => o.clientOrderId))

    const before = dump(dir)
    const again = await cli(dir, ["execute", run.id, "--json"])
    expect(again.code).toBe(0)
    expect(again.json()).toEqual(executed.json())
    expect(dump(dir)).toBe(before)
  })

  it("exits 3 when risk blocks the run, with every reason", async () => {
    const dir = origin()
    const result = await cli(dir, [...RUN, "--max-order-notional", "1000", "--json"])
    expect(result.code).toBe(3)
    const doc = result.json()
    expect(doc.run.status).toBe("blocked")
    expect(doc.risk.violations).toEqual([{ rule: "max_order_notional", symbol: "AAA", limit: "1000", actual: "1800" }])
    expect(doc.orders.map((o: any) => [o.symbol, o.status, o.rejectReason])).toEqual([["AAA", "REJECTED", "max_order_notional:AAA"], ["BBB", "CANCELED", "run_blocked"]])
  })

  it("takes risk limits from a JSON file, with flags overriding it", async () => {
    const files = { "items.csv": ITEMS, "prices.csv": PRICES, "risk.json": '{"max_order_notional": 1000, "policy": "drop_orders"}' }
    const dropped = await cli(workspace(files), [...RUN, "--risk", "risk.json", "--json"])
    expect(dropped.code).toBe(0)
    expect(dropped.json().orders.map((o: any) => o.status)).toEqual(["REJECTED", "FILLED"])
    const overridden = await cli(workspace(files), [...RUN, "--risk", "risk.json", "--max-order-notional", "5000", "--json"])
    expect(overridden.json().orders.map((o: any) => o.status)).toEqual(["FILLED", "FILLED"])
  })

  it("fits the decision to its limits under --risk-policy fit: the fitted orders, a fitted section, the JSON fit, a replay that rebuilds it", async () => {
    const dir = workspace({ "items.csv": "symbol,weight,sector\nAAA,0.06,Tech\nBBB,0.06,Tech\nCCC,0.03,Health\n", "prices.csv": "symbol,price\nAAA,10\nBBB,10\nCCC,10\n" })
    const fit = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000", "--max-sector-weight", "0.1", "--risk-policy", "fit"]
    const result = await cli(dir, [...fit, "--json"])
    expect(result.code, result.stderr).toBe(0)
    const doc = result.json()
    expect(doc.orders.map((o: any) => `${o.symbol} ${o.side} ${o.quantity} ${o.status}`)).toEqual(["AAA BUY 500 FILLED", "BBB BUY 500 FILLED", "CCC BUY 300 FILLED"])
    expect(doc.fit).toEqual({
      adjustments: [
        { rule: "max_sector_weight", sector: "Tech", from: "0.12", to: "0.1", factor: "0.833333333333333333" },
        { rule: "max_sector_weight", symbol: "AAA", sector: "Tech", from: "0.06", to: "0.05", factor: "0.833333333333333333" },
        { rule: "max_sector_weight", symbol: "BBB", sector: "Tech", from: "0.06", to: "0.05", factor: "0.833333333333333333" }
      ],
      unmet: []
    })
    expect(doc.risk).toMatchObject({ passed: true, policy: "fit", violations: [] })
    expect(doc.run.params.riskPolicy).toBe("fit")

    const shown = await cli(dir, ["show", doc.run.id])
    expect(shown.stdout).toContain(
      "fitted: 3 move(s) onto the limits\n  max_sector_weight  Tech  0.12 → 0.1  × 0.833333333333333333\n" +
        "  max_sector_weight  AAA (Tech)  0.06 → 0.05  × 0.833333333333333333\n  max_sector_weight  BBB (Tech)  0.06 → 0.05  × 0.833333333333333333"
    )
    const replay = await cli(dir, ["replay", doc.run.id])
    expect(replay.code, replay.stdout).toBe(0)
    expect(replay.stdout).toContain("fit rebuilt from the record: identical")
    const events = (await cli(dir, ["audit", doc.run.id, "--json"])).json().events
    expect(events.find((e: any) => e.type === "trade_run.orders_built").payload.fit).toEqual(doc.fit)

    // The same decision under block_run is blocked by the sector cap; a plain run has no fit section.
    const blocked = await cli(dir, [...fit.slice(0, -2), "--json"])
    expect(blocked.code).toBe(3)
    expect(blocked.json().fit).toBeNull()
  })

  it("scales every trade onto --max-turnover and skips a trade inside --min-trade-weight as within_band", async () => {
    const dir = workspace({ "items.csv": "symbol,weight\nAAA,0.06\nBBB,0.0005\nCCC,0.02\n", "prices.csv": "symbol,price\nAAA,10\nBBB,10\nCCC,10\n" })
    const result = await cli(dir, [
      "run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000",
      "--risk-policy", "fit", "--max-turnover", "0.06", "--min-trade-weight", "0.001", "--json"
    ])
    expect(result.code, result.stderr).toBe(0)
    const doc = result.json()
    // 0.08 traded (BBB's 0.0005 is inside the band and takes no share) onto 0.06: every trade × 0.75.
    expect(doc.fit.adjustments).toEqual([{ rule: "max_turnover", from: "0.08", to: "0.06", factor: "0.75" }])
    expect(doc.orders.map((o: any) => `${o.symbol} ${o.quantity} ${o.status}`)).toEqual(["AAA 450 FILLED", "CCC 150 FILLED"])
    expect(doc.skipped).toEqual([{ symbol: "BBB", reason: "within_band", detail: "0.0005 < 0.001 of the portfolio" }])
  })

  it("takes the policy, max_turnover and min_trade_weight from the risk file in either spelling, --risk-policy overriding the policy", async () => {
    const files = {
      "items.csv": "symbol,weight\nAAA,0.0205\nBBB,0.05\n",
      "prices.csv": "symbol,price\nAAA,10\nBBB,10\n",
      "positions.csv": "symbol,quantity\nAAA,200\n",
      "snake.json": '{"policy": "fit", "max_turnover": 0.03, "min_trade_weight": 0.001}',
      "camel.json": '{"policy": "fit", "maxTurnover": "0.03", "minTradeWeight": "0.001"}'
    }
    const run = ["run", "--items", "items.csv", "--prices", "prices.csv", "--positions", "positions.csv", "--portfolio-value", "100000", "--json"]
    for (const file of ["snake.json", "camel.json"]) {
      const result = await cli(workspace(files), [...run, "--risk", file])
      expect(result.code, result.stderr).toBe(0)
      const doc = result.json()
      // AAA is within the band (0.0005 < 0.001) and takes no turnover; BBB's 0.05 is cut to the cap of 0.03.
      expect(doc.skipped).toEqual([{ symbol: "AAA", reason: "within_band", detail: "0.0005 < 0.001 of the portfolio" }])
      expect(doc.orders.map((o: any) => `${o.symbol} ${o.side} ${o.quantity}`)).toEqual(["BBB BUY 300"])
      expect(doc.fit.adjustments).toEqual([{ rule: "max_turnover", from: "0.05", to: "0.03", factor: "0.6" }])
    }
    const overridden = await cli(workspace(files), [...run, "--risk", "snake.json", "--risk-policy", "block_run"])
    expect(overridden.code).toBe(3)
    expect(overridden.json().risk.violations).toEqual([{ rule: "max_turnover", symbol: null, limit: "0.03", actual: "0.05" }])
    expect(overridden.json().skipped.map((s: any) => s.reason)).toEqual(["within_band"])
  })

  it("names the risk file's key when a fraction is out of range", async () => {
    const dir = workspace({ "items.csv": ITEMS, "prices.csv": PRICES, "risk.json": '{"min_trade_weight": 1}' })
    const result = await cli(dir, [...RUN, "--risk", "risk.json"])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/risk\.json.*(min_trade_weight|minTradeWeight).*at least 0 and less than 1/)
  })

  it("exits 4 when the run fails, and says why", async () => {
    const dir = origin()
    const dry = (await cli(dir, [...RUN, "--dry-run", "--json"])).json()
    sql(dir, `UPDATE snapshot_items SET weight = '0.9' WHERE snapshot_id = '${dry.run.snapshotId}' AND symbol = 'AAA'`)
    const result = await cli(dir, ["execute", dry.run.id])
    expect(result.code).toBe(4)
    expect(result.stdout).toContain("failed")
    expect(result.stdout).toContain("changed after it was frozen")
  })

  it("exits 5 for a run another process holds, without failing it", async () => {
    const dir = origin()
    const dry = (await cli(dir, [...RUN, "--dry-run", "--json"])).json()
    sql(dir, `UPDATE trade_runs SET status = 'running', lease_owner = 'another-host-42', lease_expires_at = '2999-01-01T00:00:00.000Z' WHERE id = '${dry.run.id}'`)
    const result = await cli(dir, ["execute", dry.run.id])
    expect(result.code).toBe(5)
    expect(result.stderr).toContain("is held by another-host-42")
    expect(result.stderr).toContain("has not failed")
    expect((await cli(dir, ["show", dry.run.id, "--json"])).json().run.status).toBe("running")
  })

  it("shows a run, lists runs, prints and verifies the audit trail, and replays", async () => {
    const dir = origin()
    const { run } = (await cli(dir, [...RUN, "--json"])).json()
    const show = await cli(dir, ["show", run.id, "--json"])
    expect(show.code).toBe(0)
    expect(show.json().orders).toHaveLength(2)
    const human = await cli(dir, ["show", run.id])
    expect(human.stdout).toContain(`run ${run.id}  done`)

    const runs = await cli(dir, ["runs", "--json"])
    expect(runs.json().runs.map((r: any) => [r.id, r.status])).toEqual([[run.id, "done"]])
    expect((await cli(dir, ["runs"])).stdout).toContain(run.id)

    const audit = await cli(dir, ["audit", run.id, "--verify", "--json"])
    expect(audit.code).toBe(0)
    const doc = audit.json()
    expect(doc.verification.ok).toBe(true)
    expect(doc.events.map((e: any) => e.type)).toContain("trade_run.execute")
    expect((await cli(dir, ["audit", run.id, "--verify"])).stdout).toContain("chain verified")

    const replay = await cli(dir, ["replay", run.id, "--json"])
    expect(replay.code).toBe(0)
    expect(replay.json()).toMatchObject({ matches: true, ordersMatch: true, auditMatches: true, fillsMatch: true })
  })

  it("exits 1 when the audit chain is broken or a replay differs, naming what", async () => {
    const dir = origin()
    const { run, orders } = (await cli(dir, [...RUN, "--json"])).json()
    sql(dir, `UPDATE trade_orders SET quantity = '35' WHERE client_order_id = '${orders[0].clientOrderId}'`)
    const replay = await cli(dir, ["replay", run.id])
    expect(replay.code).toBe(1)
    expect(replay.stdout).toContain(`${orders[0].clientOrderId} AAA quantity: persisted 35, rebuilt 36`)
    sql(dir, "UPDATE audit_events SET type = 'forged' WHERE seq = 2")
    const audit = await cli(dir, ["audit", run.id, "--verify"])
    expect(audit.code).toBe(1)
    expect(audit.stdout).toContain("chain BROKEN at event #2")
  })

  it.each([["execute"], ["show"], ["audit"], ["replay"]])("%s of an unknown run id is invalid input naming it", async (command) => {
    const dir = origin()
    await cli(dir, [...RUN, "--dry-run"])
    const result = await cli(dir, [command, "run_does_not_exist"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("run_does_not_exist")
  })

  it("drains queued runs with a worker, never sending a run sized from the account before another traded", async () => {
    const dir = origin()
    const first = (await cli(dir, [...RUN, "--dry-run", "--json"])).json().run.id
    const second = (await cli(dir, [...RUN, "--dry-run", "--json"])).json().run.id
    const worker = await cli(dir, ["worker", "--drain", "--json"])
    expect(worker.code, worker.stderr).toBe(0)
    // Both were sized from the same account: once the first has bought its targets, the second would buy
    // them again, so it fails with nothing sent.
    expect(worker.json().executed.map((s: any) => [s.runId, s.status])).toEqual([[first, "done"], [second, "failed"]])
    const shown = (await cli(dir, ["show", second, "--json"])).json()
    expect(shown.run.error).toContain(`run ${first} has traded on the account since`)
    expect(shown.orders.every((o: any) => o.status === "CANCELED" && o.rejectReason === "run_failed")).toBe(true)
  })

  /** A decision of `n` names, each of `weight`, priced 10 to 99. */
  const decisionOf = (n: number, weight: string) => {
    const names = Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, "0")}`)
    return workspace({
      "items.csv": ["symbol,weight", ...names.map((s) => `${s},${weight}`)].join("\n"),
      "prices.csv": ["symbol,price", ...names.map((s, i) => `${s},${10 + (i % 90)}`)].join("\n")
    })
  }

  it("prints a large run's document whole through a pipe", async () => {
    // 2,000 orders: a document of over 1 MB, far more than a pipe holds at once (64 KiB).
    const dir = decisionOf(2000, "0.0004")
    const result = await cli(dir, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000000", "--json"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.length).toBeGreaterThan(1_000_000)
    expect(result.json().orders).toHaveLength(2000)
    const shown = await cli(dir, ["show", result.json().run.id])
    expect(shown.stdout.trimEnd().split("\n").length).toBeGreaterThan(2000)
  })

  it("stops a run at its next step on Ctrl-C, exits 130, and a later execute sends the rest, each order once", async () => {
    // Enough orders (40 batches) that the run is still sending when the signal comes.
    const n = 20_000
    const dir = decisionOf(n, "0.00004")
    const running = start(dir, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000000"])
    // The signal once the first orders are out, as a person watching the progress would send it.
    const sent = () => {
      if (!existsSync(join(dir, "trade-exec.db"))) return 0
      const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
      try {
        return (conn.prepare("SELECT count(*) AS n FROM trade_orders WHERE status <> 'NEW'").get() as { n: number }).n
      } catch {
        return 0 // the schema is not there yet
      } finally {
        conn.close()
      }
    }
    while (sent() === 0 && running.child.exitCode === null) await new Promise((r) => setTimeout(r, 10))
    running.child.kill("SIGINT")
    const stopped = await running.result
    expect(stopped.code, stopped.stderr).toBe(130)
    const runId = /run (run_\w+) is left running/.exec(stopped.stderr)?.[1]
    expect(runId, stopped.stderr).toBeDefined()
    expect(stopped.stderr).toContain(`Resume it with: trade-exec execute ${runId}`)

    const left = new Database(join(dir, "trade-exec.db"), { readonly: true })
    const counts = () => left.prepare("SELECT status, count(*) AS n FROM trade_orders GROUP BY status").all()
    try {
      expect(left.prepare("SELECT status FROM trade_runs WHERE id = ?").get(runId)).toEqual({ status: "running" })
      const statuses = Object.fromEntries(counts().map((r: any) => [r.status, r.n]))
      expect(statuses.NEW, JSON.stringify(statuses)).toBeGreaterThan(0)

      const resumed = await cli(dir, ["execute", runId!, "--json"])
      expect(resumed.code, resumed.stderr).toBe(0)
      // Its document (~13 MB) comes through the pipe whole: the command exits once stdout has drained.
      expect(resumed.json().run.status).toBe("done")
      expect(resumed.json().orders).toHaveLength(n)
      expect(counts()).toEqual([{ status: "FILLED", n: n }])
      // The paper broker was handed each order once, and each order has its one fill.
      expect(left.prepare("SELECT count(*) AS n, count(DISTINCT client_order_id) AS ids FROM paper_orders").get()).toEqual({ n, ids: n })
      expect(left.prepare("SELECT count(*) AS n, count(DISTINCT client_order_id) AS ids FROM trade_fills").get()).toEqual({ n, ids: n })
    } finally {
      left.close()
    }
    const audit = await cli(dir, ["audit", runId!, "--verify", "--json"])
    expect(audit.json().verification.ok).toBe(true)
    expect((await cli(dir, ["replay", runId!, "--json"])).json()).toMatchObject({ matches: true })
  })

  it("stops a run on Ctrl-C before its orders are saved, and the command it prints resumes it", async () => {
    const n = 20_000
    const dir = decisionOf(n, "0.00004")
    const running = start(dir, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000000"])
    // The signal once the run is claimed and before its orders are in: it is reading its snapshot back,
    // building, or saving (a save is undone when it is interrupted).
    const db = join(dir, "trade-exec.db")
    const state = () => {
      if (!existsSync(db)) return undefined
      const conn = new Database(db, { readonly: true })
      try {
        const run = conn.prepare("SELECT status FROM trade_runs").get() as { status: string } | undefined
        const orders = (conn.prepare("SELECT count(*) AS n FROM trade_orders").get() as { n: number }).n
        return { status: run?.status, orders }
      } catch {
        return undefined // the schema is not there yet
      } finally {
        conn.close()
      }
    }
    while (state()?.status !== "running" && running.child.exitCode === null) await new Promise((r) => setTimeout(r, 5))
    running.child.kill("SIGINT")
    const stopped = await running.result
    expect(stopped.code, stopped.stderr).toBe(130)
    expect(state()).toEqual({ status: "running", orders: 0 })
    // Nothing recorded its prices yet: the command names the file.
    const command = /Resume it with: trade-exec (execute .*)$/m.exec(stopped.stderr)?.[1]
    expect(command, stopped.stderr).toMatch(/^execute run_\w+ --prices prices\.csv$/)

    const resumed = await cli(dir, [...command!.split(" "), "--json"])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.json().run.status).toBe("done")
    expect(resumed.json().orders).toHaveLength(n)
    const left = new Database(db, { readonly: true })
    try {
      expect(left.prepare("SELECT count(*) AS n, count(DISTINCT client_order_id) AS ids FROM paper_orders").get()).toEqual({ n, ids: n })
    } finally {
      left.close()
    }
  })

  it("names the database and the prices in a resume command as a shell takes them, without a URL's password", () => {
    expect(pricesArgument("prices.csv")).toBe(" --prices prices.csv")
    expect(pricesArgument("in/today's prices.csv")).toBe(` --prices 'in/today'\\''s prices.csv'`)
    expect(dbArgument("trade-exec.db")).toBe("")
    expect(dbArgument("runs/today.db")).toBe(" --db runs/today.db")
    expect(dbArgument("my runs/it's.db")).toBe(` --db 'my runs/it'\\''s.db'`)
    expect(dbArgument("postgres://trader:s3cret@db:5432/trades")).toBe(" --db postgres://trader:PASSWORD@db:5432/trades")
    expect(dbArgument("postgres://db/trades?sslmode=require")).toBe(" --db 'postgres://db/trades?sslmode=require'")
  })

  it("names the venue in a follow or resume command, so the run meets the same broker with the same costs", () => {
    const paper = { provider: "paper", commission: "none", slippageBps: Option.none<string>() } as const
    expect(venueArguments(paper)).toBe("")
    expect(venueArguments({ ...paper, commission: "ib-fixed", slippageBps: Option.some("2") })).toBe(" --commission ib-fixed --slippage-bps 2")
    // The paper broker's costs mean nothing to LEAN, which has its own.
    expect(venueArguments({ ...paper, provider: "lean", commission: "ib-fixed" })).toBe(" --provider lean")
  })

  it("stops a waiting worker on SIGTERM with exit code 143", async () => {
    const dir = origin()
    await cli(dir, [...RUN, "--dry-run"]) // the database exists, its queue is empty once drained
    expect((await cli(dir, ["worker", "--drain"])).code).toBe(0)
    const worker = start(dir, ["worker"])
    // It says when it is up (its signal handlers are installed before it says anything).
    while (!worker.stderr().includes("trade worker waiting for queued runs") && worker.child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(worker.child.exitCode, worker.stderr()).toBeNull()
    worker.child.kill("SIGTERM")
    expect((await worker.result).code).toBe(143)
  })

  it("rebalances a later run from the paper account an earlier run left", async () => {
    const dir = origin()
    expect((await cli(dir, [...RUN])).code).toBe(0)
    const next = await cli(dir, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000", "--json"])
    // AAA 36 → 40, BBB 27 → 30, from the paper account's positions and cash
    expect(next.json().orders.map((o: any) => `${o.symbol} ${o.side} ${o.quantity}`)).toEqual(["AAA BUY 4", "BBB BUY 3"])
  })

  it("draws progress on a terminal, and none when stderr is not one", async () => {
    const dir = origin()
    // `script` gives the command a pseudo-terminal, as a person at a shell would.
    const tty = await new Promise<string>((resolve) => {
      const command = ["node", join(process.cwd(), "bin", "trade-exec.js"), ...RUN].map((a) => `'${a}'`).join(" ")
      execFile("script", ["-qec", command, "/dev/null"], { cwd: dir }, (_, stdout) => resolve(stdout))
    })
    expect(tty).toContain("built 2 orders")
    expect(tty).toContain("submitted 2/2 orders")
    const piped = await cli(origin(), RUN)
    expect(piped.stderr).toBe("")
  })

  it("reads the lease length from TRADE_EXEC_LEASE_SECONDS and refuses a bad one", async () => {
    const dir = origin()
    expect((await cli(dir, RUN, { TRADE_EXEC_LEASE_SECONDS: "5" })).code).toBe(0)
    const bad = await cli(dir, RUN, { TRADE_EXEC_LEASE_SECONDS: "soon" })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("TRADE_EXEC_LEASE_SECONDS")
  })
})

describe.concurrent("trade-exec refuses bad input, naming what is wrong, and writes nothing", () => {
  const files = { "items.csv": ITEMS, "prices.csv": PRICES, "positions.csv": "symbol,quantity\nAAA,10\n", "securities.csv": "symbol,lot_size\nAAA,1\n" }
  const cases: ReadonlyArray<readonly [string, Record<string, string>, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["a missing --items", {}, ["run", "--prices", "prices.csv", "--portfolio-value", "10000"], ["items"]],
    ["an unknown flag", {}, [...RUN, "--frobnicate"], ["frobnicate"]],
    ["an unknown command", {}, ["launch"], ["Invalid subcommand", "run", "execute"]],
    ["execute without a run id", {}, ["execute"], ["RUN_ID"]],
    ["a non-numeric --portfolio-value", {}, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "ten"], ["--portfolio-value", "not a finite decimal number", "ten"]],
    ["a negative --portfolio-value", {}, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "-5"], ["--portfolio-value", "greater than zero"]],
    ["a zero --portfolio-value", {}, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "0"], ["--portfolio-value", "greater than zero"]],
    ["a --cash-buffer of 1", {}, [...RUN.slice(0, -2), "--cash-buffer", "1"], ["--cash-buffer", "less than 1"]],
    ["a NaN --cash", {}, [...RUN, "--cash", "NaN"], ["--cash", "not a finite decimal number"]],
    ["a zero --lot-size", {}, [...RUN, "--lot-size", "0"], ["--lot-size", "greater than zero"]],
    ["an unknown --order-type", {}, [...RUN, "--order-type", "STP"], ["--order-type", "must be MKT or LMT", "STP"]],
    ["LMT without an offset", {}, [...RUN, "--order-type", "LMT"], ["--order-type", "--limit-offset-bps"]],
    ["an unknown --commission", {}, [...RUN, "--commission", "cheap"], ["--commission", "ib-fixed, ib-tiered or none", "cheap"]],
    ["a negative --slippage-bps", {}, [...RUN, "--slippage-bps", "-1"], ["--slippage-bps", "at least 0 and below 10000"]],
    ["a non-numeric --max-order-notional", {}, [...RUN, "--max-order-notional", "lots"], ["--max-order-notional", "lots"]],
    ["an infinite --max-position-ratio", {}, [...RUN, "--max-position-ratio", "Infinity"], ["--max-position-ratio"]],
    ["a missing items file", {}, ["run", "--items", "nope.csv", "--prices", "prices.csv", "--portfolio-value", "10000"], ["nope.csv", "does not exist"]],
    ["a missing prices file", {}, ["run", "--items", "items.csv", "--prices", "gone.csv", "--portfolio-value", "10000"], ["gone.csv", "does not exist"]],
    ["an items file with only a header", { "items.csv": "symbol,weight\n" }, RUN, ["items.csv", "no rows"]],
    ["an empty items file", { "items.csv": "" }, RUN, ["items.csv"]],
    ["an items file without a weight column", { "items.csv": "symbol,score\nAAA,1\n" }, RUN, ["items.csv", "weight"]],
    ["a non-numeric weight", { "items.csv": "symbol,weight\nAAA,0.2\nBBB,abc\n" }, RUN, ["items.csv row 3, weight", "abc"]],
    ["a NaN weight", { "items.csv": "symbol,weight\nAAA,NaN\n" }, RUN, ["items.csv row 2, weight"]],
    ["an infinite weight", { "items.csv": "symbol,weight\nAAA,Infinity\n" }, RUN, ["items.csv row 2, weight"]],
    ["an empty symbol", { "items.csv": "symbol,weight\n,0.2\n" }, RUN, ["items.csv row 2, symbol", "empty"]],
    ["a duplicate symbol", { "items.csv": "symbol,weight\nAAA,0.1\n aaa ,0.1\n" }, RUN, ["items.csv row 3, symbol", "appears twice"]],
    ["an unterminated quote", { "items.csv": 'symbol,weight\n"AAA,0.1\n' }, RUN, ["items.csv"]],
    ["a row with too many fields", { "items.csv": "symbol,weight\nAAA,0.1,9\n" }, RUN, ["items.csv row 2"]],
    ["a negative price", { "prices.csv": "symbol,price\nAAA,-50\nBBB,33\n" }, RUN, ["prices.csv row 2, price", "greater than zero"]],
    ["a prices file without a price column", { "prices.csv": "symbol,last\nAAA,50\n" }, RUN, ["prices.csv", "price"]],
    ["an unreadable price time", { "prices.csv": "symbol,price,time\nAAA,50,yesterday\n" }, RUN, ["prices.csv row 2, time", "yesterday"]],
    ["a non-numeric position", { "positions.csv": "symbol,quantity\nAAA,many\n" }, [...RUN, "--positions", "positions.csv"], ["positions.csv row 2, quantity", "many"]],
    ["a zero lot size in the securities file", { "securities.csv": "symbol,lot_size\nAAA,0\n" }, [...RUN, "--securities", "securities.csv"], ["securities.csv row 2, lot_size", "greater than zero"]],
    ["a risk file that is not JSON", { "risk.json": "{max: 1" }, [...RUN, "--risk", "risk.json"], ["risk.json", "not valid JSON"]],
    ["a risk file with an unknown limit", { "risk.json": '{"max_order_notionl": 5}' }, [...RUN, "--risk", "risk.json"], ["risk.json", "max_order_notionl", "not a risk limit"]],
    ["a risk file with a negative limit", { "risk.json": '{"max_order_notional": -5}' }, [...RUN, "--risk", "risk.json"], ["risk.json", "max_order_notional", "greater than zero"]],
    ["a risk file with an unknown policy", { "risk.json": '{"policy": "yolo"}' }, [...RUN, "--risk", "risk.json"], ["risk.json", "policy", "block_run, drop_orders or fit"]],
    ["a risk file with a non-numeric max turnover", { "risk.json": '{"maxTurnover": "lots"}' }, [...RUN, "--risk", "risk.json"], ["risk.json", "maxTurnover"]],
    ["a risk file with a negative min_trade_weight", { "risk.json": '{"min_trade_weight": -0.01}' }, [...RUN, "--risk", "risk.json"], ["risk.json", "min_trade_weight", "at least 0"]],
    ["an unknown --risk-policy", {}, [...RUN, "--risk-policy", "yolo"], ["--risk-policy", "block_run, drop_orders or fit", "yolo"]],
    ["a negative --min-trade-weight", {}, [...RUN, "--min-trade-weight", "-0.001"], ["--min-trade-weight", "at least 0 and less than 1"]],
    ["a --min-trade-weight of 1", {}, [...RUN, "--min-trade-weight", "1"], ["--min-trade-weight", "less than 1"]],
    ["a non-numeric --min-trade-weight", {}, [...RUN, "--min-trade-weight", "tiny"], ["--min-trade-weight", "not a finite decimal number", "tiny"]],
    ["a zero --max-turnover", {}, [...RUN, "--max-turnover", "0"], ["--max-turnover", "greater than zero"]],
    ["a non-numeric --max-turnover", {}, [...RUN, "--max-turnover", "half"], ["--max-turnover", "not a finite decimal number", "half"]],
    ["a held symbol without a price to value it", { "positions.csv": "symbol,quantity\nZZZ,10\n" }, [...RUN, "--positions", "positions.csv"], ["ZZZ", "cash"]],
    ["a database in a directory that does not exist", {}, [...RUN, "--db", "no/such/dir/x.db"], ["no/such/dir/x.db"]]
  ]

  it("covers at least 30 malformed inputs", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30)
  })

  it.each(cases)("refuses %s", async (_, overrides, args, mentions) => {
    const dir = workspace({ ...files, ...overrides })
    const result = await cli(dir, args)
    expect(result.code, result.stdout + result.stderr).toBe(2)
    for (const text of mentions) expect(result.stderr + result.stdout).toContain(text)
    expect(existsSync(join(dir, "trade-exec.db")), "nothing written").toBe(false)
    if (args.includes("no/such/dir/x.db")) expect(existsSync(join(dir, "no"))).toBe(false)
  }, 60_000)
})
