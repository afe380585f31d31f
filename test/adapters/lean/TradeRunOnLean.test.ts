import { expect, layer } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Schedule } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Dec from "../../../src/domain/Decimal.js"
import type { RunId } from "../../../src/domain/Ids.js"
import { AuditLog } from "../../../src/ports/AuditLog.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import { TradeRepository } from "../../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../../src/TradeRunner.js"
import { item, makeWorld, quote } from "../../support/world.js"
import { leanTrade, storage } from "./support/leanTrade.js"
import {
  ALGORITHM_ID,
  closeSession,
  eventually,
  leanDirectory,
  leanOrdersByTag,
  leanProvider,
  pendingCommandFiles,
  received,
  release,
  StandInLean,
  standInLean,
  startStandIn,
  STAND_IN_SCRIPT,
  TSX
} from "./support/standIn.js"

const d = Dec.unsafe
/** The order commands LEAN received, of the orders tagged `tags` if given (the stand-in may be shared). */
const orderCommands = (dir: string, tags?: ReadonlyArray<string>) =>
  received(dir).filter((c) => c.command === "TradeExecOrderCommand" && (tags === undefined || tags.includes(c.tag ?? "")))

/** Every tag LEAN received exactly once, and LEAN holds exactly one order per tag. */
const expectNoDuplicates = (dir: string, tags: ReadonlyArray<string>) => {
  expect(orderCommands(dir, tags).map((c) => c.tag).sort()).toEqual([...tags].sort())
  expect([...leanOrdersByTag(dir)].filter(([tag]) => tags.includes(tag)).sort()).toEqual([...tags].sort().map((t) => [t, 1]))
}

/** A provider that forwards to whichever `current()` is at the time of each call. */
const following = (current: () => ExecutionProvider["Type"]): ExecutionProvider["Type"] =>
  ExecutionProvider.of({
    name: "lean",
    submit: (orders) => Effect.suspend(() => current().submit(orders)),
    status: (ids) => Effect.suspend(() => current().status(ids)),
    cancel: (id) => Effect.suspend(() => current().cancel(id)),
    account: Effect.suspend(() => current().account)
  })

/** One stand-in LEAN for the runs that only need LEAN running; the crash test brings up its own, late. */
const SharedLean = standInLean({ prices: { AAA: "50", PARTB: "25", REJC: "10", SLOWA: "20" } })

