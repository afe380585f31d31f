/**
 * An `ExecutionProvider` that hands orders to a running LEAN algorithm (paper, or Interactive Brokers) over the
 * file-command protocol LEAN already has, and reads what happened from the results the bridge algorithm writes.
 *
 * Submitting an order:
 * 1. Under a lock, ask whether LEAN already has it: an order tagged with the client order id in LEAN's results,
 *    a result packet for its command, a command file still waiting in LEAN's directory, or our journal entry
 *    saying we handed it over. Any of these means the order is never written again — after a crash of ours,
 *    the next submit reconciles instead of trading twice.
 * 2. Otherwise write the command under a temporary name, create the journal entry exclusively (the lock is
 *    only this process's: of two processes submitting the same order, the one that creates the entry hands it
 *    over), then rename the command to `command-<id>.json` (LEAN never reads half a command). The journal
 *    closes the one gap the files leave: LEAN deletes the command file before it runs it and writes its result
 *    after, so for a moment neither says the order exists.
 * 3. Wait, polling on a schedule, until LEAN has taken in every order (it appears in the results, or LEAN
 *    refused the command). LEAN takes commands about once a second, and answers a command before the order's
 *    first event is written, so an answer alone is not an order. Past `acknowledgeTimeout` the outcome is
 *    unknown: `ExecutionTimeout`, and the runner settles it with `status()`.
 * 4. Then wait up to `settleTimeout` for the orders to finish (filled, canceled, rejected) and report them as
 *    they stand: an order still working after that is reported as working, which is a known outcome; `status()`
 *    follows it from there.
 *
 * `status()` answers from LEAN's books. A command still in LEAN's inbox is not an order LEAN knows yet, so it is
 * left out; sending it again through `submit` is safe because submit reconciles it. The journal entries stay as
 * a record of what was handed over.
 *
 * After a LEAN restart the brokerage's open orders come back under new LEAN ids and without a tag; the bridge
 * records each order's brokerage id (Interactive Brokers' order id), and an untagged order of a later deployment
 * is re-attached to the tagged order of an earlier one with the same brokerage id.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Config, Duration, Effect, Either, Layer, Option, Random, Ref, Schedule, Schema } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import type { ExecutionReport, SubmitOrder } from "../../src/domain/Execution.js"
import { type ClientOrderId, normalizeSymbol } from "../../src/domain/Ids.js"
import type { Account, Position } from "../../src/domain/Market.js"
import { nowIso } from "../../src/internal/nowIso.js"
import { ExecutionError, ExecutionTimeout } from "../../src/ports/errors.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { bySymbol } from "../../src/ports/Venue.js"
import * as OrderState from "../../src/OrderState.js"
import * as Commands from "./LeanCommands.js"
import * as Reports from "./LeanReports.js"
import {
  decodeCommandResult,
  decodeOrderEvents,
  decodeResults,
  LeanFormatError,
  type LeanOrderEvent,
  LeanOrderStatus,
  type LeanResults
} from "./LeanResults.js"

export const NAME = "lean"

export interface LeanConfig {
  /** LEAN's working directory: where its `FileCommandHandler` looks for `command*.json`. */
  readonly leanDir: string
  /**
   * Where the bridge algorithm writes `{AlgorithmId}.json` and `{AlgorithmId}-order-events.json`. Default:
   * `<leanDir>/trade-exec-results`, the algorithm's own default.
   */
  readonly resultsDir?: string
  /**
   * The algorithm (deployment) whose results to read. LEAN numbers orders from 1 in every deployment; after a
   * restart under a new id, list the ids oldest first so orders of earlier deployments stay known.
   */
  readonly algorithmId: string | ReadonlyArray<string>
  /** Our record of the commands handed to LEAN. Default: `<leanDir>/trade-exec-journal`. */
  readonly journalDir?: string
  /** LEAN's `Market` for the tickers. Default `usa`. */
  readonly market?: string
  /** LEAN's `SecurityType` for the tickers. Default `Equity`. */
  readonly securityType?: string
  /** How long LEAN may take to take an order in. Default 20 s (below the runner's 30 s provider timeout). */
  readonly acknowledgeTimeout?: Duration.DurationInput
  /**
   * How long submit then waits for orders to finish before reporting them as they stand, and cancel for a
   * cancel LEAN accepted to end the order. Default 5 s.
   */
  readonly settleTimeout?: Duration.DurationInput
  /** When LEAN's files are read again while waiting. Default every 200 ms. */
  readonly pollSchedule?: Schedule.Schedule<unknown>
}

