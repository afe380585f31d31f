import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, RunId, Symbol } from "../../src/domain/Ids.js"
import type { TradeOrder } from "../../src/domain/Order.js"
import type { RunOutcome } from "../../src/TradeRunner.js"
import { makeScriptedVenue } from "../support/scriptedVenue.js"
import { item, makeWorld, quote } from "../support/world.js"

const d = Dec.unsafe
const state = (o: TradeOrder) => `${o.symbol} ${o.status} ${Dec.toString(o.filledQuantity)}${o.rejectReason === undefined ? "" : ` ${o.rejectReason}`}`

/** A world whose venue works every order until the test moves it. */
const following = (options: { readonly confirmCancels?: boolean } = {}) =>
  Effect.gen(function*() {
    const venue = yield* makeScriptedVenue(options)
    const world = yield* makeWorld({ quotes: [quote("AAA", 10), quote("BBB", 20)], provider: () => venue.provider })
    return { world, venue }
  })

/** Real turns of the event loop until `done` (the runner gives the host turns on real timers on its way). */
const untilReal = (done: () => boolean) =>
  Effect.repeat(Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1))), { until: done, times: 5000 })

/**
 * A run of one order (AAA) executed in a fiber that follows it every second for up to `wait`, returned once
 * the order is at the venue.
 */
const executingFor = (wait: Duration.DurationInput) =>
  Effect.gen(function*() {
    const { world, venue } = yield* following()
    const runner = yield* world.runnerWith({ followInterval: "1 second" })
    const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
    const fiber = yield* Effect.fork(runner.execute(run.id, { wait }))
    yield* untilReal(() => venue.calls.submit > 0)
    return { venue, fiber }
  })

const idOf = (orders: ReadonlyArray<TradeOrder>, symbol: string) => orders.find((o) => o.symbol === symbol)!.clientOrderId as ClientOrderId

