/**
 * The benchmark harness: `npm run bench -- [--names N] [--runs K] [--cases a,b] [--json]`.
 * `npm run bench -- --names N --write-csv DIR` writes the universe's files instead (decision_items.csv, prices.csv,
 * positions.csv), for the whole-process comparisons (`bench/compare-same-rows`), and measures nothing.
 *
 * Each case is warmed up, then run K times; reported are the median, min and max, measured side by side in
 * one process. The in-process cases (core, core_fit, csv) are warmed until V8's optimizing compiler is done
 * with them (at least ten runs and a second of the case's own work: core_fit's code is optimized only after
 * some 30 runs, ~0.6 s), as a host that keeps the library loaded runs them; their first, cold run is
 * reported beside them, which is what a one-off process pays. The cases that write a database are warmed
 * once:
 *   core        OrderBuilder + RiskEngine alone, every rule enabled
 *   core_fit    the same under the policy fit, every limit on and the fitted ones binding: restricted names
 *               held, long-only, name, sector, gross, net and turnover caps, the no-trade band
 *   csv         reading the universe's items, prices and positions files (text in memory), as the CLI does
 *   run_sqlite  the full run on a fresh SQLite file: freeze, build, risk, persist, paper execution, fills,
 *               order transitions, audit events (opening and migrating the file is not timed)
 *   rerun       execute of the finished run, which must write nothing (checked)
 *   dry_run     build, persist and risk-check, submit nothing
 *   floor       the rows a run left (a run made for it, outside the timing: its ids, decimals, documents and
 *               audit events) written again straight through better-sqlite3 prepared statements in one
 *               transaction, each order saved NEW and updated twice: what this machine can do at best
 *   run_pg      the full run on PostgreSQL, when a server answers
 *   floor_pg    the floor's rows written through `pg` in one transaction (a statement a table and a step, a
 *               column's values as one array through `unnest`): what the PostgreSQL server can do at best
 *
 * `--cases` runs only the cases named (rerun comes with run_sqlite), e.g. to see what one case alone
 * takes of memory: the peak RSS is the process's, over every case it ran (the floors' with the run made
 * for them, and its rows, which they keep).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Either, Layer, ManagedRuntime, Schedule } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import { parseItems, parsePositions, parsePrices } from "../adapters/csv/readers.js"
import * as Mock from "../adapters/mock/MockExecutionProvider.js"
import { PgLive, SqliteLive, type Storage } from "../adapters/sql/layers.js"
import * as Dec from "../src/domain/Decimal.js"
import type { Symbol } from "../src/domain/Ids.js"
import type { RiskLimits } from "../src/domain/Risk.js"
import * as OrderBuilder from "../src/OrderBuilder.js"
import { AuditLog } from "../src/ports/AuditLog.js"
import { PriceFeed } from "../src/ports/PriceFeed.js"
import { TradeRepository } from "../src/ports/TradeRepository.js"
import * as RiskEngine from "../src/RiskEngine.js"
import { TradeRunner } from "../src/TradeRunner.js"
import { floor, floorPg, rowsDiffer, runRows, type RunRows } from "./floor.js"
import { AS_OF, csvFiles, universe, type Universe } from "./universe.js"

const argument = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const names = Number(argument("names") ?? 5000)
const runs = Number(argument("runs") ?? 7)
const asJson = process.argv.includes("--json")
const CASES = ["core", "core_fit", "csv", "run_sqlite", "dry_run", "floor", "run_pg", "floor_pg"]
const selected = new Set((argument("cases") ?? CASES.join(",")).split(",").map((c) => c.trim()))
for (const c of selected) if (!CASES.includes(c)) throw new Error(`unknown case ${c}: the cases are ${CASES.join(", ")}`)
const pgUrl = process.env.TRADE_EXEC_BENCH_PG_URL ?? process.env.TRADE_EXEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

interface Stats {
  readonly median: number
  readonly min: number
  readonly max: number
  /** The first run of the process, before any warm-up: the in-process cases only. */
  readonly cold?: number
}

const stats = (samples: ReadonlyArray<number>): Stats => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)! }
}

/**
 * Runs `once` to warm up (`warmups` times), then `runs` times; `once` returns the milliseconds it measured.
 * A case of a few milliseconds needs many rounds before the JIT has compiled its code: with `warmMs`, the
 * warm-up goes on until the case has also run that long, and the first run is kept as the cold figure.
 */