layer(SharedLean, { excludeTestServices: true })("a TradeRun executed through LEAN", (it) => {
  it.scoped("hands each order to LEAN once, records fills and rejections, and follows a partly filled order to FILLED", () =>
    Effect.gen(function*() {
      const { dir } = yield* StandInLean
      const lean = yield* leanProvider(dir)
      const world = yield* makeWorld({
        quotes: [quote("AAA", 50), quote("PARTB", 25), quote("REJC", 10)],
        provider: () => lean
      })
      const run = yield* world.queueRun([item("AAA", "0.2"), item("PARTB", "0.1"), item("REJC", "0.1")], {
        portfolioValue: d(10000),
        positions: []
      })
      // LEAN keeps working the rest of PARTB: the run is handed back running, not done.
      const first = yield* world.execute(run.id)
      expect(first.run.status).toBe("running")
      expect(first.orders.map((o) => [o.symbol, o.side, Dec.toString(o.quantity), o.status, Dec.toString(o.filledQuantity)])).toEqual([
        ["AAA", "BUY", "40", "FILLED", "40"],
        ["PARTB", "BUY", "40", "PARTIAL", "20"],
        ["REJC", "BUY", "100", "REJECTED", "0"]
      ])
      expect(first.orders[2]?.rejectReason).toMatch(/^Order Error: ids: \[\d+\], Insufficient buying power/)

      // The rest fills at LEAN; a later execute follows the order there and ends the run.
      yield* release(dir, first.orders[1]!.clientOrderId)
      const follower = yield* world.runnerWith({ followInterval: "100 millis" })
      yield* follower.execute(run.id, { wait: "20 seconds" })
      const report = yield* follower.report(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => [o.symbol, o.status, Dec.toString(o.filledQuantity)])).toEqual([
        ["AAA", "FILLED", "40"],
        ["PARTB", "FILLED", "40"],
        ["REJC", "REJECTED", "0"]
      ])
      expect(report.fills.map((f) => `${f.symbol} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)} fee ${Dec.toString(f.commission)}`)).toEqual([
        "AAA 40 @ 50 fee 1",
        "PARTB 20 @ 25 fee 1",
        "PARTB 20 @ 25 fee 1"
      ])
      expect(new Set(report.fills.map((f) => f.executionId)).size).toBe(3)
      expect(report.fills.every((f) => f.executionId.startsWith(`${ALGORITHM_ID}-`))).toBe(true)
      expectNoDuplicates(dir, report.orders.map((o) => o.clientOrderId))
      expect((yield* world.audit.service.verify).ok).toBe(true)
      const replay = yield* world.runner.replay(run.id)
      expect([replay.ordersMatch, replay.auditMatches]).toEqual([true, true])

      // The run is done: executing it again sends LEAN nothing and records nothing.
      const before = yield* world.dump
      yield* world.runner.execute(run.id)
      expect(orderCommands(dir, report.orders.map((o) => o.clientOrderId)).length).toBe(3)
      expect(yield* world.dump).toBe(before)
    }))

  it.scoped("ends a DAY order LEAN's brokerage expires at the close CANCELED expired, and a GTC run's order keeps working", () =>
    Effect.gen(function*() {
      const { dir } = yield* StandInLean
      const lean = yield* leanProvider(dir, { settleTimeout: "300 millis" })
      const world = yield* makeWorld({ quotes: [quote("RESTD", 20), quote("RESTG", 20)], provider: () => lean })
      const follower = yield* world.runnerWith({ followInterval: "100 millis" })
      // Sent before the open, say: LEAN takes the orders and the brokerage works them.
      const day = yield* world.queueRun([item("RESTD", "0.5")], { portfolioValue: d(10000), positions: [] })
      expect((yield* world.execute(day.id)).orders.map((o) => o.status)).toEqual(["SUBMITTED"])
      const gtc = yield* world.queueRun([item("RESTG", "0.5")], { portfolioValue: d(10000), positions: [], timeInForce: "GTC" })
      // One account, one run trading: the GTC run waits for the DAY run to end.
      yield* closeSession(dir)
      yield* follower.execute(day.id, { wait: "20 seconds" })
      const expired = yield* follower.report(day.id)
      expect(expired.run.status).toBe("done")
      expect(expired.orders.map((o) => [o.symbol, o.status, o.rejectReason, Dec.toString(o.filledQuantity)])).toEqual([["RESTD", "CANCELED", "expired", "0"]])
      expect(received(dir).filter((c) => c.ticker === "RESTD").map((c) => c.timeInForce)).toEqual(["Day"])

      const working = yield* world.execute(gtc.id)
      expect(working.orders.map((o) => o.status)).toEqual(["SUBMITTED"])
      expect(received(dir).filter((c) => c.ticker === "RESTG").map((c) => c.timeInForce)).toEqual(["GoodTilCanceled"])
      yield* closeSession(dir)
      // Past the close, a check finds the GTC order still working.
      yield* eventually(() => !fs.existsSync(path.join(dir, "stand-in-session-close")))
      yield* follower.execute(gtc.id, { wait: "300 millis" })
      expect((yield* follower.report(gtc.id)).orders.map((o) => o.status)).toEqual(["SUBMITTED"])
      expect((yield* world.audit.service.verify).ok).toBe(true)
    }))

  it.scoped("resumes after an interrupt while LEAN has taken the commands but not answered, with no duplicate order", () =>
    Effect.gen(function*() {
      const { dir } = yield* StandInLean
      // The runner's provider is the process's: the resumer gets a new one, as after a restart.
      let lean = yield* leanProvider(dir)
      const world = yield* makeWorld({ quotes: [quote("SLOWA", 20)], provider: () => following(() => lean) })
      const run = yield* world.queueRun([item("SLOWA", "0.5")], { portfolioValue: d(10000), positions: [] })

      const first = yield* Effect.fork(world.runner.execute(run.id))
      // LEAN has read and deleted the command, and holds it: no order, no result until the test releases it.
      yield* eventually(() => orderCommands(dir).some((c) => c.ticker === "SLOWA"))
      yield* Fiber.interrupt(first)
      const left = yield* world.repo.service.listOrders(run.id)
      expect(left.map((o) => o.status)).toEqual(["SUBMITTED"])
      const id = left[0]!.clientOrderId

      // The resumer finds no order in LEAN and no command waiting, only our journal entry; once it has read that,
      // LEAN answers.
      const journalRead = yield* Deferred.make<void>()
      lean = yield* leanProvider(dir, {
        afterRead: (file) => file.endsWith(path.join("trade-exec-journal", `${id}.json`)) ? Deferred.succeed(journalRead, undefined) : Effect.void
      })
      const resumer = yield* world.runnerWith({ workerId: "resumer" })
      const resuming = yield* Effect.fork(resumer.execute(run.id))
      yield* Deferred.await(journalRead)
      yield* release(dir, id)
      yield* Fiber.join(resuming)
      const report = yield* resumer.report(run.id)
      expect(report.run.status).toBe("done")
      expect(report.orders.map((o) => [o.status, Dec.toString(o.filledQuantity)])).toEqual([["FILLED", "250"]])
      expectNoDuplicates(dir, [id])
      const resumed = world.audit.events.filter((e) => e.type === "trade_run.resume")
      expect(resumed.length).toBe(1)
    }))

  it.scoped("resumes after our process is killed between writing LEAN's commands and reading their results, with no duplicate order", () =>
    Effect.gen(function*() {
      const dir = yield* leanDirectory
      const database = path.join(yield* leanDirectory, "trade.db")
      const prices = { AAA: "50", BBB: "25" }

      const runId = yield* Effect.scoped(Effect.gen(function*() {
        const repo = yield* TradeRepository
        const snapshot = yield* repo.createSnapshot({ items: [item("AAA", "0.5"), item("BBB", "0.3")] })
        return (yield* repo.createRun({ snapshotId: snapshot.id, params: { portfolioValue: d(10000), positions: [] } })).id
      }).pipe(Effect.provide(storage(database))))

      // Our process executes the run while LEAN is not taking commands yet, and is killed once both are written.
      const child = spawn(process.execPath, ["--import", TSX, path.join(path.dirname(STAND_IN_SCRIPT), "lean-trade-process.ts")], {
        env: {
          ...process.env,
          TRADE_DB: database,
          LEAN_DIR: dir,
          RUN_ID: runId,
          PRICES: JSON.stringify(prices),
          WORKER_ID: "doomed",
          LEASE_SECONDS: "1"
        },
        stdio: ["ignore", "pipe", "inherit"]
      })
      const exited = Effect.async<NodeJS.Signals | null>((resume) => {
        child.once("exit", (_code, signal) => resume(Effect.succeed(signal)))
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      yield* eventually(() => pendingCommandFiles(dir).length === 2, Duration.seconds(40))
      child.kill("SIGKILL")
      expect(yield* exited).toBe("SIGKILL")

      // What the killed process left: the run running, its orders marked SUBMITTED, the commands waiting for LEAN.
      const before = yield* Effect.scoped(Effect.gen(function*() {
        const repo = yield* TradeRepository
        return { run: yield* repo.getRun(runId as RunId), orders: yield* repo.listOrders(runId as RunId) }
      }).pipe(Effect.provide(storage(database))))
      expect(before.run.status).toBe("running")
      expect(before.orders.map((o) => o.status)).toEqual(["SUBMITTED", "SUBMITTED"])

      // LEAN comes up and takes the commands; a new process resumes the run once the dead one's lease expires.
      yield* startStandIn(dir, { prices })
      const resumed = yield* Effect.scoped(Effect.gen(function*() {
        const runner = yield* TradeRunner
        yield* runner.execute(runId as RunId).pipe(
          Effect.retry({ schedule: Schedule.spaced(Duration.millis(200)), while: (e) => e._tag === "RunHeld", times: 50 })
        )
        const report = yield* runner.report(runId as RunId)
        const verified = yield* (yield* AuditLog).verify
        return { report, verified }
      }).pipe(Effect.provide(Layer.fresh(leanTrade({ database, leanDir: dir, prices, workerId: "survivor", leaseSeconds: 5 })))))

      expect(resumed.report.run.status).toBe("done")
      expect(resumed.report.orders.map((o) => [o.symbol, Dec.toString(o.quantity), o.status])).toEqual([
        ["AAA", "100", "FILLED"],
        ["BBB", "120", "FILLED"]
      ])
      expect(resumed.report.fills.map((f) => `${f.symbol} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)}`)).toEqual([
        "AAA 100 @ 50",
        "BBB 120 @ 25"
      ])
      expect(resumed.verified.ok).toBe(true)
      expectNoDuplicates(dir, before.orders.map((o) => o.clientOrderId))
    }), { timeout: 90_000 })
})
