/**
 * `trade-exec audit` and `replay` against tampering, end to end: the built command in a child process, on a
 * real SQLite file edited behind its back the way someone who can write the database would. And two symbols
 * whose client order ids used to collide.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { canonicalJson } from "../../src/Digest.js"
import { GENESIS_HASH, hashOf } from "../../src/ports/AuditLog.js"
import { build, cli, workspace } from "../support/cli.js"
import { findCollidingSymbols } from "../support/collidingSymbols.js"

beforeAll(() => build(), 120_000)

const ITEMS = "symbol,weight\nAAA,0.3\nBBB,0.2\nCCC,0.1\n"
const PRICES = "symbol,price\nAAA,10\nBBB,20\nCCC,30\n"
const RUN = ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000"]
const origin = () => workspace({ "i.csv": ITEMS, "p.csv": PRICES })

const KEY = "6f1c2a9e0b7d4e3f8a5c6b1d2e9f0a7b"
const keyed = { TRADE_EXEC_AUDIT_KEY: KEY }

const withDb = <A>(dir: string, f: (db: Database.Database) => A, file = "trade-exec.db"): A => {
  const db = new Database(join(dir, file))
  try {
    return f(db)
  } finally {
    db.close()
  }
}

const sql = (dir: string, statement: string, ...params: Array<unknown>) => withDb(dir, (db) => db.prepare(statement).run(...params))
const sqlOn = (dir: string, file: string, statement: string, ...params: Array<unknown>) =>
  withDb(dir, (db) => db.prepare(statement).run(...params), file)

/** Every row of the database, to compare before and after. */
const dump = (dir: string) =>
  withDb(dir, (db) =>
    JSON.stringify(
      ["trade_runs", "trade_orders", "trade_fills", "audit_events", "audit_head", "paper_orders", "decision_snapshots"].map((t) =>
        db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()
      )
    ))

/**
 * Edits the payload of event `seq` and recomputes every later hash and the head with a bare sha-256: what
 * someone who can write the database but has no key can do.
 */
const rewriteEvent = (dir: string, seq: number, edit: (payload: any) => unknown) =>
  withDb(dir, (db) => {
    const rows = db.prepare("SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq").all(seq) as Array<any>
    let prevHash = (db.prepare("SELECT hash FROM audit_events WHERE seq = ?").get(seq - 1) as any)?.hash ?? GENESIS_HASH
    for (const row of rows) {
      const payload = row.seq === seq ? edit(JSON.parse(row.payload)) : JSON.parse(row.payload)
      const event = { seq: row.seq, at: row.at, type: row.type, runId: row.run_id ?? undefined, payload, prevHash }
      const hash = hashOf(event)
      db.prepare("UPDATE audit_events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?").run(canonicalJson(payload), prevHash, hash, row.seq)
      prevHash = hash
    }
    db.prepare("UPDATE audit_head SET hash = ? WHERE id = 1").run(prevHash)
  })

/** The seq of the first event of `type` that moves to `to`. */
const eventOf = (dir: string, type: string, to: string) =>
  withDb(dir, (db) =>
    (db.prepare("SELECT seq FROM audit_events WHERE type = ? AND json_extract(payload, '$.to') = ? ORDER BY seq").get(type, to) as any).seq as number)

describe("trade-exec audit --verify", () => {
  it.each([0, -1])("names an event put in as #%i with a made-up hash, which its run's trail lists first", async (seq) => {
    const dir = origin()
    const { run } = (await cli(dir, [...RUN, "--json"])).json()
    sql(dir, "INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash) VALUES (?, ?, 'trade_run.transition', ?, ?, ?, ?)",
      seq, "2026-11-25T00:00:00.000Z", run.id, '{"from":"queued","to":"done"}', GENESIS_HASH, "f".repeat(64))
    const audit = await cli(dir, ["audit", run.id, "--verify"])
    expect(audit.stdout.split("\n")[0]).toMatch(new RegExp(`^#${seq} `))
    expect(audit.code).toBe(1)
    expect(audit.stdout).toContain(`chain BROKEN at event #${seq}: found event #${seq} where #1 should be: an event was inserted`)
    expect(audit.stdout).not.toContain("chain verified")
  })
})

