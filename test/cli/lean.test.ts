/**
 * `trade-exec --provider lean`: the built command trading through the LEAN bridge, against the stand-in LEAN
 * (a process that reads and writes LEAN's files as LEAN does), configured from the environment as a trader
 * would configure it.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { build, cli, workspace } from "../support/cli.js"
import { ALGORITHM_ID, leanDirectory, received, startStandIn } from "../adapters/lean/support/standIn.js"

beforeAll(() => build(), 120_000)

const environment = (leanDir: string) => ({
  TRADE_EXEC_LEAN_DIR: leanDir,
  TRADE_EXEC_LEAN_ALGORITHM_ID: ALGORITHM_ID,
  TRADE_EXEC_LEAN_SETTLE_TIMEOUT: "2 seconds",
  TRADE_EXEC_LEAN_POLL_INTERVAL: "20 millis"
})

describe("trade-exec --provider lean", () => {
  it.scoped("runs a decision through LEAN, and reconciles the book with LEAN's holdings", () =>
    Effect.gen(function*() {
      const leanDir = yield* leanDirectory
      yield* startStandIn(leanDir, { prices: { AAA: "10", BBB: "20" } })
      const dir = workspace({ "i.csv": "symbol,weight\nAAA,0.3\nBBB,0.2\n", "p.csv": "symbol,price\nAAA,10\nBBB,20\n" })
      const env = environment(leanDir)
      const run = yield* Effect.promise(() =>
        cli(dir, ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000", "--provider", "lean", "--json"], env)
      )
      expect(run.code, run.stderr).toBe(0)
      const doc = run.json()
      expect(doc.run.status).toBe("done")
      expect(doc.orders.map((o: any) => `${o.symbol} ${o.status} ${o.filledQuantity}`)).toEqual(["AAA FILLED 30", "BBB FILLED 10"])
      expect(received(leanDir).filter((c) => c.tag !== undefined).map((c) => c.tag).sort())
        .toEqual(doc.orders.map((o: any) => o.clientOrderId).sort())
      const reconcile = yield* Effect.promise(() => cli(dir, ["reconcile", "--provider", "lean", "--json"], env))
      expect(reconcile.code, reconcile.stderr).toBe(0)
      expect(reconcile.json()).toMatchObject({ provider: "lean", breaks: [] })
    }), 120_000)

  it("names the variable LEAN needs when it is missing, and writes nothing", async () => {
    const dir = workspace({ "i.csv": "symbol,weight\nAAA,0.3\n", "p.csv": "symbol,price\nAAA,10\n" })
    const result = await cli(dir, ["run", "--items", "i.csv", "--prices", "p.csv", "--portfolio-value", "1000", "--provider", "lean"], {
      TRADE_EXEC_LEAN_DIR: ""
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("TRADE_EXEC_LEAN_DIR")
    // Checked before anything is written: not even the database file.
    expect(existsSync(join(dir, "trade-exec.db"))).toBe(false)
  })
})
