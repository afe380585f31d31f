/**
 * A real process executes a 500-order run and dies by SIGKILL — at chosen points (right after the broker
 * accepted its k-th order, before the runner heard back) and at random moments — then the run is resumed.
 * Whatever the crash point: the run ends done, with exactly one order per client order id, the broker got
 * each order once, no fill twice, each order's filled quantity is the sum of its fills, and the audit
 * chain verifies.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnTrade } from "../support/processes.js"
import { completedRun, invariants, queueRun, resume, temporaryDatabase } from "../support/scenario.js"

const N = 500
const { db, runtime } = temporaryDatabase("crash")

const expectIntact = async (runId: Parameters<typeof invariants>[0]) => {
  expect(await runtime.runPromise(invariants(runId))).toEqual({ ...completedRun(N, N), fills: N, filled: N, orphanFills: 0, orphanOrders: 0 })
}

describe("crash and resume of a 500-order run on SQLite, in real processes", () => {
  // Batches of 100: points on both sides of every batch boundary, the first and the last order.
  const points = [1, 2, 50, 99, 100, 101, 150, 200, 201, 250, 300, 333, 400, 450, 499, 500]

  it.each(points)("survives a SIGKILL right after the broker accepted order %i", async (k) => {
    const run = await runtime.runPromise(queueRun(N))
    const child = await spawnTrade({ TE_DB: db, TE_RUN: run.id, TE_LEASE_SECONDS: "1", TE_CRASH_AFTER_ORDERS: String(k) }).result
    expect(child.signal).toBe("SIGKILL")
    await runtime.runPromise(resume(run.id))
    await expectIntact(run.id)
  }, 120_000)

  // Moments anywhere in the run: claiming, building, persisting orders, mid-transaction, finishing.
  const moments = Array.from({ length: 7 }, (_, i) => 200 + Math.floor(Math.random() * 1800) + i)

  it.each(moments)("survives a SIGKILL %i ms into the process", async (delay) => {
    const run = await runtime.runPromise(queueRun(N))
    const child = spawnTrade({ TE_DB: db, TE_RUN: run.id, TE_LEASE_SECONDS: "1" })
    const timer = setTimeout(child.kill, delay)
    const result = await child.result
    clearTimeout(timer)
    expect(result.signal === "SIGKILL" || result.code === 0).toBe(true)
    await runtime.runPromise(resume(run.id))
    await expectIntact(run.id)
  }, 120_000)
})