const ALGORITHM_ID = /^[A-Za-z0-9._-]{1,80}$/

const isFinal = (report: ExecutionReport | undefined) => report !== undefined && OrderState.isTerminal(report.status)

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const notFound = (error: PlatformError) => error._tag === "SystemError" && error.reason === "NotFound"
const alreadyExists = (error: PlatformError) => error._tag === "SystemError" && error.reason === "AlreadyExists"

/** What the journal records of a hand-over. */
interface JournalEntry {
  readonly commandFile: string
  /** The temporary file the command was written to before its rename (absent in entries of earlier versions). */
  readonly temporaryFile: string
  readonly handedAt: string
  readonly command: string
}

const decodeJournalEntry = Schema.decodeUnknownOption(
  Schema.parseJson(Schema.Struct({ temporaryFile: Schema.optional(Schema.String) }))
)

interface Deployment {
  readonly algorithmId: string
  readonly resultsFile: string
  readonly results: Option.Option<LeanResults>
}

interface Book {
  readonly deployments: ReadonlyArray<Deployment>
  readonly byTag: ReadonlyMap<string, ReadonlyArray<Reports.TaggedOrder>>
  /** Command id → LEAN's reason for refusing it, of every deployment. */
  readonly refused: ReadonlyMap<string, string>
}

/** The results directory the bridge algorithm writes to unless told otherwise, relative to LEAN's directory. */
export const DEFAULT_RESULTS_DIR = "trade-exec-results"

/**
 * The provider over `config`. Fails with `InvalidInput` (field `algorithmId`) when an algorithm id cannot be part
 * of a file name, or none is given.
 */
