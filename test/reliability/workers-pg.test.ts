/**
 * Three worker processes on one PostgreSQL database follow ten runs whose limit orders rest while the market
 * moves: in each round the market either stays where the orders were priced (new runs' limits rest) or comes
 * down through their limits (the working orders fill), and three workers drain what is due. Every fill is
 * recorded once, every run finishes once, and runs on the account trade one at a time.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { RunId } from "../../src/domain/Ids.js"
import { describePg, freshSchema, pgAvailable } from "../support/postgres.js"
import { build, cli, workspace } from "../support/cli.js"
import { completedRun, invariants, openDatabase, priceOf, queueRun, type Runtime, symbols } from "../support/scenario.js"
import * as Dec from "../../src/domain/Decimal.js"

import { writeFileSync } from "node:fs"
import { join } from "node:path"

const RUNS = 10
const NAMES = 8

describePg("3 workers on PostgreSQL following 10 runs with resting orders while prices move", () => {
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined
  let db = ""
  let runtime: Runtime
  const dir = workspace()
  beforeAll(async () => {
    build()
    if (!pgAvailable) return
    schema = await freshSchema("follow")
    db = schema.url
    runtime = openDatabase(db)
  })
  afterAll(async () => {
    await runtime?.dispose()
    await schema?.drop()
  })

  it("records each fill once and finishes each run once", async () => {
    const ids: Array<RunId> = []
    for (let i = 0; i < RUNS; i++) ids.push((await runtime.runPromise(queueRun(NAMES, { resting: true }))).id)
    const market = (factor: string) => JSON.stringify(symbols(NAMES).map((s, i) => [s, Dec.toString(priceOf(i, factor))]))
    const finished = async () => {
      const rows = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM trade_runs WHERE status = 'done'`))
      return Number(rows[0]!.n)
    }
    // The market alternates: at the snapshot's prices (limits 50 bps under rest), then 1% down (they fill);
    // a run started in a down round is priced there, and its limits rest until the market falls again.
    const factors = ["1", "0.99", "0.99", "0.98", "0.98", "0.97", "0.97", "0.96", "0.96", "0.95"]
    for (let round = 0; round < 60 && (await finished()) < RUNS; round++) {
      const factor = factors[Math.min(round, factors.length - 1)]!
      const prices = round < factors.length ? market(factor) : market(`${0.95 - round * 0.005}`)
      writeFileSync(join(dir, "prices.csv"), `symbol,price\n${(JSON.parse(prices) as Array<[string, string]>).map((r) => r.join(",")).join("\n")}\n`)
      const results = await Promise.all([1, 2, 3].map((w) =>
        cli(dir, ["worker", "--drain", "--prices", "prices.csv", "--db", db], {
          TRADE_EXEC_WORKER_ID: `w${w}`,
          TRADE_EXEC_CHECK_SECONDS: "0.05"
        })
      ))
      for (const r of results) expect(r.code, r.stderr).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 60))
    }
    expect(await finished()).toBe(RUNS)
    for (const id of ids) {
      const state = await runtime.runPromise(invariants(id))
      expect(state).toMatchObject({ ...completedRun(NAMES, state.fills), filled: NAMES })
    }
    const ends = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ run_id: string; n: number | string }>`SELECT run_id, COUNT(*) AS n FROM audit_events
        WHERE type = 'trade_run.execute' AND ${sql.in("run_id", ids)} GROUP BY run_id`))
    expect(ends.map((e) => Number(e.n))).toEqual(ids.map(() => 1))
    const spans = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ started_at: string; finished_at: string }>`SELECT started_at, finished_at FROM trade_runs
        WHERE ${sql.in("id", ids)} ORDER BY started_at`))
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.started_at >= spans[i - 1]!.finished_at).toBe(true)
  }, 300_000)
})