describe("a run follows its orders until each is final", () => {
  it.effect("stays running, with its lease given back and its next check due, while an order works", () =>
    Effect.gen(function*() {
      const { world } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      const outcome = yield* world.runner.execute(run.id)
      expect(outcome).toMatchObject({ run: { status: "running" }, working: 2, counts: { SUBMITTED: 2 } })
      const stored = yield* world.repo.service.getRun(run.id)
      expect(stored.lease).toBeUndefined()
      expect(stored.nextCheckAt).toBeDefined()
      expect(world.audit.events.filter((e) => e.type === "trade_run.execute")).toEqual([])
    }))

  it.effect("records late fills once and ends the run done when the last order is final", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      const first = yield* world.execute(run.id)
      const aaa = idOf(first.orders, "AAA")
      const bbb = idOf(first.orders, "BBB")

      yield* venue.fill(aaa, 10, "9.99")
      const partial = yield* world.execute(run.id)
      expect(partial.run.status).toBe("running")
      expect(partial.orders.map(state)).toEqual(["AAA PARTIAL 10", "BBB SUBMITTED 0"])

      // A check that finds nothing new writes nothing new.
      const events = world.audit.events.filter((e) => e.type.startsWith("trade_order")).length
      yield* world.runner.execute(run.id)
      expect(world.audit.events.filter((e) => e.type.startsWith("trade_order")).length).toBe(events)

      yield* venue.fill(aaa, 20, "10")
      yield* venue.fill(bbb, 10, "20")
      const done = yield* world.execute(run.id)
      expect(done.run.status).toBe("done")
      expect(done.orders.map(state)).toEqual(["AAA FILLED 30", "BBB FILLED 10"])
      expect(done.fills.map((f) => f.executionId)).toEqual([`${aaa}-X1`, `${aaa}-X2`, `${bbb}-X1`])
      expect(Dec.toString(done.orders[0]!.avgFillPrice!)).toBe("9.9966666667")

      const before = yield* world.dump
      yield* world.runner.execute(run.id)
      expect(yield* world.dump).toBe(before)
      expect(venue.calls.submit).toBe(1)
      expect((yield* world.runner.replay(run.id)).matches).toBe(true)
      expect((yield* world.audit.service.verify).ok).toBe(true)
    }))

  it.effect("follows the working orders for as long as the caller waits, checking every interval", () =>
    Effect.gen(function*() {
      const { venue, fiber } = yield* executingFor("10 seconds")
      yield* TestClock.adjust("1 second")
      const [request] = yield* venue.requests
      expect(request).toBeDefined()
      yield* venue.fill(request!.clientOrderId, 30, 10)
      yield* TestClock.adjust("1 second")
      const outcome = yield* Fiber.join(fiber)
      expect(outcome).toMatchObject({ run: { status: "done" }, working: 0, counts: { FILLED: 1 } })
    }))

  it.effect("hands the run back running once the wait runs out", () =>
    Effect.gen(function*() {
      const { venue, fiber } = yield* executingFor("3 seconds")
      yield* TestClock.adjust("5 seconds")
      const outcome = yield* Fiber.join(fiber)
      expect(outcome).toMatchObject({ run: { status: "running" }, working: 1 })
      expect(venue.calls.status).toBeGreaterThanOrEqual(3)
    }))

  it.effect("sends the time in force with every order", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000), timeInForce: "GTC" })
      yield* world.runner.execute(run.id)
      expect((yield* venue.requests).map((r) => r.timeInForce)).toEqual(["GTC"])
      const day = yield* world.queueRun([item("BBB", "0.1")], { portfolioValue: d(1000) })
      yield* world.runner.cancel(run.id)
      yield* world.runner.execute(day.id)
      expect((yield* venue.requests).map((r) => r.timeInForce)).toEqual(["GTC", "DAY"])
    }))

  it.effect("ends an order the venue expires CANCELED with reason expired, its fills kept", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      const first = yield* world.execute(run.id)
      const aaa = idOf(first.orders, "AAA")
      yield* venue.fill(aaa, 5, 10)
      yield* venue.expire(aaa)
      const done = yield* world.execute(run.id)
      expect(done.run.status).toBe("done")
      expect(done.orders.map(state)).toEqual(["AAA CANCELED 5 expired"])
      expect(done.fills).toHaveLength(1)
    }))

  it.effect("cancels what still works past the run's deadline, keeping the fills, and ends the run", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], {
        portfolioValue: d(1000),
        cancelAfter: Duration.minutes(15)
      })
      const first = yield* world.execute(run.id)
      yield* venue.fill(idOf(first.orders, "AAA"), 12, 10)
      const before = yield* world.execute(run.id)
      expect(before.run.status).toBe("running")
      expect(venue.calls.cancel).toBe(0)

      yield* TestClock.adjust("16 minutes")
      const after = yield* world.execute(run.id)
      expect(after.run.status).toBe("done")
      expect(after.orders.map(state)).toEqual(["AAA CANCELED 12 deadline", "BBB CANCELED 0 deadline"])
      const end = world.audit.events.find((e) => e.type === "trade_run.execute")
      expect(end?.payload).toMatchObject({ endedBy: "deadline" })
      expect((yield* world.runner.replay(run.id)).matches).toBe(true)
    }))

  it.effect("keeps following an order whose cancel the venue has not confirmed yet", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following({ confirmCancels: false })
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000), cancelAfter: Duration.seconds(1) })
      const first = yield* world.execute(run.id)
      yield* TestClock.adjust("2 seconds")
      expect((yield* world.execute(run.id)).run.status).toBe("running")
      yield* venue.confirmCancel(idOf(first.orders, "AAA"))
      const done = yield* world.execute(run.id)
      expect(done.orders.map(state)).toEqual(["AAA CANCELED 0 deadline"])
      expect(done.run.status).toBe("done")
    }))
})

