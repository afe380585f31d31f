/**
 * A run follows its orders to the end, through the built `trade-exec` in child processes on a real SQLite
 * file: a passive limit rests on the paper broker and is filled by a later execute whose prices cross it; a
 * deadline cancels what still works; cancel of a queued, a running and a finished run; reconcile; one
 * account, one run trading; a worker that executes a dry-run run on the prices it recorded.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { build, cli, start, workspace } from "../support/cli.js"

beforeAll(() => build(), 120_000)

const ITEMS = "symbol,weight\nAAA,0.3\nBBB,0.2\n"
const PRICES = "symbol,price\nAAA,10\nBBB,20\n"
/** Both limits (50 bps under the reference) are crossed. */
const CROSSING = "symbol,price\nAAA,9.9\nBBB,19.8\n"
/** Only AAA's limit (9.95) is crossed. */
const HALF = "symbol,price\nAAA,9.9\nBBB,20.5\n"
const RUN = ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000"]
const RESTING = [...RUN, "--order-type", "LMT", "--limit-offset-bps", "-50"]

const files = () => workspace({ "i.csv": ITEMS, "p.csv": PRICES, "crossing.csv": CROSSING, "half.csv": HALF })

/** Every table but the audit log, to compare before and after. */
const tables = (dir: string) => {
  const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
  try {
    const names = ["decision_snapshots", "snapshot_items", "trade_runs", "trade_run_documents", "trade_orders", "trade_fills", "paper_orders", "paper_positions", "paper_account"]
    return JSON.stringify(names.map((t) => conn.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()))
  } finally {
    conn.close()
  }
}

const orders = (doc: any) => doc.orders.map((o: any) => `${o.symbol} ${o.status} ${o.filledQuantity}${o.rejectReason ? ` ${o.rejectReason}` : ""}`)

describe("a run follows its orders to the end (trade-exec)", () => {
  it("rests a passive limit, leaves it untouched at the same prices, fills it when prices cross, and then writes nothing more", async () => {
    const dir = files()
    const first = await cli(dir, [...RESTING, "--json"])
    expect(first.code, first.stderr).toBe(6)
    const doc = first.json()
    const runId = doc.run.id
    expect(doc.run.status).toBe("running")
    expect(orders(doc)).toEqual(["AAA SUBMITTED 0", "BBB SUBMITTED 0"])
    expect(first.stderr).toContain(`2 orders still work`)
    expect(first.stderr).toContain(`trade-exec execute ${runId}`)
    expect(first.stderr).toContain(`trade-exec cancel ${runId}`)

    const before = tables(dir)
    const same = await cli(dir, ["execute", runId, "--json"])
    expect(same.code, same.stderr).toBe(6)
    expect(orders(same.json())).toEqual(["AAA SUBMITTED 0", "BBB SUBMITTED 0"])
    const after = JSON.parse(tables(dir))
    const beforeRows = JSON.parse(before)
    // Only the run's own row moves (its lease taken and given back, its next check): no order, fill or book row.
    expect(after.filter((_: unknown, i: number) => i !== 2)).toEqual(beforeRows.filter((_: unknown, i: number) => i !== 2))

    const half = await cli(dir, ["execute", runId, "--prices", "half.csv"])
    expect(half.code, half.stderr).toBe(6)
    expect(half.stderr).toContain("1 order still works at the venue")

    const crossed = await cli(dir, ["execute", runId, "--prices", "crossing.csv", "--json"])
    expect(crossed.code, crossed.stderr).toBe(0)
    const filled = crossed.json()
    expect(filled.run.status).toBe("done")
    expect(orders(filled)).toEqual(["AAA FILLED 30", "BBB FILLED 10"])
    for (const o of filled.orders) expect(Number(o.avgFillPrice)).toBeLessThanOrEqual(Number(o.limitPrice))

    const done = tables(dir)
    const again = await cli(dir, ["execute", runId, "--prices", "crossing.csv"])
    expect(again.code).toBe(0)
    expect(tables(dir)).toBe(done)
    expect((await cli(dir, ["audit", runId, "--verify"])).code).toBe(0)
    const replay = await cli(dir, ["replay", runId, "--json"])
    expect(replay.code, replay.stdout).toBe(0)
  })

  it("cancels what still works once --cancel-after has passed, keeping what filled", async () => {
    const dir = files()
    const first = await cli(dir, [...RESTING, "--cancel-after", "1s", "--json"])
    expect(first.code, first.stderr).toBe(6)
    const runId = first.json().run.id
    await new Promise((resolve) => setTimeout(resolve, 1100))
    // The check after the deadline: AAA's limit is reached and fills; BBB's never is, and is canceled.
    const late = await cli(dir, ["execute", runId, "--prices", "half.csv", "--json"])
    expect(late.code, late.stderr).toBe(0)
    expect(late.json().run.status).toBe("done")
    expect(orders(late.json())).toEqual(["AAA FILLED 30", "BBB CANCELED 0 deadline"])
    expect(late.json().fills).toHaveLength(1)
    expect((await cli(dir, ["audit", runId, "--verify"])).code).toBe(0)
  })

  it("follows for as long as --wait says before handing the run back running", async () => {
    const dir = files()
    const started = Date.now()
    const result = await cli(dir, [...RESTING, "--wait", "2s"], { TRADE_EXEC_CHECK_SECONDS: "0.5" })
    expect(result.code, result.stderr).toBe(6)
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000)
  })

  it("refuses a bad duration, naming the flag", async () => {
    const dir = files()
    for (const [flag, value] of [["--wait", "soon"], ["--cancel-after", "-5m"], ["--cancel-after", "400d"]] as const) {
      const result = await cli(dir, [...RUN, flag, value])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(flag)
    }
  })
})