describe("TRADE_EXEC_AUDIT_KEY", () => {
  it.each([
    ["", "is empty"],
    ["short-key", "is 9 characters: a key needs at least 32"],
    [`${KEY} `, "printable ASCII with no spaces"]
  ])("refuses %j before opening the database, exit 2 naming the variable", async (value, reason) => {
    const dir = origin()
    const result = await cli(dir, RUN, { TRADE_EXEC_AUDIT_KEY: value })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("TRADE_EXEC_AUDIT_KEY")
    expect(result.stderr).toContain(reason)
    expect(existsSync(join(dir, "trade-exec.db"))).toBe(false)
  })

  it("keys the chain: verified with the key, not without it or with another, and a run without it is refused before it writes", async () => {
    const dir = origin()
    const first = await cli(dir, [...RUN, "--json"], keyed)
    expect(first.code, first.stderr).toBe(0)
    const runId = first.json().run.id

    const verified = await cli(dir, ["audit", runId, "--verify"], keyed)
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.stdout).toContain("chain verified")
    expect(verified.stdout).toContain("HMAC-SHA-256 with TRADE_EXEC_AUDIT_KEY from event #1")

    const withoutKey = await cli(dir, ["audit", runId, "--verify"])
    expect(withoutKey.code).toBe(1)
    expect(withoutKey.stdout).toContain("chain NOT VERIFIED: the audit chain is keyed (HMAC-SHA-256) from event #1: a key is needed")
    const otherKey = await cli(dir, ["audit", "--verify"], { TRADE_EXEC_AUDIT_KEY: KEY.replace("6", "7") })
    expect(otherKey.code).toBe(1)
    expect(otherKey.stdout).toContain("TRADE_EXEC_AUDIT_KEY differs from the key the audit chain is keyed with")

    const before = dump(dir)
    const refused = await cli(dir, RUN)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("a key is needed")
    expect(dump(dir)).toBe(before)
    const wrong = await cli(dir, ["execute", runId], { TRADE_EXEC_AUDIT_KEY: KEY.replace("6", "7") })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain("differs")
  })

  it("catches a fill's quantity rewritten in the trail with every later hash and the head recomputed, which an unkeyed chain lets through", async () => {
    for (const env of [{}, keyed]) {
      const dir = origin()
      const { run } = (await cli(dir, [...RUN, "--json"], env)).json()
      rewriteEvent(dir, eventOf(dir, "trade_order.transition", "FILLED"), (p) => ({ ...p, filledQuantity: "1" }))
      const audit = await cli(dir, ["audit", run.id, "--verify"], env)
      if (env === keyed) {
        expect(audit.code).toBe(1)
        expect(audit.stdout).toContain("the event was altered")
      } else {
        // Without a key, whoever can write the database can rewrite the chain: only a head kept elsewhere shows it.
        expect(audit.code).toBe(0)
      }
    }
  })
})