export const make = (config: LeanConfig): Effect.Effect<ExecutionProvider["Type"], InvalidInput, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const algorithmIds = typeof config.algorithmId === "string" ? [config.algorithmId] : [...config.algorithmId]
    const invalid = algorithmIds.find((id) => !ALGORITHM_ID.test(id))
    if (algorithmIds.length === 0 || invalid !== undefined) {
      return yield* new InvalidInput({
        source: "LeanConfig",
        field: "algorithmId",
        value: invalid ?? "",
        reason: algorithmIds.length === 0
          ? "at least one LEAN algorithm id is needed"
          : "a LEAN algorithm id must be 1-80 characters of [A-Za-z0-9._-]: it names the results files"
      })
    }
    const leanDir = config.leanDir
    const resultsDir = config.resultsDir ?? path.join(leanDir, DEFAULT_RESULTS_DIR)
    const journalDir = config.journalDir ?? path.join(leanDir, "trade-exec-journal")
    const instrument: Commands.Instrument = { market: config.market ?? "usa", securityType: config.securityType ?? "Equity" }
    const acknowledgeTimeout = Duration.decode(config.acknowledgeTimeout ?? Duration.seconds(20))
    const settleTimeout = Duration.decode(config.settleTimeout ?? Duration.seconds(5))
    const pollSchedule = config.pollSchedule ?? Schedule.spaced(Duration.millis(200))
    const handOverLock = yield* Effect.makeSemaphore(1)

    const failure = (operation: string, reason: string) => new ExecutionError({ provider: NAME, operation, reason })
    const ioFailure = (operation: string, what: string) => (error: PlatformError) =>
      failure(operation, `cannot ${what}: ${error.message}`)

    const readOptional = (operation: string, file: string): Effect.Effect<Option.Option<string>, ExecutionError> =>
      fs.readFileString(file).pipe(
        Effect.map(Option.some),
        Effect.catchIf(notFound, () => Effect.succeed(Option.none<string>())),
        Effect.mapError(ioFailure(operation, `read ${file}`))
      )

    const listDirectory = (operation: string, dir: string) =>
      fs.readDirectory(dir).pipe(
        Effect.catchIf(notFound, () => Effect.succeed<Array<string>>([])),
        Effect.mapError(ioFailure(operation, `list ${dir}`))
      )

    /**
     * A file LEAN may be halfway through writing (it truncates, then writes) is read again, backing off for
     * up to about 1.3 s in all: a writer descheduled on a busy machine leaves the file empty that long.
     */
    const readDecoded = <A>(
      operation: string,
      file: string,
      decode: (file: string, content: string) => Either.Either<A, LeanFormatError>
    ): Effect.Effect<Option.Option<A>, ExecutionError> =>
      readOptional(operation, file).pipe(
        Effect.flatMap((content): Effect.Effect<Option.Option<A>, ExecutionError | LeanFormatError> =>
          Option.isNone(content) ? Effect.succeed(Option.none()) : Effect.map(decode(file, content.value), Option.some)
        ),
        Effect.retry({
          schedule: Schedule.intersect(Schedule.recurs(7), Schedule.exponential(Duration.millis(10))),
          while: (e) => e._tag === "LeanFormatError"
        }),
        Effect.catchTag("LeanFormatError", (e) => Effect.fail(failure(operation, e.message)))
      )

    const readBook = (operation: string) =>
      Effect.gen(function*() {
        const names = yield* listDirectory(operation, resultsDir)
        const deployments: Array<Deployment> = []
        const byTag = new Map<string, Array<Reports.TaggedOrder>>()
        const refused = new Map<string, string>()
        // Brokerage order id → our tags, from the orders read so far (earlier deployments first).
        const byBrokerId = new Map<string, Set<string>>()
        for (const algorithmId of algorithmIds) {
          const resultsFile = path.join(resultsDir, `${algorithmId}.json`)
          const results = yield* readDecoded(operation, resultsFile, decodeResults)
          deployments.push({ algorithmId, resultsFile, results })
          if (Option.isNone(results)) continue
          for (const [commandId, reason] of results.value.refused) refused.set(commandId, reason)
          // The algorithm's own file, and the dated files LEAN's live result handler writes.
          const dated = new RegExp(`^${escapeRegExp(algorithmId)}-\\d{4}-\\d{2}-\\d{2}-order-events\\.json$`)
          const eventFiles = names.filter((n) => n === `${algorithmId}-order-events.json` || dated.test(n)).sort()
          const byOrder = new Map<number, Array<LeanOrderEvent>>()
          for (const name of eventFiles) {
            const events = yield* readDecoded(operation, path.join(resultsDir, name), decodeOrderEvents)
            for (const event of Option.getOrElse(events, () => [])) {
              const list = byOrder.get(event.orderId)
              if (list === undefined) byOrder.set(event.orderId, [event])
              else list.push(event)
            }
          }
          for (const order of [...results.value.orders].sort((a, b) => a.id - b.id)) {
            // By the tag the order was submitted with, not the one LEAN holds now (it may replace it): an order
            // missed here would be sent again. An order LEAN reloaded from the brokerage at its start has no tag:
            // it is ours if an order of ours had its brokerage id.
            const own = Reports.clientTagOf(order)
            const inherited = [...new Set(order.brokerIds.flatMap((b) => [...byBrokerId.get(b) ?? []]))]
            if (own === "" && inherited.length > 1) {
              return yield* failure(
                operation,
                `${resultsFile}: LEAN order ${order.id} has brokerage ids ${order.brokerIds.join(", ")}, which belonged to ` +
                  `orders ${inherited.join(" and ")}: cannot tell which it is; settle them by hand`
              )
            }
            const tag = own !== "" ? own : inherited[0] ?? ""
            if (tag === "") continue
            for (const brokerId of order.brokerIds) byBrokerId.set(brokerId, new Set([...byBrokerId.get(brokerId) ?? [], tag]))
            const tagged = { algorithmId, order, events: byOrder.get(order.id) ?? [] }
            const list = byTag.get(tag)
            if (list === undefined) byTag.set(tag, [tagged])
            else list.push(tagged)
          }
        }
        return { deployments, byTag, refused } satisfies Book
      })

    /** LEAN's answer to a command, if it has written one. */
    const commandResult = (operation: string, commandId: string) => {
      const name = Commands.resultFile(commandId)
      return Effect.map(
        readDecoded(operation, path.join(leanDir, name), decodeCommandResult),
        Option.map((success) => ({ file: name, success }))
      )
    }

    /** Reports for the orders LEAN knows: it holds an order with the tag, or it refused the command. */
    const known = (operation: string, ids: ReadonlyArray<ClientOrderId>) =>
      Effect.gen(function*() {
        const book = yield* readBook(operation)
        const now = yield* nowIso
        const reports = new Map<ClientOrderId, ExecutionReport>()
        for (const id of ids) {
          const tagged = book.byTag.get(id)
          if (tagged !== undefined) {
            const report = Reports.report(id, tagged, now)
            if (Either.isLeft(report)) return yield* failure(operation, report.left)
            reports.set(id, report.right)
            continue
          }
          const result = yield* commandResult(operation, id)
          if (Option.isSome(result) && Option.contains(result.value.success, false)) {
            reports.set(id, Reports.refused(id, result.value.file, book.refused.get(id)))
          }
        }
        return reports
      })

    /** Client order ids of the order commands still waiting in LEAN's directory. */
    const pendingCommands = (operation: string) =>
      Effect.gen(function*() {
        const pending = new Set<string>()
        for (const name of (yield* listDirectory(operation, leanDir)).filter(Commands.isCommandFile)) {
          const named = /^command-(.+)\.json$/.exec(name)?.[1]
          if (named !== undefined) pending.add(named)
          // LEAN may take the file between our listing and our reading: then it is no longer pending.
          const content = yield* readOptional(operation, path.join(leanDir, name))
          for (const tag of Option.match(content, { onNone: () => [], onSome: Commands.tagsOfCommandFile })) pending.add(tag)
        }
        return pending
      })

    const journalFile = (id: ClientOrderId) => path.join(journalDir, `${id}.json`)

    /** Writes a file whole under its final name, so a reader never sees part of it. */
    const writeAtomically = (operation: string, dir: string, name: string, content: string) => {
      const temporary = path.join(dir, Commands.temporaryFile(name))
      return fs.writeFileString(temporary, content).pipe(
        Effect.zipRight(fs.rename(temporary, path.join(dir, name))),
        Effect.mapError(ioFailure(operation, `write ${path.join(dir, name)}`))
      )
    }

    const exists = (operation: string, file: string) =>
      fs.exists(file).pipe(Effect.mapError(ioFailure(operation, `look for ${file}`)))

    /**
     * Our journal entry for an order. `None`: there is none. `Some(Some(name))`: the order was handed over, and
     * `name` is the temporary file its command was written to (entries of earlier versions did not name it: they
     * all used one name). `Some(None)`: an entry we cannot read — another process is writing it, or a crash cut
     * its writing short; the order counts as handed over all the same.
     */
    const readJournal = (operation: string, id: ClientOrderId) =>
      Effect.map(readOptional(operation, journalFile(id)), Option.map((content) =>
        Option.map(
          decodeJournalEntry(content),
          (entry) => entry.temporaryFile ?? Commands.temporaryFile(Commands.orderCommandFile(id))
        )))

    /** Moves a written command to where LEAN takes it. Gone already: another process of ours moved it. */
    const release = (operation: string, temporaryName: string, id: ClientOrderId) => {
      const commandFile = path.join(leanDir, Commands.orderCommandFile(id))
      return fs.rename(path.join(leanDir, temporaryName), commandFile).pipe(
        Effect.catchIf(notFound, () => Effect.void),
        Effect.mapError(ioFailure(operation, `write ${commandFile}`))
      )
    }

    /**
     * Writes the commands of the orders LEAN has never been given; reconciles the rest. A command is written in
     * three steps, so that a crash at any point leaves a state the next submit reads right:
     * 1. the whole command under a temporary name of this hand-over's own, which LEAN never reads — a crash
     *    here sent nothing;
     * 2. the journal entry, naming that file, created exclusively — from here on the order counts as handed
     *    over. Whoever creates it first (another process of ours may be submitting the same order: the lock
     *    only covers this one) is the one hand-over; the others find it there and remove their own file;
     * 3. the rename to `command-<id>.json` — LEAN may take it from here. A journal entry whose temporary file is
     *    still there is a hand-over a crash cut short between 2 and 3: it is completed.
     */
    const handOver = (orders: ReadonlyArray<SubmitOrder>) =>
      handOverLock.withPermits(1)(Effect.gen(function*() {
        const reports = yield* known("submit", orders.map((o) => o.clientOrderId))
        const pending = yield* pendingCommands("submit")
        const seen = new Set<ClientOrderId>()
        for (const order of orders) {
          const id = order.clientOrderId
          if (reports.has(id) || pending.has(id) || seen.has(id)) continue
          seen.add(id)
          const journaled = yield* readJournal("submit", id)
          if (Option.isSome(journaled)) {
            // Handed over; if its temporary file is still there, a crash cut the hand-over short: complete it.
            if (Option.isSome(journaled.value)) yield* release("submit", journaled.value.value, id)
            continue
          }
          if (Option.isSome(yield* commandResult("submit", id))) continue
          const command = Commands.orderCommand(order, instrument)
          const writer = `${yield* Clock.currentTimeMillis}-${(yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36)}`
          const temporaryName = Commands.temporaryFile(Commands.orderCommandFile(id), writer)
          const temporary = path.join(leanDir, temporaryName)
          yield* fs.writeFileString(temporary, command).pipe(Effect.mapError(ioFailure("submit", `write ${temporary}`)))
          yield* fs.makeDirectory(journalDir, { recursive: true }).pipe(Effect.mapError(ioFailure("submit", `create ${journalDir}`)))
          const entry: JournalEntry = {
            commandFile: Commands.orderCommandFile(id),
            temporaryFile: temporaryName,
            handedAt: yield* nowIso,
            command
          }
          // "wx": created only if no entry exists, in one step the file system decides.
          const claimed = yield* fs.writeFileString(journalFile(id), JSON.stringify(entry), { flag: "wx" }).pipe(
            Effect.as(true),
            Effect.catchIf(alreadyExists, () => Effect.succeed(false)),
            Effect.mapError(ioFailure("submit", `write ${journalFile(id)}`))
          )
          if (!claimed) {
            yield* fs.remove(temporary).pipe(Effect.mapError(ioFailure("submit", `remove ${temporary}`)))
            continue
          }
          yield* release("submit", temporaryName, id)
        }
      }))

    /**
     * Reads `probe` now and then on the poll schedule until `done` holds or `within` has passed. Returns the last
     * reading and whether it was done.
     */
    const pollUntil = <A>(probe: Effect.Effect<A, ExecutionError>, done: (a: A) => boolean, within: Duration.Duration) =>
      Effect.gen(function*() {
        const last = yield* Ref.make<Option.Option<A>>(Option.none())
        const reached = yield* Effect.tap(probe, (a) => Ref.set(last, Option.some(a))).pipe(
          Effect.repeat({ schedule: pollSchedule, until: done }),
          Effect.zipRight(Effect.map(Ref.get(last), Option.exists(done))),
          Effect.timeoutTo({ duration: within, onSuccess: (ok) => ok, onTimeout: () => false })
        )
        const reading = yield* Ref.get(last)
        return { reached, last: Option.isSome(reading) ? reading.value : yield* probe }
      })

    const validate = (order: SubmitOrder) =>
      !Dec.isPositive(order.quantity)
        ? Effect.fail(failure("submit", `order ${order.clientOrderId} has a quantity of ${Dec.toString(order.quantity)}; it must be positive`))
        : order.orderType === "LMT" && order.limitPrice === undefined
        ? Effect.fail(failure("submit", `limit order ${order.clientOrderId} has no limit price`))
        : Effect.void

    const submit = Effect.fn("LeanExecutionProvider.submit")(function*(orders: ReadonlyArray<SubmitOrder>) {
      if (orders.length === 0) return []
      yield* Effect.forEach(orders, validate, { discard: true })
      const ids = [...new Set(orders.map((o) => o.clientOrderId))]
      yield* handOver(orders)
      const acknowledged = yield* pollUntil(known("submit", ids), (r) => r.size === ids.length, acknowledgeTimeout)
      if (!acknowledged.reached) {
        return yield* new ExecutionTimeout({
          provider: NAME,
          operation: "submit",
          clientOrderIds: ids.filter((id) => !acknowledged.last.has(id))
        })
      }
      const settled = yield* pollUntil(known("submit", ids), (r) => ids.every((id) => isFinal(r.get(id))), settleTimeout)
      return orders.map((o) => settled.last.get(o.clientOrderId) ?? acknowledged.last.get(o.clientOrderId)!)
    })

    const status = Effect.fn("LeanExecutionProvider.status")(function*(ids: ReadonlyArray<ClientOrderId>) {
      if (ids.length === 0) return []
      const reports = yield* known("status", ids)
      return ids.flatMap((id) => {
        const report = reports.get(id)
        return report === undefined ? [] : [report]
      })
    })

    const cancel = Effect.fn("LeanExecutionProvider.cancel")(function*(id: ClientOrderId) {
      let reports = yield* known("cancel", [id])
      if (!reports.has(id)) {
        const handed = (yield* pendingCommands("cancel")).has(id) || (yield* exists("cancel", journalFile(id)))
        if (!handed) return yield* failure("cancel", `unknown order ${id}: LEAN has no order tagged with it`)
        const acknowledged = yield* pollUntil(known("cancel", [id]), (r) => r.has(id), acknowledgeTimeout)
        if (!acknowledged.reached) {
          return yield* new ExecutionTimeout({ provider: NAME, operation: "cancel", clientOrderIds: [id] })
        }
        reports = acknowledged.last
      }
      const current = reports.get(id)!
      if (isFinal(current)) return current
      // Order ids are LEAN's per run: only an order of the running deployment (the last id) can be named to it.
      const running = algorithmIds.at(-1)!
      const runningOrder = (book: Book) => book.byTag.get(id)?.filter((t) => t.algorithmId === running).at(-1)
      const target = runningOrder(yield* readBook("cancel"))
      if (target === undefined) {
        // LEAN reloads every order open at the brokerage when it starts, and the book re-attaches those to ours:
        // an order the running LEAN does not hold was not open at the brokerage then.
        return yield* failure(
          "cancel",
          `order ${id} belongs to an earlier LEAN run, not to ${running}, which does not hold it: it was not open at the ` +
            `brokerage when ${running} started (filled or canceled while LEAN was down, or a paper order that ended with ` +
            `its run); check the account and settle it by hand`
        )
      }
      const settle = () => pollUntil(known("cancel", [id]), (r) => isFinal(r.get(id)), settleTimeout)
      // A cancel LEAN has accepted already (CancelPending) is not asked again: LEAN would refuse it as in progress.
      if (target.order.status !== LeanOrderStatus.CancelPending) {
        // A cancel may be asked again after LEAN refused one: each gets its own command id and result file.
        const commandId = `cancel-${id}-${yield* Clock.currentTimeMillis}`
        yield* writeAtomically("cancel", leanDir, `command-${commandId}.json`, Commands.cancelCommand(commandId, target.order.id))
        const answered = yield* pollUntil(
          Effect.all([known("cancel", [id]), commandResult("cancel", commandId)]),
          ([r, result]) => isFinal(r.get(id)) || Option.isSome(result),
          acknowledgeTimeout
        )
        const [latest, result] = answered.last
        const report = latest.get(id) ?? current
        if (isFinal(report)) return report
        if (Option.isNone(result)) return yield* new ExecutionTimeout({ provider: NAME, operation: "cancel", clientOrderIds: [id] })
        if (!Option.contains(result.value.success, true)) {
          const book = yield* readBook("cancel")
          const status = runningOrder(book)?.order.status ?? target.order.status
          // Refused because the order had closed meanwhile (filled, expired): it is reported as it ended, once
          // the events behind LEAN's status are written. Refused because someone else's cancel is in progress:
          // that cancel is followed like ours. Any other refusal is LEAN's answer.
          const closed = status === LeanOrderStatus.Filled || status === LeanOrderStatus.Canceled || status === LeanOrderStatus.Invalid
          if (closed) {
            const settled = yield* settle()
            if (settled.reached) return settled.last.get(id)!
          }
          if (status !== LeanOrderStatus.CancelPending) {
            const reason = book.refused.get(commandId) ?? `${result.value.file}: success ${Option.getOrElse(result.value.success, () => "null")}; see LEAN's log`
            return yield* failure("cancel", `LEAN refused to cancel order ${id} (LEAN order ${target.order.id}): ${reason}`)
          }
        }
      }
      // Accepted: LEAN has sent the cancel to the brokerage. The order ends CANCELED (fills kept), or FILLED if the
      // brokerage filled it first; until then it is reported working, with its cancel pending.
      const settled = yield* settle()
      return settled.last.get(id) ?? current
    })

    const account = Effect.gen(function*() {
      const book = yield* readBook("account")
      const newest = book.deployments.at(-1)!
      const results = Option.getOrUndefined(newest.results)
      const cashBook = results === undefined ? undefined : Option.getOrUndefined(results.cash)
      if (results === undefined || cashBook === undefined) {
        return yield* failure("account", `not available: ${newest.resultsFile} has no cash book (is the algorithm writing its results?)`)
      }
      const currency = Option.getOrUndefined(results.accountCurrency) ??
        (cashBook.has("USD") ? "USD" : cashBook.size === 1 ? [...cashBook.keys()][0]! : undefined)
      const cash = currency === undefined ? undefined : cashBook.get(currency)
      if (cash === undefined) {
        return yield* failure("account", `not available: cannot tell the account currency among ${[...cashBook.keys()].join(", ")}`)
      }
      const positions: Array<Position> = []
      for (const holding of Option.getOrElse(results.holdings, () => [])) {
        if (Dec.isZero(holding.quantity)) continue
        const symbol = normalizeSymbol(holding.ticker)
        if (symbol === undefined) return yield* failure("account", `LEAN holds ${JSON.stringify(holding.ticker)}, which is not a symbol`)
        positions.push({
          symbol,
          quantity: holding.quantity,
          ...Option.match(holding.averagePrice, { onNone: () => ({}), onSome: (avgCost) => ({ avgCost }) })
        })
      }
      positions.sort((a, b) => bySymbol(a.symbol, b.symbol))
      return { cash, positions } satisfies Account
    }).pipe(Effect.withSpan("LeanExecutionProvider.account"))

    return ExecutionProvider.of({ name: NAME, submit, status, cancel, account })
  })