describe("TradeRunner.cancel", () => {
  it.effect("ends a queued run with nothing ever sent", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      yield* world.runner.execute(run.id, { dryRun: true })
      const outcome = yield* world.runner.cancel(run.id)
      expect(outcome).toMatchObject({ run: { status: "done" }, counts: { CANCELED: 1 } })
      const report = yield* world.runner.report(run.id)
      expect(report.orders.map(state)).toEqual(["AAA CANCELED 0 canceled_by_user"])
      expect(venue.calls.submit).toBe(0)
    }))

  it.effect("cancels a running run's working orders at the venue, keeping their fills, and ends the run", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      const first = yield* world.execute(run.id)
      yield* venue.fill(idOf(first.orders, "BBB"), 4, 20)
      const outcome = yield* world.runner.cancel(run.id)
      expect(outcome.run.status).toBe("done")
      const report = yield* world.runner.report(run.id)
      expect(report.orders.map(state)).toEqual(["AAA CANCELED 0 canceled_by_user", "BBB CANCELED 4 canceled_by_user"])
      expect(report.fills).toHaveLength(1)
      expect(world.audit.events.some((e) => e.type === "trade_run.cancel")).toBe(true)
      expect((yield* world.audit.service.verify).ok).toBe(true)
    }))

  it.effect("asks the process that follows a run to cancel what still works, and that process does at its next check", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const follower = yield* world.runnerWith({ workerId: "follower", followInterval: "1 second" })
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      const following_ = yield* Effect.fork(follower.execute(run.id, { wait: "1 hour" }))
      yield* untilReal(() => venue.calls.submit > 0)
      const [aaa] = yield* venue.requests
      yield* venue.fill(aaa!.clientOrderId, 10, 10)

      // Another process: it cannot take the run from its holder, so it leaves the request on the run.
      const asked = yield* world.runnerWith({ workerId: "trader" }).pipe(Effect.flatMap((other) => other.cancel(run.id)))
      expect(asked.run).toMatchObject({ status: "running", lease: { owner: "follower" } })
      expect(asked.run.cancelRequestedAt).toBeDefined()
      expect(world.audit.events.filter((e) => e.type === "trade_run.cancel_requested").map((e) => e.payload))
        .toEqual([{ worker: "trader", holder: "follower" }])
      expect(venue.calls.cancel).toBe(0)

      yield* TestClock.adjust("1 second")
      const outcome = yield* Fiber.join(following_)
      expect(outcome).toMatchObject({ run: { status: "done" }, working: 0 })
      const report = yield* world.runner.report(run.id)
      expect(report.orders.map(state)).toEqual(["AAA CANCELED 10 canceled_by_user", "BBB CANCELED 0 canceled_by_user"])
      expect((yield* world.audit.service.verify).ok).toBe(true)
      expect((yield* world.runner.replay(run.id)).matches).toBe(true)
    }))

  it.effect("stops sending a large run within a batch of a cancel asked from another process, and cancels what it sent", () =>
    Effect.gen(function*() {
      const symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
      const venue = yield* makeScriptedVenue()
      const world = yield* makeWorld({ quotes: symbols.map((s) => quote(s, 10)), provider: () => venue.provider })
      const run = yield* world.queueRun(symbols.map((s) => item(s, "0.1")), { portfolioValue: d(1000) })
      // The request arrives while the first batch of two is out, as `trade-exec cancel` in another terminal would.
      const sender = yield* world.runnerWith({
        submitBatchSize: 2,
        onProgress: (progress) =>
          progress.phase === "submitting" && progress.done === 2
            ? Effect.asVoid(Effect.orDie(world.repo.service.requestCancel(run.id, "2026-11-25T15:00:00.000Z")))
            : Effect.void
      })
      const outcome = yield* sender.execute(run.id)
      expect(outcome).toMatchObject({ run: { status: "done" }, working: 0 })
      expect([venue.calls.submit, (yield* venue.requests).length, venue.calls.cancel]).toEqual([1, 2, 2])
      const done = yield* world.runner.report(run.id)
      expect(done.orders.map(state)).toEqual(symbols.map((s) => `${s} CANCELED 0 canceled_by_user`))
      expect((yield* world.audit.service.verify).ok).toBe(true)
      expect((yield* world.runner.replay(run.id)).matches).toBe(true)
    }))

  it.effect("reports a finished run unchanged", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 10)], mock: { cash: 1000 } })
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      yield* world.runner.execute(run.id)
      const before = yield* world.dump
      const outcome = yield* world.runner.cancel(run.id)
      expect(outcome.run.status).toBe("done")
      expect(yield* world.dump).toBe(before)
    }))
})

/**
 * A dry run refused when sent because `traded` has traded on the account since its orders were built: it
 * failed naming that run, and the venue was only ever asked for that run's orders.
 */
const expectRefusedAfterTradingBy = (outcome: RunOutcome, traded: RunId, requests: ReadonlyArray<{ readonly runId: string }>) => {
  expect(outcome.run.status).toBe("failed")
  expect(outcome.run.error).toMatch(/^AccountTradedSince: .*run .* has traded on the account since/)
  expect(outcome.run.error).toContain(traded)
  expect(requests.map((r) => r.runId)).toEqual([traded])
}

/** Two runs buying one target on one account, the first sent and working at the venue, the second queued. */
const twoRunsOfOneTarget = Effect.gen(function*() {
  const { world, venue } = yield* following()
  const first = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
  const second = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
  const sent = yield* world.execute(first.id)
  return { world, venue, first, second, sent }
})