const measure = async (once: () => Promise<number>, warmups = 1, warmMs?: number): Promise<Stats> => {
  let cold: number | undefined
  let warmed = 0
  for (let i = 0; i < warmups || (warmMs !== undefined && warmed < warmMs); i++) {
    const ms = await once()
    cold ??= ms
    warmed += ms
  }
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) samples.push(await once())
  return warmMs === undefined || cold === undefined ? stats(samples) : { ...stats(samples), cold }
}

/** The in-process cases' warm-up: ten runs and at least this much of their own work. */
const WARM_MS = 1000

const data = universe(names)
const csvDirectory = argument("write-csv")
if (process.argv.includes("--write-csv") && (csvDirectory === undefined || csvDirectory.startsWith("--"))) {
  throw new Error("--write-csv needs the directory to write the files to")
}
if (csvDirectory !== undefined) {
  const texts = csvFiles(data)
  mkdirSync(csvDirectory, { recursive: true })
  for (const [file, text] of [["decision_items.csv", texts.items], ["prices.csv", texts.prices], ["positions.csv", texts.positions]] as const) {
    writeFileSync(join(csvDirectory, file), `${text}\n`)
  }
  console.log(`${names} names written to ${csvDirectory}: decision_items.csv, prices.csv, positions.csv`)
  process.exit(0)
}
const dir = mkdtempSync(join(tmpdir(), "trade-exec-bench-"))
let files = 0
const freshFile = () => join(dir, `run-${++files}.db`)

/**
 * The orders built for a universe's decision and the risk engine's verdict on them. Under the policy fit the
 * decision is first fitted to the limits, and the verdict counts what the fit could not meet.
 */
const judged = (u: Universe, limits: RiskLimits, policy: "block_run" | "fit") => {
  const built = Either.getOrThrow(OrderBuilder.build({
    runId: "bench",
    items: u.items,
    prices: u.quotes,
    positions: u.positions,
    portfolioValue: u.params.portfolioValue,
    cashBufferRatio: u.params.cashBufferRatio
  }, policy === "fit" ? { limits, policy } : undefined))
  const verdict = RiskEngine.evaluate({
    orders: built.orders,
    limits,
    ...(policy === "fit" ? { policy, unmet: built.fit!.unmet } : {}),
    portfolioValue: built.plan.settings.portfolioValue,
    cash: built.plan.settings.cash,
    positions: u.positions,
    quotes: u.quotes,
    sectors: new Map<Symbol, string>(),
    asOf: Date.parse(AS_OF)
  })
  return { built, verdict }
}

const core = (u: Universe) => {
  const { built, verdict } = judged(u, u.limits, "block_run")
  if (!verdict.passed) throw new Error(`benchmark universe breaks its own limits: ${verdict.reasons.slice(0, 3).join(", ")}`)
  return built.orders.length
}

/**
 * The core under the policy fit. The universe's limits with those the fit works on tightened until each
 * moves names: a sector cap just under the sectors' weight (0.088 each), a name cap under the largest
 * weights, gross and net caps under the book, a turnover cap under what the decision trades, a band, two
 * held names restricted, and (in the decision) one name in 500 short under long-only. The fitted orders
 * must pass them all.
 */
const fitLimits = (u: Universe): RiskLimits => ({
  ...u.limits,
  restrictedSymbols: [u.positions[0]!.symbol, u.positions[1]!.symbol],
  maxNameWeight: Dec.unsafe("0.00025"),
  maxSectorWeight: Dec.unsafe("0.08"),
  maxGrossExposure: Dec.unsafe("0.85"),
  maxNetExposure: Dec.unsafe("0.8"),
  maxTurnover: Dec.unsafe("0.2"),
  minTradeWeight: Dec.unsafe("0.000002")
})

/** The universe's decision with one name in 500 short, which long-only makes flat. */
const withShorts = (u: Universe): Universe => ({
  ...u,
  items: u.items.map((item, i) => (i % 500 === 7 ? { ...item, weight: Dec.negate(item.weight) } : item))
})

const coreFit = (u: Universe, limits: RiskLimits) => {
  const { built, verdict } = judged(u, limits, "fit")
  if (!verdict.passed) throw new Error(`the fitted benchmark universe breaks its limits: ${verdict.reasons.slice(0, 3).join(", ")}`)
  const rules = new Set(built.fit!.adjustments.map((a) => a.rule))
  if (rules.size < 7) throw new Error(`the fit moved names by ${[...rules].join(", ")} only: the benchmark's limits no longer bind`)
  return built.orders.length
}