export const layer = (config: LeanConfig): Layer.Layer<ExecutionProvider, InvalidInput, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(ExecutionProvider, make(config))

const optionalString = (name: string) => Config.option(Config.nonEmptyString(name))

/**
 * The provider's configuration from the environment:
 * - `TRADE_EXEC_LEAN_DIR` (required): LEAN's working directory;
 * - `TRADE_EXEC_LEAN_ALGORITHM_ID` (required): the algorithm id, or several separated by commas, oldest first;
 * - `TRADE_EXEC_LEAN_RESULTS_DIR` (default `<LEAN dir>/trade-exec-results`), `TRADE_EXEC_LEAN_JOURNAL_DIR`, `TRADE_EXEC_LEAN_MARKET`,
 *   `TRADE_EXEC_LEAN_SECURITY_TYPE`;
 * - `TRADE_EXEC_LEAN_ACKNOWLEDGE_TIMEOUT`, `TRADE_EXEC_LEAN_SETTLE_TIMEOUT`, `TRADE_EXEC_LEAN_POLL_INTERVAL`
 *   as durations (`20 seconds`, `500 millis`).
 * Read on its own, so a command can check it before it writes anything.
 */
export const configFromEnv: Effect.Effect<LeanConfig, ConfigError> = Effect.gen(function*() {
  const leanDir = yield* Config.nonEmptyString("TRADE_EXEC_LEAN_DIR")
  const algorithmId = yield* Config.nonEmptyString("TRADE_EXEC_LEAN_ALGORITHM_ID").pipe(
    Config.map((raw) => raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0)),
    Config.validate({
      message: "TRADE_EXEC_LEAN_ALGORITHM_ID must be one or more ids of 1-80 characters [A-Za-z0-9._-], separated by commas",
      validation: (ids) => ids.length > 0 && ids.every((id) => ALGORITHM_ID.test(id))
    })
  )
  const resultsDir = yield* optionalString("TRADE_EXEC_LEAN_RESULTS_DIR")
  const journalDir = yield* optionalString("TRADE_EXEC_LEAN_JOURNAL_DIR")
  const market = yield* optionalString("TRADE_EXEC_LEAN_MARKET")
  const securityType = yield* optionalString("TRADE_EXEC_LEAN_SECURITY_TYPE")
  const acknowledgeTimeout = yield* Config.option(Config.duration("TRADE_EXEC_LEAN_ACKNOWLEDGE_TIMEOUT"))
  const settleTimeout = yield* Config.option(Config.duration("TRADE_EXEC_LEAN_SETTLE_TIMEOUT"))
  const pollInterval = yield* Config.option(Config.duration("TRADE_EXEC_LEAN_POLL_INTERVAL"))
  const some = <K extends string, A>(key: K, value: Option.Option<A>) =>
    Option.match(value, { onNone: () => ({}), onSome: (v) => ({ [key]: v } as { readonly [P in K]: A }) })
  return {
    leanDir,
    algorithmId,
    ...some("resultsDir", resultsDir),
    ...some("journalDir", journalDir),
    ...some("market", market),
    ...some("securityType", securityType),
    ...some("acknowledgeTimeout", acknowledgeTimeout),
    ...some("settleTimeout", settleTimeout),
    ...some("pollSchedule", Option.map(pollInterval, (d): Schedule.Schedule<unknown> => Schedule.spaced(d)))
  } satisfies LeanConfig
})

/** The provider configured from the environment (`configFromEnv`). */
export const layerConfig: Layer.Layer<ExecutionProvider, ConfigError | InvalidInput, FileSystem.FileSystem | Path.Path> = Layer.effect(
  ExecutionProvider,
  Effect.flatMap(configFromEnv, make)
)