describe("one account, one run trading", () => {
  it.effect("refuses to start a second run while the first still has working orders, and starts it once the first is final", () =>
    Effect.gen(function*() {
      const { world, venue, first, second, sent } = yield* twoRunsOfOneTarget
      const refused = yield* Effect.flip(world.runner.execute(second.id))
      expect(refused).toMatchObject({ _tag: "AccountBusy", runId: second.id, workingRunId: first.id })
      expect((yield* world.repo.service.getRun(second.id)).status).toBe("queued")
      expect(yield* world.repo.service.listOrders(second.id)).toEqual([])

      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      expect((yield* world.runner.execute(first.id)).run.status).toBe("done")
      expect((yield* world.runner.execute(second.id)).run.status).toBe("running")
    }))

  it.effect("lets a dry run build while another run trades", () =>
    Effect.gen(function*() {
      const { world } = yield* following()
      const first = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      const second = yield* world.queueRun([item("BBB", "0.3")], { portfolioValue: d(1000) })
      yield* world.runner.execute(first.id)
      expect((yield* world.runner.execute(second.id, { dryRun: true })).counts.NEW).toBe(1)
    }))
})

describe("a run built from the account as it was", () => {
  it.effect("fails with nothing sent once another run traded on the account after its orders were built (a dry run executed later)", () =>
    Effect.gen(function*() {
      const { world, venue, first, second, sent } = yield* twoRunsOfOneTarget
      // Built while the first still works: sized from an account without the first's fills.
      yield* world.runner.execute(second.id, { dryRun: true })
      yield* TestClock.adjust("1 second")
      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      expect((yield* world.runner.execute(first.id)).run.status).toBe("done")

      const outcome = yield* world.runner.execute(second.id)
      expectRefusedAfterTradingBy(outcome, first.id, yield* venue.requests)
      expect((yield* world.repo.service.listOrders(second.id)).map(state)).toEqual(["AAA CANCELED 0 run_failed"])
    }))

  it.effect("fails with nothing sent once reconcile recorded a late fill of a failed run after its orders were built", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const failing = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      const sent = yield* world.execute(failing.id)
      // The venue stops answering while the order works: the next check fails the run, its order still working.
      yield* venue.failStatus(true)
      yield* TestClock.adjust("2 seconds")
      expect((yield* world.runner.execute(failing.id)).run.status).toBe("failed")
      yield* venue.failStatus(false)

      // Built after the failed run ended, from an account without the fill the venue is about to make.
      yield* TestClock.adjust("1 second")
      const dryRun = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      yield* world.runner.execute(dryRun.id, { dryRun: true })
      yield* TestClock.adjust("1 second")
      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      expect((yield* world.runner.reconcile(failing.id)).runs).toEqual([{ runId: failing.id, status: "failed", changed: 1, working: 0 }])

      const outcome = yield* world.runner.execute(dryRun.id)
      expectRefusedAfterTradingBy(outcome, failing.id, yield* venue.requests)
    }))

  it.effect("sends a dry run's orders when no run traded on the account since they were built", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const first = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      const sent = yield* world.execute(first.id)
      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      expect((yield* world.runner.execute(first.id)).run.status).toBe("done")
      yield* TestClock.adjust("1 second")
      const second = yield* world.queueRun([item("BBB", "0.3")], { portfolioValue: d(1000) })
      yield* world.runner.execute(second.id, { dryRun: true })
      yield* TestClock.adjust("1 second")
      expect((yield* world.runner.execute(second.id)).run.status).toBe("running")
      expect((yield* venue.requests).map((r) => r.runId)).toEqual([first.id, second.id])
    }))
})

describe("TradeRunner.executeNext (workers)", () => {
  it.effect("takes a running run whose check is due, and not before", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const runner = yield* world.runnerWith({ workerId: "w2" })
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      // The world's runner checks again every 2 s by default: the run is due 2 s after this execute.
      const sent = yield* world.execute(run.id)
      expect(yield* runner.executeNext()).toBeUndefined()
      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      yield* TestClock.adjust("1 second")
      expect(yield* runner.executeNext()).toBeUndefined()
      yield* TestClock.adjust("1 second")
      const checked = yield* runner.executeNext()
      expect(checked).toMatchObject({ run: { id: run.id, status: "done" } })
    }))

  it.effect("resumes a run whose worker died once its lease expired", () =>
    Effect.gen(function*() {
      const { world } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3")], { portfolioValue: d(1000) })
      // A worker claims the run and dies before it builds anything: the lease stays until it expires.
      yield* world.repo.service.claimRun(run.id, { owner: "dead", leaseMillis: 30_000, start: true, exclusive: true })
      const runner = yield* world.runnerWith({ workerId: "w2" })
      expect(yield* runner.executeNext()).toBeUndefined()
      yield* TestClock.adjust("31 seconds")
      const resumed = yield* runner.executeNext()
      expect(resumed).toMatchObject({ run: { id: run.id, status: "running" }, working: 1 })
      const resume = world.audit.events.find((e) => e.type === "trade_run.resume")
      expect(resume?.payload).toMatchObject({ worker: "w2", previousOwner: "dead" })
    }))
})