describe("trade-exec cancel", () => {
  it("ends a queued run with nothing ever sent", async () => {
    const dir = files()
    const dry = await cli(dir, [...RUN, "--dry-run", "--json"])
    const runId = dry.json().run.id
    const canceled = await cli(dir, ["cancel", runId, "--json"])
    expect(canceled.code, canceled.stderr).toBe(0)
    expect(canceled.json().run.status).toBe("done")
    expect(orders(canceled.json())).toEqual(["AAA CANCELED 0 canceled_by_user", "BBB CANCELED 0 canceled_by_user"])
    const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
    expect(conn.prepare("SELECT COUNT(*) AS n FROM paper_orders").get()).toEqual({ n: 0 })
    conn.close()
  })

  it("cancels a running run's working orders at the venue, keeping the fills, and ends the run", async () => {
    const dir = files()
    const runId = (await cli(dir, [...RESTING, "--json"])).json().run.id
    expect((await cli(dir, ["execute", runId, "--prices", "half.csv"])).code).toBe(6)
    const canceled = await cli(dir, ["cancel", runId, "--json"])
    expect(canceled.code, canceled.stderr).toBe(0)
    expect(canceled.json().run.status).toBe("done")
    expect(orders(canceled.json())).toEqual(["AAA FILLED 30", "BBB CANCELED 0 canceled_by_user"])
    expect((await cli(dir, ["audit", runId, "--verify"])).code).toBe(0)
  })

  it("asks the process following a run to cancel what still works, and that process ends the run", async () => {
    const dir = files()
    const runId = (await cli(dir, [...RESTING, "--json"])).json().run.id
    // Another terminal follows the run for an hour, checking every 200 ms.
    const follower = start(dir, ["execute", runId, "--prices", "half.csv", "--wait", "1h", "--json"], { TRADE_EXEC_CHECK_SECONDS: "0.2" })
    const filled = () => {
      const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
      try {
        return (conn.prepare("SELECT count(*) AS n FROM trade_orders WHERE status = 'FILLED'").get() as { n: number }).n
      } finally {
        conn.close()
      }
    }
    while (filled() === 0 && follower.child.exitCode === null) await new Promise((r) => setTimeout(r, 50))
    const canceled = await cli(dir, ["cancel", runId])
    expect(canceled.code, canceled.stderr).toBe(0)
    expect(canceled.stderr).toMatch(new RegExp(`run ${runId} is held by \\S+ \\(lease until [^)]+\\); the cancel is recorded on the run`))
    const followed = await follower.result
    expect(followed.code, followed.stderr).toBe(0)
    expect(followed.json().run.status).toBe("done")
    expect(orders(followed.json())).toEqual(["AAA FILLED 30", "BBB CANCELED 0 canceled_by_user"])
    const audit = await cli(dir, ["audit", runId, "--json"])
    expect(audit.json().events.map((e: any) => e.type)).toContain("trade_run.cancel_requested")
    expect((await cli(dir, ["audit", runId, "--verify"])).code).toBe(0)
  })

  it("reports a finished run unchanged", async () => {
    const dir = files()
    const runId = (await cli(dir, [...RUN, "--json"])).json().run.id
    const before = tables(dir)
    const result = await cli(dir, ["cancel", runId, "--json"])
    expect(result.code).toBe(0)
    expect(result.json().run.status).toBe("done")
    expect(tables(dir)).toBe(before)
  })
})