/** The loop over a storage layer, with the paper broker (in memory) and a feed of the universe's prices. */
const loop = (storage: Layer.Layer<Storage, unknown>) => {
  const feed = PriceFeed.layerMemory(data.quotes)
  const broker = Mock.layer({ cash: 0 }).pipe(Layer.provide(feed))
  return ManagedRuntime.make(
    TradeRunner.layer({ workerId: "bench", submitBatchSize: 1000, settleSchedule: Schedule.recurs(0) }).pipe(
      Layer.provideMerge(Layer.mergeAll(storage, broker, feed))
    )
  )
}

const newRun = Effect.gen(function*() {
  const repo = yield* TradeRepository
  const snapshot = yield* repo.createSnapshot({ items: data.items })
  return yield* repo.createRun({ snapshotId: snapshot.id, params: data.params })
})

const timed = async <A>(f: () => Promise<A>): Promise<[number, A]> => {
  const start = performance.now()
  const value = await f()
  return [performance.now() - start, value]
}

/** A full run on fresh storage; leaves the runtime open for the rerun. */
const fullRun = async (storage: () => Layer.Layer<Storage, unknown>, dryRun = false) => {
  const runtime = loop(storage())
  await runtime.runPromise(Effect.void) // open and migrate outside the timing
  const [ms, report] = await timed(() =>
    runtime.runPromise(Effect.flatMap(newRun, (run) => Effect.flatMap(TradeRunner, (r) => r.execute(run.id, { dryRun }))))
  )
  const expected = dryRun ? "queued" : "done"
  if (report.run.status !== expected) throw new Error(`run ended ${report.run.status}: ${report.run.error}`)
  return { ms, runtime, report }
}

/** Changes made through the connection, and audit events: both must stay put across a rerun. */
const footprint = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [changes] = yield* sql<{ n: number }>`SELECT total_changes() AS n`
  const events = (yield* (yield* AuditLog).list()).length
  return `${changes!.n}/${events}`
})

const results: Record<string, Stats> = {}
let orders = 0

if (selected.has("core")) {
  results.core = await measure(async () => {
    const [ms, count] = await timed(async () => core(data))
    orders = count
    return ms
  }, 10, WARM_MS)
} else {
  orders = core(data)
}

if (selected.has("core_fit")) {
  const limits = fitLimits(data)
  const shorts = withShorts(data)
  results.core_fit = await measure(async () => (await timed(async () => coreFit(shorts, limits)))[0], 10, WARM_MS)
}

if (selected.has("csv")) {
  const texts = csvFiles(data)
  results.csv = await measure(async () => {
    const start = performance.now()
    const read: ReadonlyArray<Either.Either<unknown, unknown>> = [
      parseItems(texts.items, "items.csv"),
      parsePrices(texts.prices, "prices.csv"),
      parsePositions(texts.positions, "positions.csv")
    ]
    const ms = performance.now() - start
    if (read.some((r) => Either.isLeft(r))) throw new Error("the benchmark's files do not read")
    return ms
  }, 3, WARM_MS)
}

if (selected.has("run_sqlite")) {
  const reruns: Array<number> = []
  results.run_sqlite = await measure(async () => {
    const { ms, runtime, report } = await fullRun(() => SqliteLive({ filename: freshFile() }))
    const before = await runtime.runPromise(footprint)
    const [rerunMs, again] = await timed(() => runtime.runPromise(Effect.flatMap(TradeRunner, (r) => r.execute(report.run.id))))
    const after = await runtime.runPromise(footprint)
    if (before !== after || again.counts.orders !== report.counts.orders) throw new Error(`rerun wrote: ${before} → ${after}`)
    reruns.push(rerunMs)
    await runtime.dispose()
    return ms
  })
  results.rerun = stats(reruns.slice(1))
}

if (selected.has("dry_run")) {
  results.dry_run = await measure(async () => {
    const { ms, runtime } = await fullRun(() => SqliteLive({ filename: freshFile() }), true)
    await runtime.dispose()
    return ms
  })
}