describe("TradeRunner.reconcile", () => {
  it.effect("settles the working orders of a run failed by a provider error, which stays failed", () =>
    Effect.gen(function*() {
      const { world, venue } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      const sent = yield* world.execute(run.id)
      // The venue stops answering while the orders work: the next check fails the run.
      yield* venue.failStatus(true)
      yield* TestClock.adjust("2 seconds")
      const failed = yield* world.runner.execute(run.id)
      expect(failed.run.status).toBe("failed")
      expect(failed.run.error).toBe("ExecutionError: scripted status failed: connection lost")
      expect(failed.counts.SUBMITTED).toBe(2)
      yield* venue.failStatus(false)

      yield* venue.fill(idOf(sent.orders, "AAA"), 30, 10)
      yield* venue.expire(idOf(sent.orders, "BBB"))
      const report = yield* world.runner.reconcile(run.id)
      expect(report.runs).toEqual([{ runId: run.id, status: "failed", changed: 2, working: 0 }])
      const after = yield* world.runner.report(run.id)
      expect(after.run.status).toBe("failed")
      expect(after.orders.map(state)).toEqual(["AAA FILLED 30", "BBB CANCELED 0 expired"])
      expect((yield* world.audit.service.verify).ok).toBe(true)
      expect((yield* world.runner.replay(run.id)).matches).toBe(true)
    }))

  it.effect("names every position that differs between the book and the venue", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 10), quote("BBB", 20)], mock: { cash: 1000 } })
      const run = yield* world.queueRun([item("AAA", "0.3"), item("BBB", "0.2")], { portfolioValue: d(1000) })
      yield* world.runner.execute(run.id)
      expect((yield* world.runner.reconcile()).breaks).toEqual([])
      // Someone trades on the account behind the book's back.
      const [order] = yield* world.provider.submit([{
        runId: run.id,
        clientOrderId: "manual-1" as ClientOrderId,
        symbol: "AAA" as Symbol,
        side: "SELL",
        quantity: d(5),
        orderType: "MKT",
        referencePrice: d(10)
      }])
      expect(order?.status).toBe("FILLED")
      const report = yield* world.runner.reconcile()
      expect(report.breaks.map((b) => [b.symbol, Dec.toString(b.ours), Dec.toString(b.venue)])).toEqual([["AAA", "30", "25"]])
    }))
})

describe("risk is judged on the prices the orders are sent at", () => {
  it.effect("judges again at execute when the market moved since the dry run, and blocks what no longer passes", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld({ quotes: [quote("AAA", 10)], mock: { cash: 1000 } })
      const run = yield* world.queueRun([item("AAA", "0.9")], {
        portfolioValue: d(1000),
        cash: d(1000),
        risk: { cashSufficiency: true }
      })
      expect((yield* world.runner.execute(run.id, { dryRun: true })).run.status).toBe("queued")
      expect((yield* world.runner.report(run.id)).risk?.passed).toBe(true)

      yield* world.feed.set([quote("AAA", 20)])
      const report = yield* world.execute(run.id)
      expect(report.run.status).toBe("blocked")
      expect(report.risk?.reasons).toEqual(["cash_sufficiency"])
      expect(report.orders.map(state)).toEqual(["AAA CANCELED 0 run_blocked"])
      expect((yield* world.venue.orders).size).toBe(0)
      const verdicts = world.audit.events.filter((e) => e.type === "trade_run.risk").map((e) => e.payload as any)
      expect(verdicts.map((v) => [v.dryRun, v.prices, v.passed])).toEqual([[true, "as built", true], [false, "moved since built", false]])
    }))

  it.effect("keeps the verdict of orders already sent", () =>
    Effect.gen(function*() {
      const { world } = yield* following()
      const run = yield* world.queueRun([item("AAA", "0.9")], { portfolioValue: d(1000), cash: d(1000), risk: { cashSufficiency: true } })
      expect((yield* world.runner.execute(run.id)).run.status).toBe("running")
      yield* world.feed.set([quote("AAA", 20)])
      expect((yield* world.runner.execute(run.id)).run.status).toBe("running")
      expect(world.audit.events.filter((e) => e.type === "trade_run.risk")).toHaveLength(1)
    }))
})