describe("trade-exec audit --head and --expect-head", () => {
  it("prints the head as SEQ:HASH, and a chain rewritten or cut since no longer holds it (exit 1)", async () => {
    const dir = origin()
    await cli(dir, RUN)
    const head = await cli(dir, ["audit", "--head"])
    expect(head.code, head.stderr).toBe(0)
    const kept = /^head (\d+:[0-9a-f]{64}) \(sha-256, no key\)$/.exec(head.stdout.trim())?.[1]
    expect(kept, head.stdout).toBeDefined()
    expect((await cli(dir, ["audit", "--head", "--json"])).json().head).toEqual({
      seq: Number(kept!.split(":")[0]),
      hash: kept!.split(":")[1]
    })

    // More runs since: the chain still holds the head kept.
    await cli(dir, RUN)
    const holds = await cli(dir, ["audit", "--verify", "--expect-head", kept!])
    expect(holds.code, holds.stdout).toBe(0)
    expect(holds.stdout).toContain("chain verified")

    rewriteEvent(dir, 3, (p) => ({ ...p, tampered: true }))
    expect((await cli(dir, ["audit", "--verify"])).code).toBe(0)
    const rewritten = await cli(dir, ["audit", "--verify", "--expect-head", kept!])
    expect(rewritten.code).toBe(1)
    expect(rewritten.stdout).toContain(`chain BROKEN at event #${kept!.split(":")[0]}`)
    expect(rewritten.stdout).toContain("the chain was rewritten up to there")

    const seq = Number(kept!.split(":")[0])
    withDb(dir, (db) => {
      const last = db.prepare("SELECT hash FROM audit_events WHERE seq = ?").get(seq - 2) as any
      db.prepare("DELETE FROM audit_events WHERE seq > ?").run(seq - 2)
      db.prepare("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1").run(seq - 2, last.hash)
    })
    const cut = await cli(dir, ["audit", "--verify", "--expect-head", kept!, "--json"])
    expect(cut.code).toBe(1)
    expect(cut.json().verification.broken.reason).toContain("events were removed from the end")
  })

  it("refuses an --expect-head that is not SEQ:HASH, exit 2 naming the flag", async () => {
    const dir = origin()
    await cli(dir, RUN)
    const result = await cli(dir, ["audit", "--verify", "--expect-head", "12:abc"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--expect-head")
    expect(result.stderr).toContain("SEQ:HASH")
  })
})

describe("trade-exec replay against the audit trail", () => {
  // AAA 52 shares at 10, BBB 10 at 20, CCC 3 at 30, each with an IB fixed commission.
  const decision = () =>
    workspace({ "i.csv": "symbol,weight\nAAA,0.52\nBBB,0.2\nCCC,0.1\n", "p.csv": PRICES })
  const FILLED_RUN = ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000", "--commission", "ib-fixed", "--json"]

  const filledRun = async (dir: string) => {
    const result = await cli(dir, FILLED_RUN)
    expect(result.code, result.stderr).toBe(0)
    const doc = result.json()
    const order = (symbol: string) => doc.orders.find((o: any) => o.symbol === symbol)
    const fill = (symbol: string) => doc.fills.find((f: any) => f.symbol === symbol)
    expect([order("AAA").filledQuantity, fill("AAA").quantity, fill("BBB").price, order("CCC").commission]).toEqual(["52", "52", "20", "0.9"])
    return { runId: doc.run.id as string, order, fill }
  }

  it("catches a fill's quantity and its order's filled quantity edited together, and fill price, commission, average price, reject reason and run status", async () => {
    const dir = decision()
    const { runId, order, fill } = await filledRun(dir)
    sql(dir, "UPDATE trade_fills SET quantity = '1' WHERE execution_id = ?", fill("AAA").executionId)
    sql(dir, "UPDATE trade_orders SET filled_quantity = '1' WHERE client_order_id = ?", order("AAA").clientOrderId)
    sql(dir, "UPDATE trade_fills SET price = '19' WHERE execution_id = ?", fill("BBB").executionId)
    sql(dir, "UPDATE trade_orders SET avg_fill_price = '19.5' WHERE client_order_id = ?", order("BBB").clientOrderId)
    sql(dir, "UPDATE trade_fills SET commission = '0' WHERE execution_id = ?", fill("CCC").executionId)
    sql(dir, "UPDATE trade_orders SET commission = '0' WHERE client_order_id = ?", order("CCC").clientOrderId)
    sql(dir, "UPDATE trade_runs SET status = 'failed' WHERE id = ?", runId)

    const replay = await cli(dir, ["replay", runId])
    expect(replay.code).toBe(1)
    // The fills still add up to the orders' filled quantities: only the trail shows the edits.
    expect(replay.stdout).toContain("filled quantities equal their fills: yes")
    expect(replay.stdout).toContain("orders, fills and run agree with the audit trail: NO")
    for (
      const line of [
        `${order("AAA").clientOrderId}: filled quantity is 1, the audit trail says 52`,
        `fill ${fill("AAA").executionId}: quantity is 1, the audit trail says 52`,
        `fill ${fill("BBB").executionId}: price is 19, the audit trail says 20`,
        `${order("BBB").clientOrderId}: average price is 19.5, the audit trail says 20`,
        `fill ${fill("CCC").executionId}: commission is 0, the audit trail says 0.9`,
        `${order("CCC").clientOrderId}: commission is 0, the audit trail says 0.9`,
        `run ${runId}: audit trail ends at done, run is failed`
      ]
    ) expect(replay.stdout).toContain(line)

    // A blocked run: its rejected order's reason, and the run's error.
    const blocked = await cli(dir, [...RUN.slice(0, 7), "--max-order-notional", "300", "--db", "blocked.db", "--json"])
    expect(blocked.code).toBe(3)
    const rejected = blocked.json().orders.find((o: any) => o.status === "REJECTED")
    expect(rejected.rejectReason).toBe("max_order_notional:AAA")
    sqlOn(dir, "blocked.db", "UPDATE trade_orders SET reject_reason = 'manual_review' WHERE client_order_id = ?", rejected.clientOrderId)
    sqlOn(dir, "blocked.db", "UPDATE trade_runs SET error = NULL WHERE id = ?", blocked.json().run.id)
    const replayBlocked = await cli(dir, ["replay", blocked.json().run.id, "--db", "blocked.db", "--json"])
    expect(replayBlocked.code).toBe(1)
    expect(replayBlocked.json().auditDifferences).toEqual([
      `${rejected.clientOrderId}: reject reason is manual_review, the audit trail says max_order_notional:AAA`,
      `run ${blocked.json().run.id}: error is none, the audit trail says blocked by risk: max_order_notional:AAA`
    ])
  })

  it("replays a run whose trail predates outcomes and fill values, saying what it could not check; the filled quantities it did record are checked", async () => {
    const dir = decision()
    const { runId, order, fill } = await filledRun(dir)
    // The order transitions as the version before wrote them: no outcome, fills by execution id only.
    withDb(dir, (db) => {
      const rows = db.prepare("SELECT seq, payload FROM audit_events WHERE type = 'trade_order.transition'").all() as Array<any>
      for (const row of rows) {
        const p = JSON.parse(row.payload)
        const older = {
          clientOrderId: p.clientOrderId,
          symbol: p.symbol,
          from: p.from,
          to: p.to,
          reason: p.reason,
          filledQuantity: p.fills === undefined ? undefined : p.filledQuantity,
          executionIds: p.fills?.map((f: any) => f.executionId)
        }
        db.prepare("UPDATE audit_events SET payload = ? WHERE seq = ?").run(canonicalJson(older), row.seq)
      }
    })
    const replay = await cli(dir, ["replay", runId])
    expect(replay.code, replay.stdout).toBe(0)
    expect(replay.stdout).toContain(": matches")
    expect(replay.stdout).toContain("not recorded in the audit trail, not checked: average price, commission and reject reason of 3 order(s)")
    expect(replay.stdout).toContain("not recorded in the audit trail, not checked: quantity, price and commission of 3 fill(s)")

    sql(dir, "UPDATE trade_fills SET quantity = '1' WHERE execution_id = ?", fill("AAA").executionId)
    sql(dir, "UPDATE trade_orders SET filled_quantity = '1' WHERE client_order_id = ?", order("AAA").clientOrderId)
    const edited = await cli(dir, ["replay", runId])
    expect(edited.code).toBe(1)
    expect(edited.stdout).toContain(`${order("AAA").clientOrderId}: filled quantity is 1, the audit trail says 52`)
  })
})

describe("trade-exec run with two symbols the earlier id scheme could not tell apart", () => {
  it("gives them two client order ids and the run is done (it used to exit 1 and stay running)", async () => {
    const [first, second] = findCollidingSymbols()
    const dir = workspace({ "i.csv": `symbol,weight\n${first},0.4\n${second},0.4\n`, "p.csv": `symbol,price\n${first},10\n${second},10\n` })
    const result = await cli(dir, [...RUN, "--json"])
    expect(result.code, result.stderr).toBe(0)
    const doc = result.json()
    expect(doc.run.status).toBe("done")
    expect(doc.orders.map((o: any) => [o.symbol, o.status])).toEqual([[first, "FILLED"], [second, "FILLED"]].sort())
    expect(new Set(doc.orders.map((o: any) => o.clientOrderId)).size).toBe(2)
    expect((await cli(dir, ["replay", doc.run.id, "--json"])).json()).toMatchObject({ matches: true })
  })
})
