/**
 * A host that runs the trade loop as a library: the README's example, type-checked and run by the test
 * suite (test/examples/host.test.ts), so the documented API cannot drift from the real one.
 *
 *   npx tsx examples/host.ts [trades.db]
 */
import { Effect, Layer } from "effect"
import { AuditLog, Decimal, PriceFeed, type Quote, type SnapshotItem, type Symbol, Tca, TradeRepository, TradeRunner } from "trade-execution"
import * as Paper from "trade-execution/adapters/mock/MockExecutionProvider"
import { SqliteLive } from "trade-execution/adapters/sql/layers"

// What research decided (weights of the portfolio) and what the market says now.
const items: ReadonlyArray<SnapshotItem> = [
  { symbol: "AAPL" as Symbol, weight: Decimal.unsafe("0.30"), sector: "Information Technology" },
  { symbol: "XOM" as Symbol, weight: Decimal.unsafe("0.20"), sector: "Energy" },
  { symbol: "JPM" as Symbol, weight: Decimal.unsafe("0.25"), sector: "Financials" }
]
const quotes: ReadonlyArray<Quote> = [
  { symbol: "AAPL" as Symbol, price: Decimal.unsafe("189.95") },
  { symbol: "XOM" as Symbol, price: Decimal.unsafe("104.20") },
  { symbol: "JPM" as Symbol, price: Decimal.unsafe("198.41") }
]

// Storage: SqliteLive({ filename, auditKey? }) or PgLive({ url, auditKey? }); or TradeRepository.layerMemory
// + AuditLog.layerMemory.
const Storage = SqliteLive({ filename: process.argv[2] ?? "trades.db" })
// The venue: swap this one Layer for LeanExecutionProvider.layer(...) to trade through LEAN / IB.
const Venue = Paper.layer({ cash: 1_000_000, commission: { _tag: "IbFixed" } }).pipe(
  Layer.provideMerge(PriceFeed.layerMemory(quotes))
)
const Loop = TradeRunner.layer().pipe(Layer.provideMerge(Layer.mergeAll(Storage, Venue)))

const program = Effect.gen(function*() {
  const repo = yield* TradeRepository
  const snapshot = yield* repo.createSnapshot({ items, source: "research job 42" }) // frozen: digest fixed
  const run = yield* repo.createRun({ snapshotId: snapshot.id, params: { portfolioValue: Decimal.unsafe("1e6") } })
  const runner = yield* TradeRunner
  const outcome = yield* runner.execute(run.id) // or { dryRun: true }
  const report = yield* runner.report(run.id)
  const costs = Tca.analyze(report.orders, report.fills)
  const verified = yield* (yield* AuditLog).verify
  yield* Effect.log(`run ${run.id} ${outcome.run.status}: ${outcome.counts.FILLED} of ${outcome.counts.orders} orders filled`)
  yield* Effect.log(`commissions ${Decimal.toString(costs.totals.commission)}, audit chain ${verified.ok ? "verified" : "BROKEN"}`)
  return { status: outcome.run.status, filled: outcome.counts.FILLED, verified: verified.ok }
})

Effect.runPromise(program.pipe(Effect.provide(Loop))).then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