/** The rows the floors write: those of a run made for them here, outside the timing. */
let source: RunRows | undefined
const runSource = async () => {
  if (source === undefined) {
    const file = freshFile()
    const { runtime } = await fullRun(() => SqliteLive({ filename: file }))
    await runtime.dispose()
    source = runRows(file)
    if (source.trade_orders.rows.length !== orders) throw new Error(`the floor's run has ${source.trade_orders.rows.length} orders, not ${orders}`)
  }
  return source
}

if (selected.has("floor")) {
  const rows = await runSource()
  let last = ""
  results.floor = await measure(async () => floor(last = freshFile(), rows))
  // What the floor left must be the run's rows, value for value.
  const differs = rowsDiffer(rows, runRows(last))
  if (differs !== undefined) throw new Error(`the floor's rows are not the run's: ${differs}`)
}

const pgReachable = (selected.has("run_pg") || selected.has("floor_pg")) &&
  await ManagedRuntime.make(PgLive({ url: pgUrl })).runPromise(Effect.void).then(() => true, () => false)
/** `use` on a URL whose search_path is a fresh schema, dropped afterwards. */
const inFreshSchema = async (use: (url: string) => Promise<number>): Promise<number> => {
  const schema = `bench_${process.pid}_${++files}`
  const admin = new URL(pgUrl)
  const setup = ManagedRuntime.make(PgLive({ url: pgUrl }))
  await setup.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE SCHEMA ${schema}`)))
  admin.searchParams.set("options", `-c search_path=${schema}`)
  const ms = await use(admin.toString())
  await setup.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP SCHEMA ${schema} CASCADE`)))
  await setup.dispose()
  return ms
}

if (pgReachable && selected.has("run_pg")) {
  results.run_pg = await measure(() =>
    inFreshSchema(async (url) => {
      const { ms, runtime } = await fullRun(() => PgLive({ url }))
      await runtime.dispose()
      return ms
    })
  )
}
if (pgReachable && selected.has("floor_pg")) {
  const rows = await runSource()
  let differs: string | undefined
  results.floor_pg = await measure(() => inFreshSchema((url) => floorPg(url, rows, (left) => differs ??= rowsDiffer(rows, left))))
  if (differs !== undefined) throw new Error(`floor_pg's rows are not the run's: ${differs}`)
}

rmSync(dir, { recursive: true, force: true })

const ratio = (a: Stats | undefined, b: Stats | undefined) => (a === undefined || b === undefined ? undefined : a.median / b.median)
const ratios = {
  run_sqlite_over_floor: ratio(results.run_sqlite, results.floor),
  rerun_over_run_sqlite: ratio(results.rerun, results.run_sqlite),
  run_pg_over_floor_pg: ratio(results.run_pg, results.floor_pg)
}
const peakRssMb = process.resourceUsage().maxRSS / 1024
const flags = process.execArgv.filter((a) => a.startsWith("--max-") || a.startsWith("--v8"))
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version }

if (asJson) {
  console.log(JSON.stringify({ names, orders, runs, machine, flags, cases: results, ratios, peakRssMb }, null, 2))
} else {
  const row = (name: string, s: Stats) =>
    `${name.padEnd(11)} ${s.median.toFixed(1).padStart(9)} ${s.min.toFixed(1).padStart(9)} ${s.max.toFixed(1).padStart(9)}${
      s.cold === undefined ? "" : s.cold.toFixed(1).padStart(9)
    }`
  console.log(`${names} names, ${orders} orders, ${runs} runs each after a warm-up — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}${flags.length > 0 ? ` ${flags.join(" ")}` : ""}`)
  console.log(`${"case".padEnd(11)} ${"median ms".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)} ${"cold".padStart(8)}`)
  for (const [name, s] of Object.entries(results)) console.log(row(name, s))
  if (ratios.run_sqlite_over_floor !== undefined) console.log(`run_sqlite / floor  = ${ratios.run_sqlite_over_floor.toFixed(2)}`)
  if (ratios.run_pg_over_floor_pg !== undefined) console.log(`run_pg / floor_pg    = ${ratios.run_pg_over_floor_pg.toFixed(2)}`)
  if (ratios.rerun_over_run_sqlite !== undefined) console.log(`rerun / run_sqlite  = ${(ratios.rerun_over_run_sqlite * 100).toFixed(1)}%`)
  console.log(`peak RSS            = ${peakRssMb.toFixed(0)} MB`)
  if ((selected.has("run_pg") || selected.has("floor_pg")) && !pgReachable) console.log(`run_pg skipped: no PostgreSQL answered at ${pgUrl}`)
}
process.exit(0)