describe("trade-exec reconcile", () => {
  it("finds nothing to say on a consistent book, and names a break (exit 7) when the venue's position differs", async () => {
    const dir = files()
    expect((await cli(dir, [...RUN])).code).toBe(0)
    const clean = await cli(dir, ["reconcile", "--json"])
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.json().breaks).toEqual([])
    // The venue's book changes behind our back.
    const conn = new Database(join(dir, "trade-exec.db"))
    conn.prepare("UPDATE paper_positions SET quantity = '25' WHERE symbol = 'AAA'").run()
    conn.close()
    const broken = await cli(dir, ["reconcile", "--json"])
    expect(broken.code).toBe(7)
    expect(broken.json().breaks).toEqual([{ symbol: "AAA", ours: "30", venue: "25" }])
    const human = await cli(dir, ["reconcile"])
    expect(human.code).toBe(7)
    expect(human.stdout).toContain("1 break")
  })
})

describe("one account, one run trading (trade-exec)", () => {
  it("refuses a second run while the first has working orders, naming it and writing nothing", async () => {
    const dir = files()
    const first = (await cli(dir, [...RESTING, "--json"])).json().run.id
    const before = tables(dir)
    const second = await cli(dir, [...RUN])
    expect(second.code).toBe(2)
    expect(second.stderr).toContain(first)
    expect(tables(dir)).toBe(before)
    // Once the first is final, the second goes ahead.
    expect((await cli(dir, ["execute", first, "--prices", "crossing.csv"])).code).toBe(0)
    expect((await cli(dir, [...RUN])).code).toBe(0)
  })

  it("fails a dry run built while the first worked, once the first has filled: its orders would buy the target again", async () => {
    const dir = files()
    const first = (await cli(dir, [...RESTING, "--json"])).json().run.id
    const dry = await cli(dir, [...RUN, "--dry-run", "--json"])
    expect(dry.code, dry.stderr).toBe(0)
    expect((await cli(dir, ["execute", first, "--prices", "crossing.csv"])).code).toBe(0)
    const held = () => {
      const conn = new Database(join(dir, "trade-exec.db"), { readonly: true })
      try {
        return conn.prepare("SELECT symbol, quantity FROM paper_positions ORDER BY symbol").all()
      } finally {
        conn.close()
      }
    }
    expect(held()).toEqual([{ symbol: "AAA", quantity: "30" }, { symbol: "BBB", quantity: "10" }])

    const executed = await cli(dir, ["execute", dry.json().run.id, "--prices", "crossing.csv", "--json"])
    expect(executed.code).toBe(4)
    const doc = executed.json()
    expect(doc.run.status).toBe("failed")
    expect(doc.run.error).toContain(`run ${first} has traded on the account since`)
    expect(orders(doc)).toEqual(["AAA CANCELED 0 run_failed", "BBB CANCELED 0 run_failed"])
    expect(held()).toEqual([{ symbol: "AAA", quantity: "30" }, { symbol: "BBB", quantity: "10" }])
    expect((await cli(dir, ["audit", "--verify"])).code).toBe(0)
    expect((await cli(dir, ["replay", dry.json().run.id])).code).toBe(0)
  })
})

describe("trade-exec worker", () => {
  it("executes a run queued by a dry run on the prices it recorded, as execute does", async () => {
    const dir = files()
    const runId = (await cli(dir, [...RUN, "--dry-run", "--json"])).json().run.id
    const worker = await cli(dir, ["worker", "--drain", "--json"])
    expect(worker.code, worker.stderr).toBe(0)
    const shown = (await cli(dir, ["show", runId, "--json"])).json()
    expect(shown.run.status).toBe("done")
    expect(orders(shown)).toEqual(["AAA FILLED 30", "BBB FILLED 10"])
  })

  it("checks a running run when it is due and finishes it once its orders fill", async () => {
    const dir = files()
    const runId = (await cli(dir, [...RESTING, "--json"], { TRADE_EXEC_CHECK_SECONDS: "0.2" })).json().run.id
    await new Promise((resolve) => setTimeout(resolve, 300))
    writeFileSync(join(dir, "p.csv"), CROSSING)
    const worker = await cli(dir, ["worker", "--drain", "--prices", "p.csv", "--json"])
    expect(worker.code, worker.stderr).toBe(0)
    expect(worker.json().executed).toEqual([{ runId, status: "done" }])
  })
})
