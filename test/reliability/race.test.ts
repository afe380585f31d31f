/**
 * Processes racing for the same work: 4 processes execute the same run at once (on one SQLite file, and
 * on PostgreSQL) — exactly one set of orders and fills comes out; 4 workers drain 50 queued runs from one
 * PostgreSQL database — every run is executed exactly once.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { describePg, freshSchema, pgAvailable } from "../support/postgres.js"
import { spawnTrade } from "../support/processes.js"
import { completedRun, invariants, openDatabase, queueRun, type Runtime, temporaryDatabase } from "../support/scenario.js"

const N = 200

const raceOneRun = async (db: string, runtime: Runtime) => {
  const run = await runtime.runPromise(queueRun(N))
  const results = await Promise.all(
    [1, 2, 3, 4].map((i) => spawnTrade({ TE_DB: db, TE_RUN: run.id, TE_WORKER_ID: `racer-${i}` }).result)
  )
  // One process executes the run; each other one is refused while it holds it, or finds it done.
  const outcomes = results.map((r) => r.output?.status ?? r.output?.error)
  expect(outcomes.filter((o) => o === "done").length).toBeGreaterThanOrEqual(1)
  for (const r of results) expect([0, 5]).toContain(r.code)
  const state = await runtime.runPromise(invariants(run.id))
  expect(state).toMatchObject({ ...completedRun(N, N), fills: N })
  const attempts = (await runtime.runPromise(Effect.flatMap(TradeRepository, (r) => r.getRun(run.id)))).attempts
  expect(attempts).toBe(1)
}

describe("4 processes executing the same run on one SQLite file", () => {
  const { db, runtime } = temporaryDatabase("race")
  it("produce exactly one set of orders and fills", () => raceOneRun(db, runtime), 120_000)
})

const schema = pgAvailable || process.env.CI ? await freshSchema("race") : undefined
describePg("on PostgreSQL", () => {
  const db = schema?.url ?? "postgres://unreachable"
  const runtime = openDatabase(db)
  afterAll(async () => {
    await runtime.dispose()
    await schema?.drop()
  })

  it("4 processes executing the same run produce exactly one set of orders and fills", () => raceOneRun(db, runtime), 120_000)

  it("4 workers drain 50 queued runs, executing every run exactly once and one at a time on the account", async () => {
    const runs = []
    for (let i = 0; i < 50; i++) runs.push(await runtime.runPromise(queueRun(20)))
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => spawnTrade({ TE_DB: db, TE_MODE: "worker", TE_WORKER_ID: `worker-${i}` }).result)
    )
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const executed = results.flatMap((r) => (r.output?.steps as Array<{ runId: string; status: string }>) ?? [])
    const ids = runs.map((r) => r.id)
    expect(executed.filter((s) => ids.includes(s.runId as never)).map((s) => s.runId).sort()).toEqual([...ids].sort())
    for (const id of ids) {
      const state = await runtime.runPromise(invariants(id))
      expect(state).toMatchObject({ status: "done", orders: 20, distinctOrders: 20, fills: 20, brokerOrders: 20, brokerDistinct: 20, auditOk: true })
    }
    const attempts = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ id: string; attempts: number }>`SELECT id, attempts FROM trade_runs WHERE ${sql.in("id", ids)}`))
    expect(attempts.every((r) => Number(r.attempts) === 1)).toBe(true)
    // One account, one run trading: no run started before the one before it had finished.
    const spans = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ started_at: string; finished_at: string }>`SELECT started_at, finished_at FROM trade_runs
        WHERE ${sql.in("id", ids)} ORDER BY started_at`))
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.started_at >= spans[i - 1]!.finished_at).toBe(true)
  }, 180_000)
})
