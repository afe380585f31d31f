/**
 * A trade-execution process for the crash test: executes one run through LEAN, on the SQLite file and LEAN
 * directory it is given, and prints how the run ended. The test kills it with SIGKILL part way.
 *
 * Environment: `TRADE_DB`, `LEAN_DIR`, `RUN_ID`, `PRICES` (JSON ticker → price), `WORKER_ID`, `LEASE_SECONDS`.
 */
import { Effect } from "effect"
import type { RunId } from "../../../../src/domain/Ids.js"
import { TradeRunner } from "../../../../src/TradeRunner.js"
import { leanTrade } from "./leanTrade.js"

const env = process.env
const required = (name: string) => {
  const value = env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const program = Effect.gen(function*() {
  const runner = yield* TradeRunner
  yield* runner.execute(required("RUN_ID") as RunId)
  const report = yield* runner.report(required("RUN_ID") as RunId)
  process.stdout.write(`${JSON.stringify({ status: report.run.status, orders: report.orders.map((o) => o.status) })}\n`)
}).pipe(
  Effect.provide(leanTrade({
    database: required("TRADE_DB"),
    leanDir: required("LEAN_DIR"),
    prices: JSON.parse(required("PRICES")),
    workerId: required("WORKER_ID"),
    leaseSeconds: Number(required("LEASE_SECONDS"))
  }))
)

// A process edge: the one place this file runs an effect.
Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
