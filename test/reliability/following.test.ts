/**
 * A real process follows a run's resting limit orders and dies by SIGKILL while it does — right after the
 * venue reported fills it has not recorded yet, right after the venue confirmed a cancel, and at random
 * moments of a check — then another process resumes. Whatever the point: every order once at the broker,
 * every fill once, each order's filled quantity the sum of its fills, the run finished once, the audit chain
 * intact and the replay matching.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, Symbol } from "../../src/domain/Ids.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { build, cli } from "../support/cli.js"
import { spawnTrade } from "../support/processes.js"
import { completedRun, invariants, openDatabase, priceOf, queueRun, symbols, temporaryDatabase } from "../support/scenario.js"

const N = 40
const { dir, db, runtime } = temporaryDatabase("follow")
beforeAll(() => build(), 120_000)

/** The market with the first `crossing` names 1% down (their limits, 50 bps under, are reached). */
const market = (crossing: number) =>
  symbols(N).map((s, i) => [s, Dec.toString(priceOf(i, i < crossing ? "0.99" : "1"))] as const)

const quotes = (crossing: number) => market(crossing).map(([symbol, price]) => ({ symbol: symbol as Symbol, price: Dec.unsafe(price) }))

/** Executes the run in a process of its own (a fresh inspector on `crossing`'s market), waiting out a dead one's lease. */
const resumeAt = async (runId: RunId, crossing: number) => {
  const inspector = openDatabase(db, "resumer", { market: quotes(crossing) })
  try {
    return await inspector.runPromise(
      Effect.flatMap(TradeRunner, (runner) => runner.execute(runId)).pipe(
        Effect.retry({ while: (e) => e._tag === "RunHeld", schedule: Schedule.intersect(Schedule.recurs(50), Schedule.spaced("200 millis")) })
      )
    )
  } finally {
    await inspector.dispose()
  }
}

const expectIntact = async (runId: RunId, filled: number) => {
  const state = await runtime.runPromise(invariants(runId))
  expect(state).toMatchObject({ ...completedRun(N, state.fills), filled, orphanFills: 0, orphanOrders: 0 })
}

/** A run whose N limits rest at the venue. */
const resting = async (options: { readonly cancelAfter?: Duration.Duration } = {}) => {
  const run = await runtime.runPromise(queueRun(N, { resting: true, ...options }))
  const sent = await spawnTrade({ TE_DB: db, TE_RUN: run.id, TE_LEASE_SECONDS: "1" }).result
  expect(sent.code, sent.stderr).toBe(6)
  return run.id
}

describe("SIGKILL while following resting orders, then resume (real processes, SQLite)", () => {
  it.each([1, 5, 20, 30, 40])("records once the fills a dead process was told of: %i of 40 limits reached", async (crossing) => {
    const runId = await resting()
    const child = await spawnTrade({
      TE_DB: db,
      TE_RUN: runId,
      TE_LEASE_SECONDS: "1",
      TE_PRICES: JSON.stringify(market(crossing)),
      TE_CRASH_AFTER_CHECKS: "1"
    }).result
    expect(child.signal).toBe("SIGKILL")
    const after = await resumeAt(runId, crossing)
    expect(after.counts.FILLED).toBe(crossing)
    // The rest fill once the whole market comes down.
    await resumeAt(runId, N)
    await expectIntact(runId, N)
  }, 120_000)

  it.each([1, 2, 17, 39])("cancels the rest once past the deadline, dying after the venue confirmed cancel %i", async (k) => {
    // The deadline passes after the orders were sent and before the next check, whatever the host's speed.
    const runId = await resting({ cancelAfter: Duration.seconds(4) })
    await new Promise((resolve) => setTimeout(resolve, 4100))
    const child = await spawnTrade({
      TE_DB: db,
      TE_RUN: runId,
      TE_LEASE_SECONDS: "1",
      TE_PRICES: JSON.stringify(market(1)),
      TE_CRASH_AFTER_CANCELS: String(k)
    }).result
    expect(child.signal).toBe("SIGKILL")
    const after = await resumeAt(runId, 1)
    expect(after.run.status).toBe("done")
    expect(after.counts).toMatchObject({ FILLED: 1, CANCELED: N - 1 })
    await expectIntact(runId, 1)
  }, 120_000)

  const moments = Array.from({ length: 4 }, (_, i) => 150 + Math.floor(Math.random() * 900) + i)
  it.each(moments)("survives a SIGKILL %i ms into a check that fills half the orders", async (delay) => {
    const runId = await resting()
    const child = spawnTrade({ TE_DB: db, TE_RUN: runId, TE_LEASE_SECONDS: "1", TE_PRICES: JSON.stringify(market(N / 2)) })
    const timer = setTimeout(child.kill, delay)
    const result = await child.result
    clearTimeout(timer)
    expect(result.signal === "SIGKILL" || result.code === 6).toBe(true)
    expect((await resumeAt(runId, N / 2)).counts.FILLED).toBe(N / 2)
    await resumeAt(runId, N)
    await expectIntact(runId, N)
  }, 120_000)
})

describe("a worker that dies mid-run (real processes, SQLite)", () => {
  it("leaves its run to `trade-exec worker --drain` in another process once its lease expired", async () => {
    const run = await runtime.runPromise(queueRun(20))
    const child = await spawnTrade({ TE_DB: db, TE_MODE: "worker", TE_LEASE_SECONDS: "1", TE_CRASH_AFTER_ORDERS: "7" }).result
    expect(child.signal).toBe("SIGKILL")
    // Within the dead worker's lease nobody takes the run; once it expired, a drain finishes it.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const drained = await cli(dir, ["worker", "--drain", "--json", "--db", db])
    expect(drained.code, drained.stderr).toBe(0)
    expect(drained.json().executed).toContainEqual({ runId: run.id, status: "done" })
    const state = await runtime.runPromise(invariants(run.id))
    expect(state).toMatchObject({ ...completedRun(20, 20), fills: 20 })
  }, 120_000)
})
