import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Layer, TestClock } from "effect"
import { stat } from "node:fs"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, Symbol } from "../../src/domain/Ids.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { ExecutionError } from "../../src/ports/errors.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { item, makeWorld, quote } from "../support/world.js"

const d = Dec.unsafe
const text = (o: { readonly symbol: string; readonly side: string; readonly quantity: Dec.Decimal; readonly status: string }) =>
  `${o.symbol} ${o.side} ${Dec.toString(o.quantity)} ${o.status}`

describe("TradeRunner.execute", () => {
  it.effect("dry-runs the origin case to two NEW orders, then a real execute reuses them", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 25)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000) })

      const outcome = yield* world.runner.execute(run.id, { dryRun: true })
      expect(outcome).toMatchObject({ dryRun: true, run: { status: "queued" }, counts: { orders: 2, NEW: 2, fills: 0 } })
      const dry = yield* world.runner.report(run.id)
      expect(dry.run.status).toBe("queued")
      expect(dry.orders.map(text)).toEqual(["AAA BUY 40 NEW", "BBB BUY 40 NEW"])
      expect(dry.risk?.passed).toBe(true)
      expect((yield* world.venue.orders).size).toBe(0)

      const real = yield* world.execute(run.id)
      expect(real.run.status).toBe("done")
      expect(real.orders.map((o) => o.clientOrderId)).toEqual(dry.orders.map((o) => o.clientOrderId))
      expect(real.orders.map(text)).toEqual(["AAA BUY 40 FILLED", "BBB BUY 40 FILLED"])
      expect(real.fills.map((f) => `${f.symbol} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)}`)).toEqual([
        "AAA 40 @ 50",
        "BBB 40 @ 25"
      ])
      const dryEvent = world.audit.events.find((e) => e.type === "trade_run.execute" && (e.payload as { dryRun: boolean }).dryRun)
      expect(dryEvent).toBeDefined()
    }))

  it.effect("records the price map, positions and builder settings it built from", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50, { time: "2026-11-25T14:00:00.000Z" })], mock: { cash: 5000 } })
      const run = yield* world.queueRun([item("AAA", "0.5")], { portfolioValue: d(10000), cashBufferRatio: d("0.1") })
      const report = yield* world.execute(run.id)
      const recorded = report.run.recorded!
      expect(recorded.prices.map((q) => [q.symbol, Dec.toString(q.price), q.time])).toEqual([["AAA", "50", "2026-11-25T14:00:00.000Z"]])
      expect(Dec.toString(recorded.settings.portfolioValue)).toBe("10000")
      expect(Dec.toString(recorded.settings.cash)).toBe("5000")
      expect(Dec.toString(recorded.settings.cashBufferRatio)).toBe("0.1")
      expect(recorded.settings.modelVersion).toBe("default")
    }))

  it.effect("sizes from the paper account when the run gives no portfolio value or positions", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({
        quotes: [quote("AAA", 10), quote("BBB", 20)],
        mock: { cash: 1000, positions: [{ symbol: "AAA" as Symbol, quantity: d(100) }] }
      })
      // account: 1000 cash + 100 AAA × 10 = 2000
      const run = yield* world.queueRun([item("AAA", "0.25"), item("BBB", "0.5")])
      const report = yield* world.execute(run.id)
      expect(report.orders.map(text)).toEqual(["AAA SELL 50 FILLED", "BBB BUY 50 FILLED"])
      const account = yield* world.provider.account
      expect(account.positions.map((p) => `${p.symbol} ${Dec.toString(p.quantity)}`)).toEqual(["AAA 50", "BBB 50"])
      expect(Dec.toString(account.cash)).toBe("500")
    }))

  it.effect("rebalances a second run from what the first one bought", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 10), quote("BBB", 10)], mock: { cash: 10000 } })
      const first = yield* world.queueRun([item("AAA", "0.5"), item("BBB", "0.5")])
      yield* world.execute(first.id)
      const second = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.8")])
      const report = yield* world.execute(second.id)
      expect(report.orders.map(text)).toEqual(["AAA SELL 300 FILLED", "BBB BUY 300 FILLED"])
    }))

  it.effect("never duplicates orders or fills when a run is executed again, and a done run writes nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 25)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000) })
      const first = yield* world.execute(run.id)
      const before = yield* world.dump
      const again = yield* world.execute(run.id)
      const third = yield* world.execute(run.id, { dryRun: true })
      expect(yield* world.dump).toBe(before)
      expect(again.orders).toEqual(first.orders)
      expect(again.fills).toEqual(first.fills)
      expect(third.run.status).toBe("done")
    }))

  it.effect("blocks the run on a risk violation: violators REJECTED, the rest CANCELED, nothing submitted", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 100), quote("BBB", 10)], mock: { cash: 20000 } })
      const run = yield* world.queueRun([item("AAA", "0.5"), item("BBB", "0.1")], {
        portfolioValue: d(20000),
        risk: { maxOrderNotional: d(5000) }
      })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("blocked")
      expect(report.run.error).toBe("blocked by risk: max_order_notional:AAA")
      expect(report.orders.map((o) => [o.symbol, o.status, o.rejectReason])).toEqual([
        ["AAA", "REJECTED", "max_order_notional:AAA"],
        ["BBB", "CANCELED", "run_blocked"]
      ])
      expect(report.risk?.violations).toEqual([
        { rule: "max_order_notional", symbol: "AAA", limit: "5000", actual: "10000", reason: "max_order_notional:AAA" }
      ])
      expect((yield* world.venue.orders).size).toBe(0)
      const riskEvent = world.audit.events.find((e) => e.type === "trade_run.risk")
      expect(riskEvent?.payload).toMatchObject({ passed: false, reasons: ["max_order_notional:AAA"] })
      const execute = world.audit.events.find((e) => e.type === "trade_run.execute")
      expect(execute?.payload).toMatchObject({
        snapshotId: run.snapshotId,
        riskParams: { limits: { maxOrderNotional: "5000" }, policy: "block_run" },
        counts: { orders: 2, REJECTED: 1, CANCELED: 1 },
        error: "blocked by risk: max_order_notional:AAA"
      })
    }))

  it.effect("drops only the violating orders under drop_orders and executes the rest", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 100), quote("BBB", 10)], mock: { cash: 20000 } })
      const run = yield* world.queueRun([item("AAA", "0.5"), item("BBB", "0.1")], {
        portfolioValue: d(20000),
        risk: { maxOrderNotional: d(5000) },
        riskPolicy: "drop_orders"
      })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => [o.symbol, o.status, o.rejectReason])).toEqual([
        ["AAA", "REJECTED", "max_order_notional:AAA"],
        ["BBB", "FILLED", undefined]
      ])
    }))

  it.effect("fails the run with the error detail when the provider fails", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({
        quotes: [quote("AAA", 50)],
        mock: { cash: 10000 },
        provider: (inner) => ({
          ...inner,
          submit: () => Effect.fail(new ExecutionError({ provider: "paper", operation: "submit", reason: "connection refused" }))
        })
      })
      const run = yield* world.queueRun([item("AAA", "0.2")], { portfolioValue: d(10000) })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("failed")
      expect(report.run.error).toBe("ExecutionError: paper submit failed: connection refused")
      const execute = world.audit.events.find((e) => e.type === "trade_run.execute")
      expect(execute?.payload).toMatchObject({ error: "ExecutionError: paper submit failed: connection refused" })
    }))

  it.effect("rejects an order whose price is missing at execution and completes the rest", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 25)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000) })
      yield* world.execute(run.id, { dryRun: true })
      yield* world.feed.remove(["AAA" as Symbol])
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => [o.symbol, o.status, o.rejectReason])).toEqual([
        ["AAA", "REJECTED", "missing_price"],
        ["BBB", "FILLED", undefined]
      ])
    }))

  it.effect("fails the run, submitting nothing, when the snapshot's items changed after freezing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2")], { portfolioValue: d(10000) })
      const snapshot = world.repo.store.snapshots.get(run.snapshotId)!
      world.repo.store.snapshots.set(run.snapshotId, { ...snapshot, items: [item("AAA", "0.9")] })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("failed")
      expect(report.run.error).toContain("SnapshotChanged")
      expect(report.run.error).toContain("changed after it was frozen")
      expect(report.orders).toEqual([])
      expect((yield* world.venue.orders).size).toBe(0)
    }))

  it.effect("refuses a snapshot that is not frozen or did not succeed", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50)], mock: { cash: 10000 } })
      const pending = yield* world.repo.service.createSnapshot({ items: [item("AAA", "0.2")], freeze: false })
      const run = yield* world.repo.service.createRun({ snapshotId: pending.id, params: { portfolioValue: d(10000) } })
      const report = yield* world.execute(run.id)
      expect(report.run.error).toContain("is not frozen")
      const failed = yield* world.repo.service.createSnapshot({ items: [item("AAA", "0.2")], status: "failed" })
      const run2 = yield* world.repo.service.createRun({ snapshotId: failed.id, params: { portfolioValue: d(10000) } })
      expect((yield* world.execute(run2.id)).run.error).toContain("has status failed")
    }))

  it.effect("fails the run with the row and field when the run's input is invalid", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2")], { portfolioValue: d(10000), cashBufferRatio: d("1.5") })
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("failed")
      expect(report.run.error).toContain("cashBufferRatio: must be at least 0 and less than 1")
      expect(report.orders).toEqual([])
    }))

  it.effect("refuses a run another worker holds, without failing it", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2")], { portfolioValue: d(10000) })
      yield* world.repo.service.claimRun(run.id, { owner: "other-worker", leaseMillis: 30_000, start: true })
      const error = yield* Effect.flip(world.execute(run.id))
      expect(error._tag).toBe("RunHeld")
      expect(error.message).toContain("held by other-worker")
      expect((yield* world.repo.service.getRun(run.id)).status).toBe("running")
      // once the lease has expired, the run is resumed
      yield* TestClock.adjust("31 seconds")
      expect((yield* world.execute(run.id)).run.status).toBe("done")
    }))

  it.effect("gives the host's event loop a turn after building the orders and between batches", () =>
    Effect.gen(function*() {
      // The memory world never waits on I/O: without the turns a run is one unbroken run of microtasks.
      const symbols = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(2, "0")}`)
      const world = yield* makeWorld({ quotes: symbols.map((s) => quote(s, 10)), mock: { cash: 100000 }, runner: { submitBatchSize: 10 } })
      const run = yield* world.queueRun(symbols.map((s) => item(s, "0.02")), { portfolioValue: d(100000), positions: [] })
      let turns = 0
      let handle = setImmediate(function tick() {
        turns++
        handle = setImmediate(tick)
      })
      const report = yield* world.execute(run.id).pipe(Effect.ensuring(Effect.sync(() => clearImmediate(handle))))
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => o.status)).toEqual(symbols.map(() => "FILLED"))
      // Four turns of two hops each (after the build, between the four batches): at least one loop pass each.
      expect(turns).toBeGreaterThanOrEqual(5)
    }))

  it.effect("gives the host's event loop a turn between the claim, reading the snapshot, saving the orders and the first batch", () =>
    Effect.gen(function*() {
      // At 50,000 names each of these steps holds the thread for a few hundred milliseconds on SQLite.
      const steps: Array<string> = []
      const symbols = Array.from({ length: 20 }, (_, i) => `S${String(i).padStart(2, "0")}`)
      const world = yield* makeWorld({
        quotes: symbols.map((s) => quote(s, 10)),
        mock: { cash: 100000 },
        runner: { submitBatchSize: 10 },
        repository: (inner) => ({
          ...inner,
          claimRun: (runId, options) => Effect.tap(inner.claimRun(runId, options), () => Effect.sync(() => steps.push("run claimed"))),
          getSnapshot: (id) => Effect.tap(inner.getSnapshot(id), () => Effect.sync(() => steps.push("snapshot read"))),
          // Called between two of the turns each, so that every turn is seen on its own.
          listOrders: (runId) => Effect.tap(inner.listOrders(runId), () => Effect.sync(() => steps.push("orders listed"))),
          listFills: (runId) => Effect.tap(inner.listFills(runId), () => Effect.sync(() => steps.push("fills listed"))),
          saveOrders: (holder, orders, recorded) =>
            Effect.suspend(() => (steps.push("orders saved"), inner.saveOrders(holder, orders, recorded)))
        }),
        provider: (inner) => ({ ...inner, submit: (orders) => Effect.suspend(() => (steps.push("batch sent"), inner.submit(orders))) })
      })
      const run = yield* world.queueRun(symbols.map((s) => item(s, "0.04")), { portfolioValue: d(100000), positions: [] })
      let handle = setImmediate(function tick() {
        if (steps.at(-1) !== "turn") steps.push("turn")
        handle = setImmediate(tick)
      })
      const report = yield* world.execute(run.id).pipe(Effect.ensuring(Effect.sync(() => clearImmediate(handle))))
      expect(report.run.status).toBe("done")
      const expected = [
        "run claimed",
        "turn",
        "snapshot read",
        "turn",
        "orders listed",
        "turn",
        "orders saved",
        "turn",
        "fills listed",
        "turn",
        "batch sent",
        "turn",
        "batch sent"
      ]
      const from = steps.indexOf("run claimed")
      expect(steps.slice(from, from + expected.length)).toEqual(expected)
    }))

  it.effect("serves the host's I/O before it sends an order, even when it starts inside an I/O callback", () =>
    Effect.gen(function*() {
      const symbols = Array.from({ length: 2000 }, (_, i) => `S${String(i).padStart(4, "0")}`)
      let submitted = 0
      const world = yield* makeWorld({
        quotes: symbols.map((s) => quote(s, 10)),
        mock: { cash: 100000 },
        runner: { submitBatchSize: 500 },
        provider: (inner) => ({ ...inner, submit: (orders) => Effect.suspend(() => ((submitted += orders.length), inner.submit(orders))) })
      })
      const run = yield* world.queueRun(symbols.map((s) => item(s, "0.0004")), { portfolioValue: d(100000), positions: [] })
      // Where the CLI is when it starts a run: in the callback of a file it has just read.
      yield* Effect.async<void>((resume) => stat(".", () => resume(Effect.void)))
      // An I/O completion (a signal, a socket, a file) that arrives while the orders are built.
      let sentWhenServed: number | undefined
      stat(".", () => (sentWhenServed = submitted))
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders).toHaveLength(2000)
      expect(sentWhenServed).toBe(0)
    }))

  it.effect("names an unknown run id", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld()
      const error = yield* Effect.flip(world.execute("run_nope" as RunId))
      expect(error._tag).toBe("RunNotFound")
      expect(error.message).toContain("run_nope")
    }))

  describe("crash and resume", () => {
    const n = 5
    for (let k = 0; k <= n; k++) {
      it.effect(`completes exactly once when the worker dies after ${k} of ${n} submissions`, () =>
        Effect.gen(function*() {
          let forwarded = 0
          let crashing = true
          const world = yield* makeWorld({
            quotes: ["A1", "A2", "A3", "A4", "A5"].map((s) => quote(s, 10)),
            mock: { cash: 100000 },
            runner: { submitBatchSize: 2 },
            provider: (inner) => ({
              ...inner,
              submit: (orders) =>
                Effect.forEach(orders, (order) =>
                  crashing && forwarded >= k
                    ? Effect.die("worker crashed")
                    : Effect.tap(inner.submit([order]), () => Effect.sync(() => forwarded++))).pipe(Effect.map((r) => r.flat()))
            })
          })
          const run = yield* world.queueRun(["A1", "A2", "A3", "A4", "A5"].map((s) => item(s, "0.1")), { portfolioValue: d(100000) })
          const crashed = yield* Effect.exit(world.execute(run.id))
          if (k < n) expect(crashed._tag).toBe("Failure")
          expect((yield* world.repo.service.getRun(run.id)).status).toBe(k < n ? "running" : "done")

          crashing = false
          const second = yield* world.runnerWith({ workerId: "second-worker" })
      yield* second.execute(run.id)
      const resumed = yield* second.report(run.id)
          expect(resumed.run.status).toBe("done")
          const ids = resumed.orders.map((o) => o.clientOrderId)
          expect(new Set(ids).size).toBe(n)
          expect(resumed.orders.every((o) => o.status === "FILLED")).toBe(true)
          const executionIds = resumed.fills.map((f) => f.executionId)
          expect(new Set(executionIds).size).toBe(executionIds.length)
          expect(executionIds.length).toBe(n)
          for (const order of resumed.orders) {
            const filled = Dec.sum(resumed.fills.filter((f) => f.clientOrderId === order.clientOrderId).map((f) => f.quantity))
            expect(Dec.eq(filled, order.filledQuantity)).toBe(true)
          }
          // the broker saw each order exactly once
          expect([...(yield* world.venue.orders).keys()].sort()).toEqual([...ids].sort())
          expect((yield* world.audit.service.verify).ok).toBe(true)
          expect((yield* world.runner.replay(run.id)).matches).toBe(true)
        }))
    }
  })

  it.effect("settles a submit that timed out through status(), without submitting again", () =>
    Effect.gen(function*() {
      const submitted: Array<string> = []
      const world = yield* makeWorld({
        quotes: [quote("AAA", 50), quote("BBB", 25)],
        mock: { cash: 10000 },
        runner: { providerTimeout: "5 seconds" },
        provider: (inner) => ({
          ...inner,
          // the broker takes the orders, but its answer never arrives
          submit: (orders) =>
            Effect.zipRight(
              Effect.tap(inner.submit(orders), () => Effect.sync(() => submitted.push(...orders.map((o) => o.clientOrderId)))),
              Effect.never
            )
        })
      })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000) })
      const fiber = yield* Effect.fork(world.execute(run.id))
      // The run gives the host's event loop turns on its way (real timers): the clock moves once the
      // broker has the orders and the run waits for its answer.
      const realTick = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))
      yield* Effect.repeat(realTick, { until: () => submitted.length > 0, times: 5000 })
      yield* TestClock.adjust("6 seconds")
      const report = yield* Fiber.join(fiber)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => o.status)).toEqual(["FILLED", "FILLED"])
      expect(submitted).toEqual(report.orders.map((o) => o.clientOrderId))
    }))
})

describe("TradeRunner.replay", () => {
  it.effect("rebuilds the same orders from what the run recorded, and agrees with the audit trail", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 33)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000), cashBufferRatio: d("0.1") })
      yield* world.execute(run.id)
      // the market moves after the run: replay must use what the run saw
      yield* world.feed.set([quote("AAA", 70), quote("BBB", 10)])
      const replay = yield* world.runner.replay(run.id)
      expect(replay).toMatchObject({ replayable: true, ordersMatch: true, auditMatches: true, fillsMatch: true, matches: true })
    }))

  it.effect("reports a persisted order that differs from its rebuild, field by field", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 33)], mock: { cash: 10000 } })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("BBB", "0.1")], { portfolioValue: d(10000), cashBufferRatio: d("0.1") })
      const report = yield* world.execute(run.id, { dryRun: true })
      const orders = world.repo.store.orders.get(run.id)!
      const aaa = report.orders[0]!
      orders.set(aaa.clientOrderId, { ...aaa, quantity: d(37) })
      const replay = yield* world.runner.replay(run.id)
      expect(replay.matches).toBe(false)
      expect(replay.differences).toEqual([
        { clientOrderId: aaa.clientOrderId, symbol: "AAA", field: "quantity", persisted: "37", rebuilt: "36" }
      ])
    }))

  it.effect("says a run that has not built its orders cannot be replayed yet", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 50)] })
      const run = yield* world.queueRun([item("AAA", "0.2")], { portfolioValue: d(10000) })
      const replay = yield* world.runner.replay(run.id)
      expect(replay).toMatchObject({ replayable: false, reason: "the run has not built its orders yet", matches: false })
    }))
})

describe("TradeRunner.make", () => {
  it.effect.each([
    [{ leaseSeconds: 0 }, "leaseSeconds must be from 1 to 86400 (got 0)"],
    [{ leaseSeconds: Number.NaN }, "leaseSeconds must be from 1 to 86400 (got NaN)"],
    [{ submitBatchSize: 0 }, "submitBatchSize must be a whole number of orders, at least 1 (got 0)"],
    [{ submitBatchSize: 2.5 }, "submitBatchSize must be a whole number of orders, at least 1 (got 2.5)"],
    [{ followInterval: Duration.zero }, "followInterval must be longer than zero"]
  ] as const)("refuses a host's options that would break its leases or batches: %o", ([options, message]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(TradeRunner.make(options).pipe(
        Effect.provide(Layer.mergeAll(TradeRepository.layerMemory, AuditLog.layerMemory, ExecutionProvider.layerMemory(), PriceFeed.layerMemory([])))
      ))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause) ? String(Cause.squash(exit.cause)) : exit).toContain(`TradeRunner.make: ${message}`)
    }))
})
