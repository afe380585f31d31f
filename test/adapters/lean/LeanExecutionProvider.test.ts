import { describe, expect, layer } from "@effect/vitest"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { ConfigProvider, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Lean from "../../../adapters/lean/LeanExecutionProvider.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { ExecutionReport } from "../../../src/domain/Execution.js"
import type { ClientOrderId } from "../../../src/domain/Ids.js"
import type { ExecutionError, ExecutionTimeout } from "../../../src/ports/errors.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import {
  ALGORITHM_ID,
  eventually,
  leanDirectory,
  leanOrderId,
  leanOrdersByTag,
  leanProvider,
  leanTagOf,
  LEAN_INTERVAL_MS,
  order,
  pendingCommandFiles,
  Platform,
  received,
  release,
  resultsDirOf,
  StandInLean,
  standInLean,
  startStandIn,
  writtenEvents,
  writtenOrders,
  brokerIdOf,
  closeSession
} from "./support/standIn.js"

const timeoutIds = (error: ExecutionError | ExecutionTimeout) => {
  if (error._tag !== "ExecutionTimeout") throw new Error(`expected a timeout, got ${error.message}`)
  return error.clientOrderIds
}

/** One order event as LEAN serializes it, for results files written by hand. */
const event = (orderId: number, orderEventId: number, status: string, quantity: string) =>
  `{"orderId":${orderId},"orderEventId":${orderEventId},"symbolValue":"AAA","time":1795618800.5,"status":"${status}",` +
  `"fillPrice":10.5,"fillQuantity":${quantity},"direction":"buy","quantity":2.0}`

const commandsFor = (dir: string, id: ClientOrderId) => received(dir).filter((c) => c.command === "TradeExecOrderCommand" && c.tag === id).length

const fillText = (report: ExecutionReport | undefined) =>
  (report?.fills ?? []).map((f) => `${f.executionId} ${f.side} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)} fee ${Dec.toString(f.commission)}`)

/**
 * Asks `status` until LEAN reports the order in `wanted` (as the runner follows a working order): LEAN writes
 * the order's status and its events in two files, and moves its orders on at its own pace.
 */
const statusOnce = (provider: ExecutionProvider["Type"], id: ClientOrderId, wanted: ExecutionReport["status"]) =>
  provider.status([id]).pipe(
    Effect.filterOrFail((reports) => reports.length === 1 && reports[0]!.status === wanted, () => "not yet" as const),
    Effect.retry({ schedule: Schedule.spaced(Duration.millis(20)), while: (e) => e === "not yet" }),
    Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`order ${id} never reported ${wanted}`) }),
    Effect.orDie,
    Effect.map((reports) => reports[0]!)
  )

const statusOnceFilled = (provider: ExecutionProvider["Type"], id: ClientOrderId) => statusOnce(provider, id, "FILLED")

/**
 * One stand-in LEAN serves every test that only needs a LEAN running (`StandInLean`); the others make their
 * own directory. Every order has a client order id of its own, so the tests sharing it never see each other's.
 */
