/**
 * The repository + audit log contract: one suite, run against every adapter with `it.layer`
 * (memory, a SQLite file, PostgreSQL). An adapter passes when it behaves like the port says.
 */
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, TestClock } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, ExecutionId, RunId, SnapshotId, Symbol } from "../../src/domain/Ids.js"
import type { Fill, TradeOrder } from "../../src/domain/Order.js"
import type { RunRecord } from "../../src/domain/Run.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { RepositoryError } from "../../src/ports/errors.js"
import { snapshotDigest, TradeRepository } from "../../src/ports/TradeRepository.js"
import { item } from "../support/world.js"

/** What only the adapter's test knows how to do: corrupt its own storage. */
export class Tamper extends Context.Tag("test/Tamper")<Tamper, {
  readonly auditEvent: (seq: number) => Effect.Effect<void, unknown>
  /** Puts in an event of its own making, numbered `seq`, with a made-up hash; or takes it out again. */
  readonly insertAuditEvent: (seq: number, runId: string) => Effect.Effect<void, unknown>
  readonly removeAuditEvent: (seq: number) => Effect.Effect<void, unknown>
  readonly snapshotItems: (id: SnapshotId) => Effect.Effect<void, unknown>
}>() {}

let counter = 0
/** Ids unique across the tests sharing one store (TestRandom repeats itself from test to test). */
const unique = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`

const d = Dec.unsafe

const recorded = (): RunRecord => ({
  settings: {
    portfolioValue: d("100000.123456789"),
    cash: d("-12.5"),
    cashBufferRatio: d("0.05"),
    lotSize: d("1"),
    orderType: "MKT",
    liquidateMissing: false,
    modelVersion: "m1"
  },
  prices: [{ symbol: "AAA" as Symbol, price: d("12.3456789012345678"), time: "2026-11-25T14:30:00.000Z", volume: d(1000000) }],
  positions: [{ symbol: "AAA" as Symbol, quantity: d("-3.125") }],
  securities: [{ symbol: "AAA" as Symbol, lotSize: d("0.001"), sector: "Tech" }],
  skipped: [{ symbol: "ZZZ" as Symbol, reason: "missing_price" }],
  builtAt: "2026-11-25T14:30:01.000Z"
})

const order = (runId: RunId, symbol: string, quantity: string, side: "BUY" | "SELL" = "BUY"): TradeOrder => ({
  clientOrderId: `${symbol}-${side[0]}-${runId.slice(-10)}` as ClientOrderId,
  symbol: symbol as Symbol,
  side,
  quantity: d(quantity),
  orderType: "LMT",
  limitPrice: d("12.34"),
  referencePrice: d("12.3456789012345678"),
  currentQuantity: d("-3.125"),
  targetQuantity: d("100.001"),
  targetWeight: d("0.12345678"),
  sector: "Tech",
  runId,
  status: "NEW",
  filledQuantity: d(0),
  commission: d(0),
  createdAt: "2026-11-25T14:30:01.000Z",
  updatedAt: "2026-11-25T14:30:01.000Z"
})

const fill = (o: TradeOrder, executionId: string, quantity: string, price: string): Fill => ({
  executionId: executionId as ExecutionId,
  clientOrderId: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  quantity: d(quantity),
  price: d(price),
  commission: d("1.0000001"),
  time: "2026-11-25T14:30:02.000Z"
})

const lease = { leaseMillis: 30_000 }

export const repositoryContract = <E>(name: string, adapter: Layer.Layer<TradeRepository | AuditLog | Tamper, E>) =>
  layer(adapter, { timeout: "60 seconds" })(name, (it) => {
    const queued = (runParams = {}) =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const snapshot = yield* repo.createSnapshot({ id: unique("snap") as SnapshotId, items: [item("AAA", "0.5", { sector: "Tech", price: d("12.5") })] })
        return yield* repo.createRun({ id: unique("run") as RunId, snapshotId: snapshot.id, params: runParams })
      })

    const claimed = (owner = "w1") =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const run = yield* queued()
        yield* repo.claimRun(run.id, { owner, start: true, ...lease })
        return { run, holder: { runId: run.id, owner } }
      })

    it.effect("freezes a snapshot with the digest of its items and reads it back exactly", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const items = [
          item("AAA", "0.123456789012345678", { score: d("-1.5"), rank: 1, sector: "Tech", price: d("100.25") }),
          item("BBB", "-0.05")
        ]
        const created = yield* repo.createSnapshot({ id: unique("snap") as SnapshotId, items, source: "decision_items.csv" })
        expect(created.digest).toBe(snapshotDigest(items))
        expect(created.frozenAt).toBeDefined()
        const read = yield* repo.getSnapshot(created.id)
        expect(read).toEqual(created)
        expect(Dec.toString(read.items[0]!.weight)).toBe("0.123456789012345678")
      }))

    it.effect("reads back a snapshot of more items than a page, in its order, with its digest", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        // From the last symbol down, so that the snapshot's order is not the symbols' order; every other
        // item with its optional members.
        const items = Array.from({ length: 5_002 }, (_, i) =>
          item(`S${String(5_002 - i).padStart(5, "0")}`, "0.0001", i % 2 === 0 ? { score: d(i), rank: i + 1, sector: "Tech", price: d("10.5") } : {}))
        const created = yield* repo.createSnapshot({ id: unique("snap") as SnapshotId, items })
        const read = yield* repo.getSnapshot(created.id)
        expect(read.items).toEqual(items)
        expect(snapshotDigest(read.items)).toBe(created.digest)
      }))

    it.effect("keeps an unfrozen snapshot unfrozen until it is frozen", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const created = yield* repo.createSnapshot({ id: unique("snap") as SnapshotId, items: [item("AAA", "1")], freeze: false, status: "pending" })
        expect(created.frozenAt).toBeUndefined()
        const frozen = yield* repo.freezeSnapshot(created.id)
        expect(frozen.digest).toBe(snapshotDigest(created.items))
        expect(frozen.status).toBe("pending")
      }))

    it.effect("names an unknown snapshot and an unknown run", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const snap = yield* Effect.flip(repo.getSnapshot("snap_missing" as SnapshotId))
        expect(snap._tag).toBe("SnapshotNotFound")
        expect(snap.message).toContain("snap_missing")
        const run = yield* Effect.flip(repo.getRun("run_missing" as RunId))
        expect(run._tag).toBe("RunNotFound")
        expect(run.message).toContain("run_missing")
        const orphan = yield* Effect.flip(repo.createRun({ snapshotId: "snap_missing" as SnapshotId }))
        expect(orphan._tag).toBe("SnapshotNotFound")
      }))

    it.effect("creates runs queued and lists them newest first, by status", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const a = yield* queued({ portfolioValue: d("1000.5"), risk: { maxOrderNotional: d(500), restrictedSymbols: ["ZZZ" as Symbol] } })
        yield* TestClock.adjust("1 second")
        const b = yield* queued()
        expect(a.status).toBe("queued")
        expect(a.attempts).toBe(0)
        expect((yield* repo.getRun(a.id)).params).toEqual(a.params)
        const listed = (yield* repo.listRuns({ status: "queued" })).map((r) => r.id)
        expect(listed.indexOf(b.id)).toBeLessThan(listed.indexOf(a.id))
        expect((yield* repo.listRuns({ limit: 1 }))).toHaveLength(1)
      }))

    it.effect("claims a run atomically: one worker starts it, another is refused until the lease expires", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const run = yield* queued()
        const first = yield* repo.claimRun(run.id, { owner: "w1", start: true, ...lease })
        expect(first._tag).toBe("Claimed")
        if (first._tag === "Claimed") expect(first.run).toMatchObject({ status: "running", attempts: 1, lease: { owner: "w1" } })
        const second = yield* repo.claimRun(run.id, { owner: "w2", start: true, ...lease })
        expect(second._tag).toBe("Held")
        const again = yield* repo.claimRun(run.id, { owner: "w1", start: true, ...lease })
        expect(again._tag).toBe("Claimed")
        yield* TestClock.adjust("31 seconds")
        const takeover = yield* repo.claimRun(run.id, { owner: "w2", start: true, ...lease })
        expect(takeover._tag).toBe("Claimed")
        // the same worker carrying on is not a new attempt; another one taking over is
        if (takeover._tag === "Claimed") expect(takeover.run).toMatchObject({ status: "running", attempts: 2, lease: { owner: "w2" } })
      }))

    it.effect("holds a run without starting it for a dry run, and reports a finished run as finished", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const run = yield* queued()
        const dry = yield* repo.claimRun(run.id, { owner: "w1", start: false, ...lease })
        expect(dry._tag === "Claimed" && dry.run.status).toBe("queued")
        yield* repo.releaseLease({ runId: run.id, owner: "w1" })
        const { holder } = yield* claimed()
        yield* repo.updateRun(holder, { status: { from: "running", to: "done" } })
        const finished = yield* repo.claimRun(holder.runId, { owner: "w9", start: true, ...lease })
        expect(finished._tag).toBe("Finished")
      }))

    it.effect("hands queued runs to workers oldest first, never one that is held", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        // drain what other tests left queued, so this test sees only its own runs
        while ((yield* repo.claimNext({ owner: "drain", ...lease })) !== undefined) { /* drained */ }
        const older = yield* queued()
        yield* TestClock.adjust("1 second")
        const newer = yield* queued()
        const first = yield* repo.claimNext({ owner: "w1", ...lease })
        expect(first?.run.id).toBe(older.id)
        expect(first?.run.status).toBe("running")
        expect(first?.started).toBe(true)
        const second = yield* repo.claimNext({ owner: "w2", ...lease })
        expect(second?.run.id).toBe(newer.id)
        expect(yield* repo.claimNext({ owner: "w3", ...lease })).toBeUndefined()
      }))

    it.effect("fences every write by the lease: a worker that lost it writes nothing", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run } = yield* claimed("w1")
        const stranger = { runId: run.id, owner: "w2" }
        const o = order(run.id, "AAA", "10")
        expect((yield* Effect.flip(repo.saveOrders(stranger, [o], recorded())))._tag).toBe("LeaseLost")
        expect((yield* Effect.flip(repo.renewLease(stranger, 1000)))._tag).toBe("LeaseLost")
        expect((yield* Effect.flip(repo.updateRun(stranger, { error: "x" })))._tag).toBe("LeaseLost")
        expect(yield* repo.listOrders(run.id)).toEqual([])
        yield* repo.releaseLease(stranger)
        expect((yield* repo.getRun(run.id)).lease?.owner).toBe("w1")
      }))

    it.effect("records a cancel request on a running run without its lease, once, and on no other run", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { holder, run } = yield* claimed("w1")
        const asked = yield* repo.requestCancel(run.id, "2026-11-25T15:00:00.000Z")
        expect([asked.recorded, asked.run.status, asked.run.cancelRequestedAt, asked.run.lease?.owner])
          .toEqual([true, "running", "2026-11-25T15:00:00.000Z", "w1"])
        // Asked again: the first request stands.
        const again = yield* repo.requestCancel(run.id, "2026-11-25T15:05:00.000Z")
        expect([again.recorded, again.run.cancelRequestedAt]).toEqual([false, "2026-11-25T15:00:00.000Z"])
        expect((yield* repo.getRun(run.id)).cancelRequestedAt).toBe("2026-11-25T15:00:00.000Z")
        expect(yield* repo.cancelRequestedAt(run.id)).toBe("2026-11-25T15:00:00.000Z")
        // The holder's lease is untouched.
        yield* repo.renewLease(holder, 1000)

        const waiting = yield* queued()
        const notRunning = yield* repo.requestCancel(waiting.id, "2026-11-25T15:00:00.000Z")
        expect([notRunning.recorded, notRunning.run.status, notRunning.run.cancelRequestedAt]).toEqual([false, "queued", undefined])
        expect(yield* repo.cancelRequestedAt(waiting.id)).toBeUndefined()
        yield* repo.updateRun(holder, { status: { from: "running", to: "done" } })
        expect((yield* repo.requestCancel(run.id, "2026-11-25T15:10:00.000Z")).recorded).toBe(false)
        expect((yield* Effect.flip(repo.requestCancel("run_missing" as RunId, "2026-11-25T15:00:00.000Z")))._tag).toBe("RunNotFound")
        expect((yield* Effect.flip(repo.cancelRequestedAt("run_missing" as RunId)))._tag).toBe("RunNotFound")
      }))

    it.effect("names the run that traded on the account after a moment: one with fills, running or finished since", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        // Far past the other tests' runs, whose clocks start at 0, so this run is the last one started.
        yield* TestClock.setTime(Date.parse("2090-01-01T00:00:00.000Z"))
        const dryRun = yield* queued()
        const built = "2090-01-01T00:00:00.000Z"
        yield* TestClock.adjust("1 second")
        const { run, holder } = yield* claimed("w1")
        const o = order(run.id, "AAA", "10")
        yield* repo.saveOrders(holder, [o], recorded())
        expect(yield* repo.tradedSince(dryRun.id, built)).not.toBe(run.id) // started since, but no fill yet
        yield* repo.updateOrders(holder, [{ clientOrderId: o.clientOrderId, from: "NEW", to: "SUBMITTED", filledQuantity: d(0), commission: d(0) }], [])
        yield* repo.updateOrders(
          holder,
          [{ clientOrderId: o.clientOrderId, from: "SUBMITTED", to: "FILLED", filledQuantity: d(10), avgFillPrice: d(12), commission: d("1.0000001") }],
          [fill(o, unique("exec"), "10", "12")]
        )
        expect(yield* repo.tradedSince(dryRun.id, built)).toBe(run.id) // running, with a fill
        yield* TestClock.adjust("1 second")
        yield* repo.updateRun(holder, { status: { from: "running", to: "done" } })
        const finishedAt = (yield* repo.getRun(run.id)).finishedAt!
        expect(yield* repo.tradedSince(dryRun.id, built)).toBe(run.id) // finished after the moment
        expect(yield* repo.tradedSince(run.id, built)).not.toBe(run.id) // never the run itself
        expect(yield* repo.tradedSince(dryRun.id, finishedAt)).toBe(run.id) // in the same millisecond: maybe after
        const later = new Date(Date.parse(finishedAt) + 1).toISOString()
        expect(yield* repo.tradedSince(dryRun.id, later)).not.toBe(run.id) // finished before the moment

        // A run that ends without a fill has not traded.
        yield* TestClock.adjust("1 second")
        const quiet = yield* claimed("w2")
        yield* TestClock.adjust("1 second")
        yield* repo.updateRun(quiet.holder, { status: { from: "running", to: "done" } })
        expect(yield* repo.tradedSince(dryRun.id, built)).toBe(run.id)
      }))

    it.effect("names a failed run with a fill recorded after the moment, as reconcile records a late one, and not for a change without one", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        // Past the runs of the test before, so that this failed run is the last one started.
        yield* TestClock.setTime(Date.parse("2091-01-01T00:00:00.000Z"))
        const { run, holder } = yield* claimed("w1")
        const part = order(run.id, "AAA", "10")
        const rest = order(run.id, "BBB", "10")
        yield* repo.saveOrders(holder, [part, rest], recorded())
        yield* repo.updateOrders(holder, [part, rest].map((o) => ({ clientOrderId: o.clientOrderId, from: "NEW" as const, to: "SUBMITTED" as const, filledQuantity: d(0), commission: d(0) })), [])
        yield* repo.updateOrders(
          holder,
          [{ clientOrderId: part.clientOrderId, from: "SUBMITTED", to: "PARTIAL", filledQuantity: d(5), avgFillPrice: d(12), commission: d(1) }],
          [fill(part, unique("exec"), "5", "12")]
        )
        yield* repo.updateRun(holder, { status: { from: "running", to: "failed" }, error: "the venue stopped answering" })

        yield* TestClock.adjust("1 minute")
        const dryRun = yield* queued()
        const built = "2091-01-01T00:01:00.000Z"
        expect(yield* repo.tradedSince(dryRun.id, built)).toBeUndefined() // ended, and filled, before the moment

        // Reconcile holds the failed run and records what the venue did with its working orders since.
        yield* TestClock.adjust("1 minute")
        const settled = yield* repo.claimRun(run.id, { owner: "reconcile", start: false, settle: true, ...lease })
        expect(settled._tag).toBe("Claimed")
        const reconciler = { runId: run.id, owner: "reconcile" }
        // The partly filled order expired: a change with no fill, and its fill was seen.
        yield* repo.updateOrders(
          reconciler,
          [{ clientOrderId: part.clientOrderId, from: "PARTIAL", to: "CANCELED", filledQuantity: d(5), avgFillPrice: d(12), commission: d(1), rejectReason: "expired" }],
          []
        )
        expect(yield* repo.tradedSince(dryRun.id, built)).toBeUndefined()
        // The other one filled at the venue: a late fill, recorded now.
        yield* repo.updateOrders(
          reconciler,
          [{ clientOrderId: rest.clientOrderId, from: "SUBMITTED", to: "FILLED", filledQuantity: d(10), avgFillPrice: d(12), commission: d(1) }],
          [fill(rest, unique("exec"), "10", "12")]
        )
        expect((yield* repo.getRun(run.id)).status).toBe("failed")
        expect(yield* repo.tradedSince(dryRun.id, built)).toBe(run.id)
        expect(yield* repo.tradedSince(dryRun.id, "2091-01-01T00:03:00.000Z")).toBeUndefined() // recorded before that
      }))

    it.effect("saves orders with the run's record in one step, exactly, in the order given", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run, holder } = yield* claimed()
        const orders = [order(run.id, "ZZZ", "5", "SELL"), order(run.id, "AAA", "0.001")]
        yield* repo.saveOrders(holder, orders, recorded())
        expect(yield* repo.listOrders(run.id)).toEqual(orders)
        expect((yield* repo.getRun(run.id)).recorded).toEqual(recorded())
        const twice = yield* Effect.flip(repo.saveOrders(holder, orders, recorded()))
        expect(twice._tag).toBe("RepositoryError")
      }))

    it.effect("refuses a duplicate client order id in a run and writes none of the orders", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run, holder } = yield* claimed()
        const o = order(run.id, "AAA", "1")
        const error = yield* Effect.flip(repo.saveOrders(holder, [o, { ...o, quantity: d(2) }], recorded()))
        expect(error._tag).toBe("RepositoryError")
        expect(yield* repo.listOrders(run.id)).toEqual([])
        expect((yield* repo.getRun(run.id)).recorded).toBeUndefined()
      }))

    it.effect("records fills once per execution id and moves orders only from their current status", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run, holder } = yield* claimed()
        const o = order(run.id, "AAA", "10")
        yield* repo.saveOrders(holder, [o], recorded())
        yield* repo.updateOrders(holder, [{ clientOrderId: o.clientOrderId, from: "NEW", to: "SUBMITTED", filledQuantity: d(0), commission: d(0) }], [])
        const f1 = fill(o, unique("exec"), "4", "12.3400001")
        const partial = { clientOrderId: o.clientOrderId, from: "SUBMITTED", to: "PARTIAL", filledQuantity: d(4), avgFillPrice: d("12.3400001"), commission: d("1.0000001") } as const
        yield* repo.updateOrders(holder, [partial], [f1])
        // the same fill again is skipped; a stale `from` is refused and writes nothing
        const stale = yield* Effect.flip(repo.updateOrders(holder, [partial], [f1, fill(o, unique("exec"), "6", "12")]))
        expect(stale._tag).toBe("RepositoryError")
        expect(yield* repo.listFills(run.id)).toEqual([f1])
        yield* repo.updateOrders(holder, [{ ...partial, from: "PARTIAL", to: "PARTIAL" }], [f1])
        expect(yield* repo.listFills(run.id)).toEqual([f1])
        const [stored] = yield* repo.listOrders(run.id)
        expect(stored).toMatchObject({ status: "PARTIAL" })
        expect(Dec.toString(stored!.filledQuantity)).toBe("4")
        expect(Dec.toString(stored!.avgFillPrice!)).toBe("12.3400001")
        expect((yield* repo.summarize(run.id)).counts).toMatchObject({ orders: 1, PARTIAL: 1, NEW: 0, fills: 1 })
      }))

    it.effect("reads back a run of more orders and fills than a page: orders by position, fills by time then execution id", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run, holder } = yield* claimed()
        // Saved from the last symbol down, so that position order is not the symbols' order; more than the
        // 5,000 rows a statement reads.
        const orders = Array.from({ length: 5_003 }, (_, i) => order(run.id, `S${String(5_003 - i).padStart(5, "0")}`, "1"))
        yield* repo.saveOrders(holder, orders, recorded())
        yield* repo.updateOrders(holder, orders.map((o) => ({ clientOrderId: o.clientOrderId, from: "NEW", to: "SUBMITTED", filledQuantity: d(0), commission: d(0) } as const)), [])
        // Most fills at one time, so a page ends among fills of the same time; ids of one length and
        // alphabet, which every collation orders as bytes do.
        const fills = orders.map((o, i): Fill => ({
          ...fill(o, `x${run.id.slice(-6)}${String((i * 7_919) % 5_003).padStart(5, "0")}` as ExecutionId, "1", "12"),
          ...(i % 1_000 === 0 ? { time: "2026-11-25T14:30:01.500Z" } : {})
        }))
        yield* repo.updateOrders(
          holder,
          orders.map((o) => ({ clientOrderId: o.clientOrderId, from: "SUBMITTED", to: "FILLED", filledQuantity: d(1), avgFillPrice: d(12), commission: d("1.0000001") } as const)),
          fills
        )
        const stored = yield* repo.listOrders(run.id)
        expect(stored.map((o) => o.clientOrderId)).toEqual(orders.map((o) => o.clientOrderId))
        expect(stored.every((o) => o.status === "FILLED" && Dec.toString(o.avgFillPrice!) === "12")).toBe(true)
        const byTimeThenId = [...fills].sort((a, b) =>
          a.time < b.time ? -1 : a.time > b.time ? 1 : a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0
        )
        expect(yield* repo.listFills(run.id)).toEqual(byTimeThenId)
      }))

    it.effect("never stores a fill without its order", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { run, holder } = yield* claimed()
        const o = order(run.id, "AAA", "10")
        yield* repo.saveOrders(holder, [o], recorded())
        const stray = fill({ ...o, clientOrderId: "NOPE-B-1" as ClientOrderId }, unique("exec"), "1", "1")
        const error = yield* Effect.flip(repo.updateOrders(holder, [], [fill(o, unique("exec"), "1", "1"), stray]))
        expect(error._tag).toBe("RepositoryError")
        expect(yield* repo.listFills(run.id)).toEqual([])
      }))

    it.effect("records a run's status, risk verdict and error, and when it finished", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const { holder } = yield* claimed()
        const risk = {
          passed: false,
          policy: "block_run",
          violations: [{ rule: "max_order_notional", symbol: "AAA" as Symbol, limit: "5000", actual: "10000", reason: "max_order_notional:AAA" }],
          reasons: ["max_order_notional:AAA"],
          accepted: [],
          rejected: [{ clientOrderId: "AAA-B-1" as ClientOrderId, reason: "max_order_notional:AAA" }]
        } as const
        yield* repo.updateRun(holder, { status: { from: "running", to: "blocked" }, risk, error: "blocked by risk" })
        const done = yield* repo.getRun(holder.runId)
        expect(done).toMatchObject({ status: "blocked", error: "blocked by risk", risk })
        expect(done.finishedAt).toBeDefined()
        const { run: summary, counts } = yield* repo.summarize(holder.runId)
        expect(summary).toMatchObject({ id: holder.runId, status: "blocked", error: "blocked by risk" })
        expect(summary).not.toHaveProperty("params")
        expect(counts).toEqual({ orders: 0, fills: 0, NEW: 0, SUBMITTED: 0, PARTIAL: 0, FILLED: 0, CANCELED: 0, REJECTED: 0 })
        const stale = yield* Effect.flip(repo.updateRun(holder, { status: { from: "running", to: "done" } }))
        expect(stale._tag).toBe("RepositoryError")
      }))

    it.effect("rolls back every write of a failed transaction, audit events included", () =>
      Effect.gen(function*() {
        const repo = yield* TradeRepository
        const audit = yield* AuditLog
        const { run, holder } = yield* claimed()
        const before = (yield* audit.list()).length
        const result = yield* Effect.flip(repo.withTransaction(Effect.gen(function*() {
          yield* repo.saveOrders(holder, [order(run.id, "AAA", "1")], recorded())
          yield* audit.append([{ type: "test.event", runId: run.id, payload: { n: 1 } }])
          return yield* new RepositoryError({ operation: "test", reason: "boom" })
        })))
        expect(result).toMatchObject({ _tag: "RepositoryError", reason: "boom" })
        expect(yield* repo.listOrders(run.id)).toEqual([])
        expect((yield* audit.list()).length).toBe(before)
        expect((yield* audit.verify).ok).toBe(true)
      }))

    it.effect("chains audit events, lists them by run, and verifies the chain", () =>
      Effect.gen(function*() {
        const audit = yield* AuditLog
        const runId = unique("run")
        const added = yield* audit.append([
          { type: "a", runId, payload: { amount: d("1.50"), nested: { z: 1, a: [true, null] } } },
          { type: "b", runId, payload: "text" }
        ])
        expect(added[1]!.prevHash).toBe(added[0]!.hash)
        const listed = yield* audit.list({ runId })
        expect(listed.map((e) => [e.type, e.seq, e.hash])).toEqual([["a", added[0]!.seq, added[0]!.hash], ["b", added[1]!.seq, added[1]!.hash]])
        expect(listed[0]!.payload).toEqual({ amount: "1.5", nested: { z: 1, a: [true, null] } })
        const verified = yield* audit.verify
        expect(verified.ok).toBe(true)
        const all = yield* audit.list()
        expect(verified.head).toBe(all.at(-1)!.hash)
      }))

    it.effect.each([0, -1])("counts an event numbered %i, put in with a made-up hash, as inserted and names it", (seq) =>
      Effect.gen(function*() {
        const audit = yield* AuditLog
        const tamper = yield* Tamper
        const runId = unique("run")
        yield* audit.append([{ type: "t", runId, payload: { n: 1 } }])
        expect((yield* audit.verify).ok).toBe(true)
        yield* tamper.insertAuditEvent(seq, runId)
        // Listed first in the run's trail, as the chain orders it...
        expect((yield* audit.list({ runId })).map((e) => e.seq)[0]).toBe(seq)
        // ...and never verified.
        const verified = yield* audit.verify
        expect(verified.ok).toBe(false)
        expect(verified.broken?.seq).toBe(seq)
        expect(verified.broken?.reason).toContain("inserted")
        // The log is shared by the tests after this one.
        yield* tamper.removeAuditEvent(seq)
        expect((yield* audit.verify).ok).toBe(true)
      }))

    it.effect("names the first altered audit event", () =>
      Effect.gen(function*() {
        const audit = yield* AuditLog
        const tamper = yield* Tamper
        const added = yield* audit.append([1, 2, 3].map((n) => ({ type: "t", payload: { n } })))
        yield* tamper.auditEvent(added[1]!.seq)
        const verified = yield* audit.verify
        expect(verified.ok).toBe(false)
        expect(verified.broken?.seq).toBe(added[1]!.seq)
        expect(verified.broken?.reason).toContain("altered")
      }))
  })