layer(standInLean(), { excludeTestServices: true })("LeanExecutionProvider", (it) => {
  describe("handing orders to LEAN", () => {
    it.scoped("writes one order command file per order, tagged with the client order id, signed, exact, with its time in force", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const provider = yield* leanProvider(dir, { acknowledgeTimeout: "200 millis" })
        const sell = order("AAA", "SELL", "12.3456789012345678901", { limitPrice: Dec.unsafe("99.0000000000000000001") })
        const buy = order("BRK.B", "BUY", 5, { timeInForce: "GTC" })
        // No LEAN is running: nobody takes the orders in, so their outcome is unknown.
        const error = yield* Effect.flip(provider.submit([sell, buy]))
        expect(timeoutIds(error)).toEqual([sell.clientOrderId, buy.clientOrderId])
        expect([...pendingCommandFiles(dir)].sort()).toEqual([`command-${buy.clientOrderId}.json`, `command-${sell.clientOrderId}.json`].sort())
        expect(fs.readFileSync(path.join(dir, `command-${sell.clientOrderId}.json`), "utf8")).toBe(
          `{"$type":"TradeExecOrderCommand","Id":"${sell.clientOrderId}","Ticker":"AAA",` +
            `"Market":"usa","SecurityType":"Equity","OrderType":"Limit","Quantity":-12.3456789012345678901,` +
            `"LimitPrice":99.0000000000000000001,"TimeInForce":"Day","Tag":"${sell.clientOrderId}"}`
        )
        expect(fs.readFileSync(path.join(dir, `command-${buy.clientOrderId}.json`), "utf8")).toContain(
          `"Ticker":"BRK.B","Market":"usa","SecurityType":"Equity","OrderType":"Market","Quantity":5,"LimitPrice":0,"TimeInForce":"GoodTilCanceled"`
        )
        // Nothing half written is left for LEAN to find, and the journal says what was handed over.
        expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([])
        const journal = JSON.parse(fs.readFileSync(path.join(dir, "trade-exec-journal", `${buy.clientOrderId}.json`), "utf8"))
        expect(journal.commandFile).toBe(`command-${buy.clientOrderId}.json`)
      }))

    it.scoped("refuses an order with no quantity or a limit order with no limit, before writing anything", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const provider = yield* leanProvider(dir)
        const zero = yield* Effect.flip(provider.submit([order("AAA", "BUY", 0)]))
        expect(zero.message).toContain("must be positive")
        const limit = yield* Effect.flip(provider.submit([{ ...order("AAA", "BUY", 1), orderType: "LMT" }]))
        expect(limit.message).toContain("has no limit price")
        expect(pendingCommandFiles(dir)).toEqual([])
      }))
  })

  describe("never trading an order twice", () => {
    it.scoped("reconciles a command still waiting in LEAN's directory after our restart instead of writing it again", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const o = order("AAA", "BUY", 10)
        const first = yield* leanProvider(dir, { acknowledgeTimeout: "200 millis" })
        timeoutIds(yield* Effect.flip(first.submit([o])))
        // A new process: nothing in memory, only the files.
        const restarted = yield* leanProvider(dir, { acknowledgeTimeout: "200 millis" })
        expect(yield* restarted.status([o.clientOrderId])).toEqual([])
        timeoutIds(yield* Effect.flip(restarted.submit([o])))
        expect(pendingCommandFiles(dir)).toEqual([`command-${o.clientOrderId}.json`])

        yield* startStandIn(dir)
        // The same files through a patient provider: a LEAN just started may take more than 200 ms to answer.
        const [report] = yield* (yield* leanProvider(dir)).submit([o])
        expect(report?.status).toBe("FILLED")
        expect(commandsFor(dir, o.clientOrderId)).toBe(1)
        expect(leanOrdersByTag(dir).get(o.clientOrderId)).toBe(1)
      }))

    it.scoped("waits for an order LEAN has taken but not answered yet: the journal closes that gap", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const o = order("SLOW", "BUY", 10)
        const first = yield* leanProvider(dir, { acknowledgeTimeout: "200 millis" })
        timeoutIds(yield* Effect.flip(first.submit([o])))
        // LEAN has taken (and deleted) the command file and holds it: no order, no result, until released.
        yield* eventually(() => commandsFor(dir, o.clientOrderId) === 1 && !pendingCommandFiles(dir).includes(`command-${o.clientOrderId}.json`))
        expect(yield* first.status([o.clientOrderId])).toEqual([])

        // A new process in that moment finds only our journal entry: it waits instead of writing the order again.
        const restarted = yield* leanProvider(dir, { acknowledgeTimeout: "200 millis" })
        timeoutIds(yield* Effect.flip(restarted.submit([o])))
        expect(pendingCommandFiles(dir)).not.toContain(`command-${o.clientOrderId}.json`)
        yield* release(dir, o.clientOrderId)
        const [report] = yield* (yield* leanProvider(dir)).submit([o])
        expect(report?.status).toBe("FILLED")
        expect(commandsFor(dir, o.clientOrderId)).toBe(1)
        expect(leanOrdersByTag(dir).get(o.clientOrderId)).toBe(1)
      }))

    it.scoped("completes a hand-over that a crash cut short between the journal entry and the rename", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const o = order("AAA", "BUY", 6)
        timeoutIds(yield* Effect.flip((yield* leanProvider(dir, { acknowledgeTimeout: "100 millis" })).submit([o])))
        // Back to the moment before the rename: journal written, command complete under the temporary name it records.
        const journal = JSON.parse(fs.readFileSync(path.join(dir, "trade-exec-journal", `${o.clientOrderId}.json`), "utf8"))
        expect(journal.temporaryFile).toMatch(new RegExp(`^\\.command-${o.clientOrderId}\\.json\\..+\\.tmp$`))
        fs.renameSync(path.join(dir, `command-${o.clientOrderId}.json`), path.join(dir, journal.temporaryFile))
        yield* startStandIn(dir)
        const [report] = yield* (yield* leanProvider(dir)).submit([o])
        expect(report?.status).toBe("FILLED")
        expect(commandsFor(dir, o.clientOrderId)).toBe(1)
      }))

    it.scoped("lets one of two processes hand an order over when both found LEAN without it", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const o = order("AAA", "BUY", 4)
        const commandFile = `command-${o.clientOrderId}.json`
        const took = path.join(dir, "lean-took")
        fs.mkdirSync(took)
        const checked = yield* Deferred.make<void>()
        const handedOver = yield* Deferred.make<void>()
        const signal = (d: Deferred.Deferred<void>) => Deferred.succeed(d, undefined)
        const wait = (d: Deferred.Deferred<void>) => Effect.ignore(Effect.timeout(Deferred.await(d), "5 seconds"))
        /**
         * Two providers, each with its own lock, as two processes have. They interleave the worst way: both check
         * before either writes; then the first writes everything and LEAN takes its command at once; only then
         * does the second write.
         */
        const ourProcess = (first: boolean) => {
          let writing = false
          const beforeFirstWrite = Effect.suspend(() => {
            if (writing) return Effect.void
            writing = true
            return first ? wait(checked) : Effect.zipRight(signal(checked), wait(handedOver))
          })
          const files = Layer.effect(
            FileSystem.FileSystem,
            Effect.map(FileSystem.FileSystem, (real): FileSystem.FileSystem => ({
              ...real,
              writeFileString: (file, data, options) =>
                Effect.zipRight(path.dirname(file) === dir ? beforeFirstWrite : Effect.void, real.writeFileString(file, data, options)),
              rename: (from, to) =>
                Effect.zipRight(
                  real.rename(from, to),
                  path.basename(to) !== commandFile ? Effect.void : Effect.zipRight(
                    Effect.sync(() => fs.renameSync(to, path.join(took, `${fs.readdirSync(took).length + 1}.json`))),
                    signal(handedOver)
                  )
                )
            }))
          ).pipe(Layer.provide(NodeFileSystem.layer))
          return Lean.make({ leanDir: dir, algorithmId: ALGORITHM_ID, acknowledgeTimeout: "200 millis", pollSchedule: Schedule.spaced("20 millis") })
            .pipe(Effect.provide(Layer.merge(files, NodePath.layer)))
        }
        const [a, b] = [yield* ourProcess(true), yield* ourProcess(false)]
        const outcomes = yield* Effect.all([Effect.flip(a.submit([o])), Effect.flip(b.submit([o]))], { concurrency: 2 })
        // Nobody answers in this directory: both outcomes are unknown, and LEAN got the command once.
        expect(outcomes.map((e) => e._tag)).toEqual(["ExecutionTimeout", "ExecutionTimeout"])
        expect(fs.readdirSync(took)).toEqual(["1.json"])
        expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([])
      }))

    it.scoped("completes only the hand-over its journal entry names, never a temporary file another process left", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const o = order("AAA", "BUY", 5)
        timeoutIds(yield* Effect.flip((yield* leanProvider(dir, { acknowledgeTimeout: "100 millis" })).submit([o])))
        // LEAN took the command; a process that lost the race for the journal entry died before removing its file.
        fs.rmSync(path.join(dir, `command-${o.clientOrderId}.json`))
        fs.writeFileSync(path.join(dir, `.command-${o.clientOrderId}.json.loser.tmp`), "{}")
        timeoutIds(yield* Effect.flip((yield* leanProvider(dir, { acknowledgeTimeout: "100 millis" })).submit([o])))
        expect(pendingCommandFiles(dir)).toEqual([])
      }))

    it.scoped("never writes again a command LEAN was handed and never answered: it times out instead", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const o = order("AAA", "BUY", 6)
        timeoutIds(yield* Effect.flip((yield* leanProvider(dir, { acknowledgeTimeout: "100 millis" })).submit([o])))
        // LEAN took the file and dropped it: no order, no result, only our journal remembers.
        fs.rmSync(path.join(dir, `command-${o.clientOrderId}.json`))
        const restarted = yield* leanProvider(dir, { acknowledgeTimeout: "300 millis" })
        expect(timeoutIds(yield* Effect.flip(restarted.submit([o])))).toEqual([o.clientOrderId])
        // No LEAN runs in this directory: a command written again would still be lying here.
        expect(pendingCommandFiles(dir)).toEqual([])
      }))

    it.scoped("recognises an order LEAN already holds by its tag, even with our journal gone", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const o = order("AAA", "SELL", 3)
        const [first] = yield* (yield* leanProvider(dir)).submit([o])
        fs.rmSync(path.join(dir, "trade-exec-journal", `${o.clientOrderId}.json`))
        const [again] = yield* (yield* leanProvider(dir)).submit([o])
        expect(again).toEqual(first)
        expect(commandsFor(dir, o.clientOrderId)).toBe(1)
      }))

    it.scoped("finds an order by the tag it was submitted with, though LEAN (before #8668) appended a fill's message to it", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const o = order("STALE", "BUY", 4)
        const provider = yield* leanProvider(dir, { acknowledgeTimeout: "3 seconds" })
        const [report] = yield* provider.submit([o])
        expect(leanTagOf(dir, o.clientOrderId)).toMatch(new RegExp(`^${o.clientOrderId} - Warning: fill at stale price`))
        expect(report?.status).toBe("FILLED")
        expect(yield* provider.status([o.clientOrderId])).toEqual([report])
        // Sent again with our journal entry gone (the README's remedy for a command LEAN never answered).
        fs.rmSync(path.join(dir, "trade-exec-journal", `${o.clientOrderId}.json`))
        const [again] = yield* (yield* leanProvider(dir)).submit([o])
        expect(again).toEqual(report)
        expect(commandsFor(dir, o.clientOrderId)).toBe(1)
      }))
  })

  describe("reading what LEAN did", () => {
    it.scoped("turns LEAN's fill events into exact fills, once each, though LEAN listed them newest first and twice", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const o = order("SPLIT", "SELL", 8)
        const [report] = yield* (yield* leanProvider(dir)).submit([o])
        const id = leanOrderId(dir, o.clientOrderId)
        expect(writtenEvents(dir).filter((e) => e.orderId === id).map((e) => e.orderEventId)).toEqual([4, 4, 3, 3, 2, 2, 1])
        expect(report?.status).toBe("FILLED")
        expect(fillText(report)).toEqual([
          `${ALGORITHM_ID}-${id}-2 SELL 2 @ 100.0000000000000001 fee 1`,
          `${ALGORITHM_ID}-${id}-3 SELL 2 @ 100.0123456789012345678 fee 1`,
          `${ALGORITHM_ID}-${id}-4 SELL 4 @ 100 fee 1`
        ])
      }))

    it.scoped("reports an order the brokerage refused after LEAN took it as REJECTED with LEAN's message", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir)
        const invalid = order("REJ", "BUY", 3)
        const [report] = yield* provider.submit([invalid])
        // LEAN answered the command with success: buying power is checked after it has added the order.
        expect(received(dir).find((c) => c.tag === invalid.clientOrderId)?.success).toBe(true)
        const id = leanOrderId(dir, invalid.clientOrderId)
        expect([report?.status, report?.rejectReason]).toEqual([
          "REJECTED",
          `Order Error: ids: [${id}], Insufficient buying power to complete orders (Value:[300.0]), Reason: Id: ${id}, Initial Margin: 300.0, Free Margin: 0.`
        ])
        expect(yield* provider.status([invalid.clientOrderId])).toEqual([report])
      }))

    it.scoped("reports an order LEAN refused outright as REJECTED with LEAN's reason: no security, no price yet", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir)
        const unknown = order("NOSEC", "BUY", 1)
        const unpriced = order("NOPRICE", "BUY", 1)
        const reports = yield* provider.submit([unknown, unpriced])
        expect(reports.map((r) => r.status)).toEqual(["REJECTED", "REJECTED"])
        expect(reports[0]?.rejectReason).toBe("You haven't requested NOSEC data. Add this with AddSecurity() in the Initialize() method.")
        expect(reports[1]?.rejectReason).toMatch(/^NOPRICE: The security does not have an accurate price as it has not yet received a bar of data\./)
        // No order exists: the command's result and the bridge's record of LEAN's reason are all there is.
        expect(leanOrderId(dir, unpriced.clientOrderId)).toBeUndefined()
        expect(yield* provider.status([unknown.clientOrderId, unpriced.clientOrderId])).toEqual(reports)
      }))

    it.scoped("does not call an order FILLED before LEAN has written the fills behind it", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "100 millis" })
        const o = order("LAG", "BUY", 5)
        // The orders file says Filled; the stand-in holds the fill event back until released.
        const [early] = yield* provider.submit([o])
        expect([early?.status, early?.fills]).toEqual(["SUBMITTED", []])
        yield* release(dir, o.clientOrderId)
        const later = yield* statusOnceFilled(provider, o.clientOrderId)
        expect(fillText(later)).toEqual([`${ALGORITHM_ID}-${leanOrderId(dir, o.clientOrderId)}-2 BUY 5 @ 100 fee 1`])
      }))

    it.scoped("treats a LEAN slower than the timeout as an unknown outcome, which status settles later", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { acknowledgeTimeout: "150 millis" })
        const o = order("SLOW", "SELL", 4)
        expect(timeoutIds(yield* Effect.flip(provider.submit([o])))).toEqual([o.clientOrderId])
        yield* release(dir, o.clientOrderId)
        const report = yield* statusOnceFilled(provider, o.clientOrderId)
        expect([report.status, fillText(report)]).toEqual(["FILLED", [`${ALGORITHM_ID}-${leanOrderId(dir, o.clientOrderId)}-2 SELL 4 @ 100 fee 1`]])
      }))

    it.scoped("matches LEAN's orders by the tag they were submitted with, or else by their tag up to its first space", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        // LEAN's own results have no submittedTag: a fill's message appended to the tag is cut off at the space.
        // The bridge's results have it, and it wins over a tag LEAN replaced.
        fs.writeFileSync(
          path.join(dir, "algo.json"),
          `{"orders":{"1":{"id":1,"status":3,"quantity":2.0,"tag":"AAA-B-7 - Warning: fill at stale price"},` +
            `"2":{"id":2,"status":5,"quantity":2.0,"tag":"Canceled by the desk","submittedTag":"BBB-B-7"}}}`
        )
        fs.writeFileSync(path.join(dir, "algo-order-events.json"), `[${event(1, 1, "filled", "2.0")},${event(2, 1, "canceled", "0.0")}]`)
        const provider = yield* Lean.make({ leanDir: dir, resultsDir: dir, algorithmId: "algo" }).pipe(Effect.provide(Platform))
        const reports = yield* provider.status(["AAA-B-7", "BBB-B-7", "Canceled"] as Array<ClientOrderId>)
        expect(reports.map((r) => [r.clientOrderId, r.status])).toEqual([["AAA-B-7", "FILLED"], ["BBB-B-7", "CANCELED"]])
      }))

    it.scoped("reads a results file again while LEAN is halfway through writing it", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        // LEAN truncates, then writes: a reader in between sees an empty file.
        fs.writeFileSync(path.join(dir, "algo.json"), "")
        fs.writeFileSync(path.join(dir, "algo-order-events.json"), `[${event(1, 1, "filled", "2.0").slice(0, 40)}`)
        yield* Effect.sync(() => {
          fs.writeFileSync(path.join(dir, "algo.json"), `{"orders":{"1":{"id":1,"status":3,"quantity":2.0,"tag":"AAA-B-8"}}}`)
          fs.writeFileSync(path.join(dir, "algo-order-events.json"), `[${event(1, 1, "filled", "2.0")}]`)
        }).pipe(Effect.delay(Duration.millis(300)), Effect.forkScoped)
        const provider = yield* Lean.make({ leanDir: dir, resultsDir: dir, algorithmId: "algo" }).pipe(Effect.provide(Platform))
        const reports = yield* provider.status(["AAA-B-8"] as Array<ClientOrderId>)
        expect(reports.map((r) => [r.clientOrderId, r.status, r.fills.map((f) => f.executionId)])).toEqual([["AAA-B-8", "FILLED", ["algo-1-1"]]])
      }))

    it.scoped("fails naming the file and the place when a results file stays broken, rather than guess", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        fs.writeFileSync(path.join(dir, "algo.json"), `{"orders":{"1":{"id":1,`)
        const provider = yield* Lean.make({ leanDir: dir, resultsDir: dir, algorithmId: "algo" }).pipe(Effect.provide(Platform))
        const error = yield* Effect.flip(provider.status(["AAA-B-9"] as Array<ClientOrderId>))
        expect(error.message).toContain(`lean status failed: ${path.join(dir, "algo.json")}: invalid JSON at position`)
      }))

    it.scoped("knows the orders of earlier deployments too, reads LEAN's dated event files, and cancels only in the running one", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        fs.writeFileSync(path.join(dir, "first.json"), `{"orders":{"1":{"id":1,"status":3,"quantity":2.0,"tag":"OLD-B-1"},"2":{"id":2,"status":1,"quantity":2.0,"tag":"STALE-B-1"}}}`)
        fs.writeFileSync(path.join(dir, "first-order-events.json"), `[${event(1, 1, "submitted", "0.0")},${event(1, 2, "filled", "2.0")}]`)
        fs.writeFileSync(path.join(dir, "second.json"), `{"orders":{"1":{"id":1,"status":2,"quantity":2.0,"tag":"NEW-B-1"}}}`)
        fs.writeFileSync(path.join(dir, "second-2026-11-25-order-events.json"), `[${event(1, 1, "submitted", "0.0")}]`)
        fs.writeFileSync(path.join(dir, "second-2026-11-26-order-events.json"), `[${event(1, 2, "partiallyFilled", "1.0")}]`)
        const provider = yield* Lean.make({ leanDir: dir, resultsDir: dir, algorithmId: ["first", "second"] }).pipe(Effect.provide(Platform))
        const reports = yield* provider.status(["NEW-B-1", "OLD-B-1"] as Array<ClientOrderId>)
        expect(reports.map((r) => [r.clientOrderId, r.status, r.fills.map((f) => f.executionId)])).toEqual([
          ["NEW-B-1", "PARTIAL", ["second-1-2"]],
          ["OLD-B-1", "FILLED", ["first-1-2"]]
        ])
        // LEAN numbers orders per run: order 2 of the first run is not order 2 of the running one.
        const stale = yield* Effect.flip(provider.cancel("STALE-B-1" as ClientOrderId))
        expect(stale.message).toContain("belongs to an earlier LEAN run, not to second")
        expect(pendingCommandFiles(dir)).toEqual([])
      }))
  })

  describe("canceling", () => {
    const cancelsOf = (dir: string, id: ClientOrderId) =>
      received(dir).filter((c) => c.command === "TradeExecCancelCommand" && c.id?.startsWith(`cancel-${id}-`))

    it.scoped("cancels a working order with a cancel command naming LEAN's order id: CancelPending, then Canceled", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "50 millis" })
        const o = order("REST", "BUY", 2, { limitPrice: Dec.unsafe(90) })
        expect((yield* provider.submit([o]))[0]?.status).toBe("SUBMITTED")
        // The cancel waits for LEAN's Canceled; a loaded host may take longer than the resting submit's wait.
        const patient = yield* leanProvider(dir, { settleTimeout: "10 seconds" })
        const canceled = yield* patient.cancel(o.clientOrderId)
        expect([canceled.status, canceled.rejectReason]).toEqual(["CANCELED", undefined])
        const id = leanOrderId(dir, o.clientOrderId)!
        expect(cancelsOf(dir, o.clientOrderId)).toEqual([
          expect.objectContaining({ orderId: String(id), id: expect.stringMatching(new RegExp(`^cancel-${o.clientOrderId}-\\d+$`)), success: true })
        ])
        expect(writtenEvents(dir).filter((e) => e.orderId === id).map((e) => e.status)).toEqual(["submitted", "cancelPending", "canceled"])
      }))

    it.scoped("says a cancel LEAN accepted is pending while the brokerage has not confirmed it, and never asks twice", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "300 millis" })
        const o = order("HOLD", "SELL", 4, { limitPrice: Dec.unsafe(120) })
        yield* provider.submit([o])
        // The brokerage holds the cancel: the order still works, and may still fill.
        const pending = yield* provider.cancel(o.clientOrderId)
        expect([pending.status, pending.fills]).toEqual(["SUBMITTED", []])
        expect(writtenOrders(dir).find((w) => w.submittedTag === o.clientOrderId)?.status).toBe(8)
        const again = yield* provider.cancel(o.clientOrderId)
        expect(again.status).toBe("SUBMITTED")
        expect(cancelsOf(dir, o.clientOrderId).length).toBe(1)
        yield* release(dir, o.clientOrderId)
        yield* statusOnce(provider, o.clientOrderId, "CANCELED")
      }))

    it.scoped("reports the order as it ended when LEAN refused the cancel because it had closed, not as canceled", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "100 millis" })
        const o = order("LAG", "BUY", 3)
        // LEAN's order is Filled; its fill event is not written yet, so we still see it working.
        expect((yield* provider.submit([o]))[0]?.status).toBe("SUBMITTED")
        const patient = yield* leanProvider(dir, { settleTimeout: "10 seconds" })
        const canceling = yield* Effect.fork(patient.cancel(o.clientOrderId))
        yield* eventually(() => cancelsOf(dir, o.clientOrderId).some((c) => c.success === false))
        yield* release(dir, o.clientOrderId)
        const report = yield* Fiber.join(canceling)
        expect([report.status, fillText(report)]).toEqual(["FILLED", [`${ALGORITHM_ID}-${leanOrderId(dir, o.clientOrderId)}-2 BUY 3 @ 100 fee 1`]])
      }))

    it.scoped("fails with LEAN's reason when LEAN refuses to cancel an order it has not confirmed yet", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "100 millis" })
        const o = order("PENDING", "BUY", 2)
        expect((yield* provider.submit([o]))[0]?.status).toBe("SUBMITTED")
        expect(writtenOrders(dir).find((w) => w.submittedTag === o.clientOrderId)?.status).toBe(0)
        const error = yield* Effect.flip(provider.cancel(o.clientOrderId))
        expect([error._tag, error.message]).toEqual([
          "ExecutionError",
          expect.stringContaining(
            `LEAN refused to cancel order ${o.clientOrderId} (LEAN order ${leanOrderId(dir, o.clientOrderId)}): Unable to update or cancel order with id ` +
              `${leanOrderId(dir, o.clientOrderId)} and status New because the submit confirmation has not been received yet.`
          )
        ])
      }))
  })

  describe("following working orders", () => {
    it.scoped("reports every fill so far of a working order, until a later status finds it FILLED", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "100 millis" })
        const o = order("PART", "BUY", 10)
        const [first] = yield* provider.submit([o])
        expect([first?.status, fillText(first)]).toEqual(["PARTIAL", [`${ALGORITHM_ID}-${leanOrderId(dir, o.clientOrderId)}-2 BUY 5 @ 100 fee 1`]])
        expect(yield* provider.status([o.clientOrderId])).toEqual([first])
        yield* release(dir, o.clientOrderId)
        const filled = yield* statusOnce(provider, o.clientOrderId, "FILLED")
        // The fill reported before keeps its execution id; the new one has its own.
        expect(fillText(filled)).toEqual([...fillText(first), `${ALGORITHM_ID}-${leanOrderId(dir, o.clientOrderId)}-3 BUY 5 @ 100 fee 1`])
      }))

    it.scoped("reports an order FILLED across an event LEAN numbered and never wrote (status None)", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const o = order("GAP", "SELL", 6)
        const [report] = yield* (yield* leanProvider(dir)).submit([o])
        const id = leanOrderId(dir, o.clientOrderId)
        expect(writtenEvents(dir).filter((e) => e.orderId === id).map((e) => e.orderEventId)).toEqual([1, 3])
        expect([report?.status, fillText(report)]).toEqual(["FILLED", [`${ALGORITHM_ID}-${id}-3 SELL 6 @ 100 fee 1`]])
      }))

    it.scoped("carries the time in force to LEAN: a DAY order expires at the session's close, a GTC order keeps working", () =>
      Effect.gen(function*() {
        const { dir } = yield* StandInLean
        const provider = yield* leanProvider(dir, { settleTimeout: "100 millis" })
        const day = order("REST", "BUY", 3, { limitPrice: Dec.unsafe(95) })
        const gtc = order("REST", "BUY", 3, { limitPrice: Dec.unsafe(95), timeInForce: "GTC" })
        yield* provider.submit([day, gtc])
        const timeInForceOf = (tag: string) => writtenOrders(dir).find((w) => w.submittedTag === tag)?.timeInForce
        expect([timeInForceOf(day.clientOrderId), timeInForceOf(gtc.clientOrderId)]).toEqual(["Day", "GoodTilCanceled"])
        yield* closeSession(dir)
        yield* statusOnce(provider, day.clientOrderId, "CANCELED")
        const [expired, working] = yield* provider.status([day.clientOrderId, gtc.clientOrderId])
        expect([expired?.status, expired?.rejectReason, expired?.fills]).toEqual(["CANCELED", "expired", []])
        expect(working?.status).toBe("SUBMITTED")
        // Canceled on request, an order is not expired: the reason is the caller's.
        const patient = yield* leanProvider(dir, { settleTimeout: "10 seconds" })
        const canceled = yield* patient.cancel(gtc.clientOrderId)
        expect([canceled.status, canceled.rejectReason]).toEqual(["CANCELED", undefined])
      }))
  })

  describe("at LEAN's pace", () => {
    it.scoped("takes an order in once LEAN takes commands, about once a second, though its answer comes before the order", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        yield* startStandIn(dir, { intervalMs: LEAN_INTERVAL_MS })
        const provider = yield* leanProvider(dir, { pollInterval: "200 millis", settleTimeout: "5 seconds" })
        const o = order("AAA", "BUY", 7, { timeInForce: "GTC" })
        const submitting = yield* Effect.fork(provider.submit([o]))
        // LEAN answers the command when it has added the order; the order's first event, and so the files, come
        // at a later turn of its loop.
        yield* eventually(() => fs.existsSync(path.join(dir, `result-command-${o.clientOrderId}.json`)), "5 seconds")
        expect(leanOrderId(dir, o.clientOrderId)).toBeUndefined()
        const [report] = yield* Fiber.join(submitting)
        expect([report?.status, fillText(report)]).toEqual(["FILLED", [`${ALGORITHM_ID}-1-2 BUY 7 @ 100 fee 1`]])
        expect(received(dir).map((c) => [c.command, c.timeInForce, c.success])).toEqual([["TradeExecOrderCommand", "GoodTilCanceled", true]])
      }), { timeout: 30_000 })
  })

  describe("across a LEAN restart", () => {
    it.scoped("re-attaches the orders LEAN reloads from the brokerage without their tag, by the brokerage's order id", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const stopFirst = yield* startStandIn(dir, { algorithmId: "run-a" })
        const before = yield* leanProvider(dir, { algorithmId: "run-a", settleTimeout: "100 millis" })
        const part = order("PART", "BUY", 10)
        const rest = order("REST", "SELL", 4, { limitPrice: Dec.unsafe(110), timeInForce: "GTC" })
        const [partBefore] = yield* before.submit([part, rest])
        const brokerIds = [brokerIdOf(dir, part.clientOrderId, "run-a")!, brokerIdOf(dir, rest.clientOrderId, "run-a")!]

        // LEAN restarts under a new id; Interactive Brokers still works both orders.
        yield* stopFirst
        yield* startStandIn(dir, { algorithmId: "run-b", reloadFrom: "run-a" })
        const after = yield* leanProvider(dir, { algorithmId: ["run-a", "run-b"], settleTimeout: "10 seconds" })
        yield* eventually(() => writtenOrders(dir, "run-b").length === 2)
        expect(writtenOrders(dir, "run-b").map((w) => [w.submittedTag, w.brokerId[0]])).toEqual([[undefined, brokerIds[0]], [undefined, brokerIds[1]]])
        expect(yield* after.status([part.clientOrderId])).toEqual([partBefore])

        // Known again, the order still working is canceled through the running LEAN, by its new id.
        const canceled = yield* after.cancel(rest.clientOrderId)
        expect(canceled.status).toBe("CANCELED")
        expect(received(dir).filter((c) => c.command === "TradeExecCancelCommand").map((c) => c.orderId)).toEqual(["2"])
        // And the one that fills after the restart is FILLED, with the fills of both runs.
        yield* release(dir, `broker-${brokerIds[0]}`)
        const filled = yield* statusOnce(after, part.clientOrderId, "FILLED")
        expect(fillText(filled)).toEqual(["run-a-1-2 BUY 5 @ 100 fee 1", "run-b-1-1 BUY 5 @ 100 fee 1"])
      }))

    it.scoped("refuses to guess when a reloaded order's brokerage id belonged to two orders of ours", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        fs.writeFileSync(
          path.join(dir, "first.json"),
          `{"orders":{"1":{"id":1,"status":1,"quantity":2.0,"tag":"AAA-B-1","brokerId":["7"]},"2":{"id":2,"status":1,"quantity":2.0,"tag":"AAA-B-2","brokerId":["7"]}}}`
        )
        fs.writeFileSync(path.join(dir, "second.json"), `{"orders":{"1":{"id":1,"status":1,"quantity":2.0,"brokerId":["7"]}}}`)
        const provider = yield* Lean.make({ leanDir: dir, resultsDir: dir, algorithmId: ["first", "second"] }).pipe(Effect.provide(Platform))
        const error = yield* Effect.flip(provider.status(["AAA-B-1"] as Array<ClientOrderId>))
        expect(error.message).toContain("LEAN order 1 has brokerage ids 7, which belonged to orders AAA-B-1 and AAA-B-2: cannot tell which it is")
      }))
  })

  describe("the account", () => {
    it.scoped("reads cash and positions from LEAN's cash book and holdings, exactly", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        yield* startStandIn(dir, { cash: "100000.123456789012345678", prices: { ACCT: "12.345678901234567891" } })
        const provider = yield* leanProvider(dir)
        yield* provider.submit([order("ACCT", "BUY", 10), order("SHORT", "SELL", 2)])
        const account = yield* provider.account
        // 100000.123456789012345678 − 10 × 12.345678901234567891 − 1 + 2 × 100 − 1
        expect(Dec.toString(account.cash)).toBe("100074.666667776666666768")
        expect(account.positions.map((p) => [p.symbol, Dec.toString(p.quantity), p.avgCost === undefined ? null : Dec.toString(p.avgCost)])).toEqual([
          ["ACCT", "10", "12.345678901234567891"],
          ["SHORT", "-2", "100"]
        ])
      }))

    it.scoped("says the account is not available until LEAN has written its results", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const error = yield* Effect.flip((yield* leanProvider(dir)).account)
        expect(error.message).toContain(`not available: ${path.join(resultsDirOf(dir), `${ALGORITHM_ID}.json`)} has no cash book`)
      }))
  })

  describe("configuration", () => {
    const fromEnv = (env: Record<string, string>) =>
      Layer.build(Lean.layerConfig).pipe(
        Effect.provide(Platform),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )

    it.scoped("is configured from TRADE_EXEC_LEAN_* variables", () =>
      Effect.gen(function*() {
        const dir = yield* leanDirectory
        const context = yield* fromEnv({
          TRADE_EXEC_LEAN_DIR: dir,
          TRADE_EXEC_LEAN_ALGORITHM_ID: "older, newer",
          TRADE_EXEC_LEAN_MARKET: "usa",
          TRADE_EXEC_LEAN_SECURITY_TYPE: "Equity",
          TRADE_EXEC_LEAN_ACKNOWLEDGE_TIMEOUT: "100 millis",
          TRADE_EXEC_LEAN_POLL_INTERVAL: "10 millis"
        })
        const lean = Context.get(context, ExecutionProvider)
        expect(lean.name).toBe("lean")
        const o = order("AAA", "BUY", 1)
        expect(timeoutIds(yield* Effect.flip(lean.submit([o])))).toEqual([o.clientOrderId])
        expect((yield* Effect.flip(lean.account)).message).toContain(path.join(dir, "trade-exec-results", "newer.json"))
      }))

    it.scoped("fails with InvalidInput, naming the field, for an algorithm id that cannot be part of a file name", () =>
      Effect.gen(function*() {
        const bad = yield* Effect.flip(Lean.make({ leanDir: "/tmp", algorithmId: ["ok", "../etc"] }).pipe(Effect.provide(Platform)))
        expect([bad._tag, bad.field, bad.value]).toEqual(["InvalidInput", "algorithmId", "../etc"])
        const none = yield* Effect.flip(Layer.build(Lean.layer({ leanDir: "/tmp", algorithmId: [] })).pipe(Effect.provide(Platform)))
        expect([none._tag, none.field, none.message]).toEqual(["InvalidInput", "algorithmId", expect.stringContaining("at least one")])
      }))

    it.scoped("refuses an algorithm id that cannot be part of a file name", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(fromEnv({ TRADE_EXEC_LEAN_DIR: "/tmp", TRADE_EXEC_LEAN_ALGORITHM_ID: "../etc" }))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("TRADE_EXEC_LEAN_ALGORITHM_ID must be one or more ids")
      }))
  })
})
