/**
 * The `trade-exec` commands. Every command reads and checks all of its input before it writes anything,
 * so bad input leaves no partial state behind; then it opens the database and runs the flow.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Either, Option, Schema } from "effect"
import * as BuildInput from "../../src/BuildInput.js"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import type { RunId } from "../../src/domain/Ids.js"
import type { RiskLimits } from "../../src/domain/Risk.js"
import type { RunParams } from "../../src/domain/Run.js"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { AccountBusy } from "../../src/ports/errors.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { type RunOutcome, type RunReport, TradeRunner } from "../../src/TradeRunner.js"
import { TradeWorker } from "../../src/TradeWorker.js"
import * as CsvPriceFeed from "../csv/CsvPriceFeed.js"
import { readItems, readPositions, readPrices, readSecurities } from "../csv/readers.js"
import * as Lean from "../lean/LeanExecutionProvider.js"
import { commissionFromName } from "../mock/MockExecutionProvider.js"
import { DatabaseLive } from "../sql/layers.js"
import { commissionConfig, slippageConfig } from "./environment.js"
import { COMMAND_LINE, databaseOption, decimalFlag, durationFlag, namedByFlag, nonNegative, positive, readRiskFile, slippageBpsCheck } from "./input.js"
import * as Output from "./output.js"
import { openPaperAccount, paperSeed, runnerLayer, type Venue } from "./session.js"

/** A command that did its job but must end with this exit code (3 blocked, 4 failed, 1 not verified). */
export class ExitWith extends Schema.TaggedError<ExitWith>()("ExitWith", { code: Schema.Number }) {}

/** 0 done (or dry run completed), 3 blocked by risk, 4 failed, 6 still running with orders working. */
export const exitCodeOf = (outcome: RunOutcome): number =>
  outcome.run.status === "blocked"
    ? 3
    : outcome.run.status === "failed"
    ? 4
    : outcome.run.status === "running" && !outcome.dryRun
    ? 6
    : 0

const db = databaseOption
const json = Options.boolean("json").pipe(Options.withDescription("print one JSON document on stdout"))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("build and risk-check the orders, submit nothing"))
const runId = Args.text({ name: "RUN_ID" })
const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(description))

const venueOptions = {
  provider: Options.choice("provider", ["paper", "lean"]).pipe(
    Options.withDefault("paper" as const),
    Options.withDescription(
      "who carries the orders out: paper (the paper broker, its book in the database; default) or lean " +
        "(a LEAN instance over its file-command bridge, configured by the TRADE_EXEC_LEAN_* environment variables)"
    )
  ),
  commission: Options.text("commission").pipe(
    Options.withFallbackConfig(commissionConfig),
    Options.withDefault("none"),
    Options.withDescription("paper broker commission schedule: ib-fixed, ib-tiered or none (env TRADE_EXEC_PAPER_COMMISSION)")
  ),
  slippageBps: Options.text("slippage-bps").pipe(
    Options.withFallbackConfig(slippageConfig(slippageBpsCheck)),
    Options.optional,
    Options.withDescription("paper broker slippage against the order, in basis points (env TRADE_EXEC_PAPER_SLIPPAGE_BPS)")
  )
}

const wait = optionalText(
  "wait",
  "how long to follow orders that still work before returning with the run running, e.g. 30s, 15m, 6h (default 0s)"
)

/** What a person needs when a run returns with orders still working: how many, and the commands that follow. */
const sayWorking = (outcome: RunOutcome, db: string, provider: string) =>
  outcome.run.status !== "running" || outcome.dryRun
    ? Effect.void
    : Console.error(
      `trade-exec: run ${outcome.run.id} is running: ${outcome.working} order${outcome.working === 1 ? "" : "s"} still ` +
        `work at the venue. Follow them with: trade-exec execute ${outcome.run.id}${Output.providerArgument(provider)}` +
        `${Output.dbArgument(db)} [--wait 15m]; cancel them with: trade-exec cancel ${outcome.run.id}` +
        `${Output.providerArgument(provider)}${Output.dbArgument(db)}`
    )

const print = (report: RunReport, asJson: boolean, dryRun = false) =>
  Console.log(asJson ? JSON.stringify(Output.runDocument(report, dryRun), null, 2) : Output.renderRun(report, dryRun))

const sayInterrupted = (message: string) =>
  // A progress line may be on the terminal, without its end of line.
  Console.error(`${process.stderr.isTTY ? "\n" : ""}trade-exec: interrupted: ${message}`)

/**
 * What an interrupted run was left as, in the words a person at the terminal needs next. A run stopped
 * before its orders were built recorded no prices, so the command that resumes it names the prices file.
 */
const interrupted = (runId: RunId, db: string, pricesFile: Option.Option<string>) =>
  Effect.gen(function*() {
    const run = yield* (yield* TradeRepository).getRun(runId)
    const prices = run.recorded !== undefined ? "" : Output.pricesArgument(Option.getOrElse(pricesFile, () => "PRICES.csv"))
    const again = `trade-exec execute ${runId}${prices}${Output.dbArgument(db)}`
    return run.status === "running"
      ? `run ${runId} is left running; orders already sent stand. Resume it with: ${again}`
      : run.status === "queued"
      ? `run ${runId} is still queued; nothing was sent. Execute it with: ${again}`
      : `run ${runId} had already ended ${run.status}.`
  }).pipe(
    // The database may be what hangs: the user is not kept waiting for it.
    Effect.timeout("2 seconds"),
    Effect.orElseSucceed(() => `run ${runId} may be left unfinished; see: trade-exec show ${runId}${Output.dbArgument(db)}`),
    Effect.flatMap(sayInterrupted)
  )

/**
 * Executes the run and reads its report. Interrupted (Ctrl-C, SIGTERM), the run stops at its next step:
 * what was sent stays sent, the lease is given back, and the next execute settles it with the broker
 * before sending the rest.
 */
const executeAndReport = (
  runId: RunId,
  dryRun: boolean,
  db: string,
  pricesFile: Option.Option<string>,
  wait: Duration.Duration
) =>
  Effect.gen(function*() {
    const runner = yield* TradeRunner
    const outcome = yield* runner.execute(runId, { dryRun, wait })
    return { outcome, report: yield* runner.report(runId) }
  }).pipe(Effect.onInterrupt(() => interrupted(runId, db, pricesFile)))

const endWith = (outcome: RunOutcome) => {
  const code = exitCodeOf(outcome)
  return code === 0 ? Effect.void : Effect.fail(new ExitWith({ code }))
}

/** Reads an optional decimal flag. */
const optionalDecimal = (flag: string, raw: Option.Option<string>, check?: (d: Dec.Decimal) => string | undefined) =>
  Option.match(raw, {
    onNone: () => Either.right(undefined),
    onSome: (text) => decimalFlag(flag, text, check)
  })

const venueFrom = (
  options: { readonly provider: "paper" | "lean"; readonly commission: string; readonly slippageBps: Option.Option<string> },
  seed: Dec.Decimal
) =>
  Effect.gen(function*() {
    const slippageBps = yield* optionalDecimal("slippage-bps", options.slippageBps, slippageBpsCheck)
    const commission = commissionFromName(options.commission)
    if (commission === undefined) {
      return yield* new InvalidInput({ source: COMMAND_LINE, field: "--commission", value: options.commission, reason: "must be ib-fixed, ib-tiered or none" })
    }
    return {
      provider: options.provider,
      lean: options.provider === "lean" ? yield* Lean.configFromEnv : undefined,
      commission,
      slippageBps,
      seedCash: yield* paperSeed(seed)
    } satisfies Venue
  })

const unitInterval = (d: Dec.Decimal) =>
  Dec.isNegative(d) || Dec.gte(d, Dec.ONE) ? "must be at least 0 and less than 1" : undefined

const runCommand = Command.make(
  "run",
  {
    items: Options.text("items").pipe(Options.withDescription("decision items CSV: symbol, weight[, score, rank, sector, price]")),
    prices: Options.text("prices").pipe(Options.withDescription("prices CSV: symbol, price[, bid, ask, volume, time]")),
    portfolioValue: Options.text("portfolio-value").pipe(Options.withDescription("portfolio value to size the targets on")),
    positions: optionalText("positions", "positions CSV: symbol, quantity[, avg_cost] (default: the paper account's)"),
    securities: optionalText("securities", "securities CSV: symbol[, sector, lot_size, tick_size, min_quantity]"),
    cash: optionalText("cash", "cash available (default: portfolio value less positions, or the paper account's)"),
    cashBuffer: optionalText("cash-buffer", "fraction of the portfolio kept in cash, in [0, 1)"),
    lotSize: optionalText("lot-size", "lot size for symbols without one (default 1)"),
    orderType: Options.text("order-type").pipe(Options.withDefault("MKT"), Options.withDescription("MKT (default) or LMT")),
    limitOffsetBps: optionalText("limit-offset-bps", "LMT: limit price this many bps from the reference price"),
    minOrderNotional: optionalText("min-order-notional", "skip orders smaller than this"),
    liquidateMissing: Options.boolean("liquidate-missing").pipe(Options.withDescription("sell held symbols the decision omits")),
    modelVersion: optionalText("model-version", "model version (part of every client order id)"),
    risk: optionalText("risk", "JSON file of risk limits; the flags below override it"),
    maxOrderNotional: optionalText("max-order-notional", "largest notional of one order"),
    maxPositionRatio: optionalText("max-position-ratio", "largest post-trade position / portfolio value"),
    maxNameWeight: optionalText("max-name-weight", "largest decided weight of one name"),
    maxSectorWeight: optionalText("max-sector-weight", "largest post-trade sector value / portfolio value"),
    maxGrossExposure: optionalText("max-gross-exposure", "largest post-trade gross exposure / portfolio value"),
    longOnly: Options.boolean("long-only").pipe(Options.withDescription("no post-trade short positions")),
    timeInForce: Options.choice("time-in-force", ["day", "gtc"]).pipe(
      Options.withDefault("day" as const),
      Options.withDescription("how long the venue keeps the orders working: day (until the session closes; default) or gtc")
    ),
    cancelAfter: optionalText(
      "cancel-after",
      "deadline after the run starts, e.g. 90s, 15m, 6h: the first check past it cancels what still works (fills kept)"
    ),
    wait,
    ...venueOptions,
    db,
    dryRun,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const portfolioValue = yield* decimalFlag("portfolio-value", flags.portfolioValue, positive)
      const cash = yield* optionalDecimal("cash", flags.cash)
      const cashBufferRatio = yield* optionalDecimal("cash-buffer", flags.cashBuffer, unitInterval)
      const lotSize = yield* optionalDecimal("lot-size", flags.lotSize, positive)
      const limitOffsetBps = yield* optionalDecimal("limit-offset-bps", flags.limitOffsetBps)
      const minOrderNotional = yield* optionalDecimal("min-order-notional", flags.minOrderNotional, nonNegative)
      const flagLimits: Record<string, Dec.Decimal | boolean | undefined> = {
        maxOrderNotional: yield* optionalDecimal("max-order-notional", flags.maxOrderNotional, positive),
        maxPositionRatio: yield* optionalDecimal("max-position-ratio", flags.maxPositionRatio, positive),
        maxNameWeight: yield* optionalDecimal("max-name-weight", flags.maxNameWeight, positive),
        maxSectorWeight: yield* optionalDecimal("max-sector-weight", flags.maxSectorWeight, positive),
        maxGrossExposure: yield* optionalDecimal("max-gross-exposure", flags.maxGrossExposure, positive),
        longOnly: flags.longOnly ? true : undefined
      }
      const orderType = flags.orderType.trim().toUpperCase()
      if (orderType !== "MKT" && orderType !== "LMT") {
        return yield* new InvalidInput({ source: COMMAND_LINE, field: "--order-type", value: flags.orderType, reason: "must be MKT or LMT" })
      }
      if (orderType === "LMT" && limitOffsetBps === undefined) {
        return yield* new InvalidInput({ source: COMMAND_LINE, field: "--order-type", value: "LMT", reason: "LMT orders need --limit-offset-bps" })
      }
      const modelVersion = Option.getOrUndefined(flags.modelVersion)
      if (modelVersion !== undefined && modelVersion.trim() === "") {
        return yield* new InvalidInput({ source: COMMAND_LINE, field: "--model-version", value: modelVersion, reason: "is empty" })
      }
      const flagged = yield* venueFrom(flags, portfolioValue)
      const waitFor = yield* durationFlag("wait", flags.wait)
      const cancelAfter = Option.isSome(flags.cancelAfter) ? yield* durationFlag("cancel-after", flags.cancelAfter) : undefined

      const items = yield* readItems(flags.items)
      if (items.length === 0) {
        return yield* new InvalidInput({ source: flags.items, field: "symbol", reason: "has no rows: a decision needs at least one item" })
      }
      const prices = yield* readPrices(flags.prices)
      const positions = Option.isSome(flags.positions) ? yield* readPositions(flags.positions.value) : undefined
      const securities = Option.isSome(flags.securities) ? yield* readSecurities(flags.securities.value) : undefined
      const riskFile = Option.isSome(flags.risk) ? yield* readRiskFile(flags.risk.value) : undefined
      const limits = {
        ...riskFile?.limits,
        ...Object.fromEntries(Object.entries(flagLimits).filter(([, v]) => v !== undefined))
      } as RiskLimits

      const params: RunParams = {
        portfolioValue,
        ...(cash === undefined ? {} : { cash }),
        ...(cashBufferRatio === undefined ? {} : { cashBufferRatio }),
        ...(lotSize === undefined ? {} : { lotSize }),
        orderType,
        ...(limitOffsetBps === undefined ? {} : { limitOffsetBps }),
        ...(minOrderNotional === undefined ? {} : { minOrderNotional }),
        liquidateMissing: flags.liquidateMissing,
        ...(modelVersion === undefined ? {} : { modelVersion: modelVersion.trim() }),
        ...(positions === undefined ? {} : { positions }),
        ...(securities === undefined ? {} : { securities }),
        risk: limits,
        ...(riskFile?.policy === undefined ? {} : { riskPolicy: riskFile.policy }),
        timeInForce: flags.timeInForce === "gtc" ? "GTC" : "DAY",
        ...(cancelAfter === undefined ? {} : { cancelAfter })
      }

      // The whole build, checked before anything is written (the paper account's positions, when used,
      // are read later; the files and flags are all checked here).
      const plan = yield* Either.mapLeft(BuildInput.validate({
        runId: "check",
        items,
        prices,
        positions: positions ?? [],
        securities: securities ?? [],
        ...params,
        portfolioValue,
        sources: {
          items: flags.items,
          prices: flags.prices,
          ...(Option.isSome(flags.positions) ? { positions: flags.positions.value } : {}),
          ...(Option.isSome(flags.securities) ? { securities: flags.securities.value } : {}),
          params: COMMAND_LINE
        }
      }), namedByFlag)

      // A new paper account opens with the cash the run is sized from.
      const venue: Venue = { ...flagged, seedCash: yield* paperSeed(plan.settings.cash) }
      const { outcome, report } = yield* Effect.gen(function*() {
        if (Option.isSome(flags.positions) && venue.provider === "paper") {
          yield* openPaperAccount(venue, plan.positions, flags.positions.value, flags.db)
        }
        const repo = yield* TradeRepository
        const run = yield* repo.withTransaction(Effect.gen(function*() {
          // One account, one run trading: refused before anything is written while another run works.
          const working = flags.dryRun ? undefined : yield* repo.accountHolder
          if (working !== undefined) return yield* new AccountBusy({ runId: "(new run)", workingRunId: working })
          const snapshot = yield* repo.createSnapshot({ items, source: flags.items })
          return yield* repo.createRun({ snapshotId: snapshot.id, mode: "paper", params })
        })).pipe(
          // A large snapshot is written in steps that give Ctrl-C its turn; the transaction is then undone.
          Effect.onInterrupt(() => sayInterrupted("before the run was created; nothing was written"))
        )
        return yield* executeAndReport(run.id, flags.dryRun, flags.db, Option.some(flags.prices), waitFor).pipe(
          Effect.provide(runnerLayer(venue, PriceFeed.layerMemory(prices)))
        )
      }).pipe(Effect.provide(DatabaseLive(flags.db)))
      yield* print(report, flags.json, outcome.dryRun)
      yield* sayWorking(outcome, flags.db, flags.provider)
      yield* endWith(outcome)
    })
).pipe(Command.withDescription("freeze a decision from CSV files, create a run and execute it"))

/** Commands about runs already there never create a database, and read one they may not write. */
const READ_EXISTING = { existing: true, readsOnly: true } as const

/**
 * The feed for a run executed later: a prices file if given, else the prices each run recorded when it built
 * its orders (a run that has not built them needs the file).
 */
const feedFor = (pricesFile: Option.Option<string>) =>
  Option.match(pricesFile, { onNone: () => PriceFeed.layerRecorded, onSome: CsvPriceFeed.layer })

const executeCommand = Command.make(
  "execute",
  {
    runId,
    prices: optionalText("prices", "prices CSV (default: the prices the run recorded)"),
    wait,
    ...venueOptions,
    db,
    dryRun,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const waitFor = yield* durationFlag("wait", flags.wait)
      const { outcome, report } = yield* Effect.gen(function*() {
        const run = yield* (yield* TradeRepository).summarize(flags.runId as RunId)
        return yield* executeAndReport(run.run.id, flags.dryRun, flags.db, flags.prices, waitFor).pipe(
          Effect.provide(runnerLayer(venue, feedFor(flags.prices)))
        )
      }).pipe(Effect.provide(DatabaseLive(flags.db, { existing: true })))
      yield* print(report, flags.json, outcome.dryRun)
      yield* sayWorking(outcome, flags.db, flags.provider)
      yield* endWith(outcome)
    })
).pipe(Command.withDescription(
  "execute a queued run, resume an interrupted one, or check a running run's working orders (again); finished runs are reported as they are"
))

const cancelCommand = Command.make(
  "cancel",
  { runId, prices: optionalText("prices", "prices CSV for the paper broker (default: the prices the run recorded)"), ...venueOptions, db, json },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const report = yield* Effect.gen(function*() {
        const runner = yield* TradeRunner
        yield* runner.cancel(flags.runId as RunId)
        return yield* runner.report(flags.runId as RunId)
      }).pipe(Effect.provide(runnerLayer(venue, feedFor(flags.prices))), Effect.provide(DatabaseLive(flags.db, { existing: true })))
      yield* print(report, flags.json)
      if (report.run.status === "running") {
        yield* Console.error(`trade-exec: the venue has not confirmed every cancel yet; run ${report.run.id} ends at its next check: trade-exec execute ${report.run.id}${Output.dbArgument(flags.db)}`)
      }
    })
).pipe(Command.withDescription(
  "cancel a run: a queued run ends with nothing sent; a running run's working orders are canceled at the venue (fills kept); a finished run is reported unchanged"
))

const reconcileCommand = Command.make(
  "reconcile",
  {
    runId: Args.text({ name: "RUN_ID" }).pipe(Args.optional),
    prices: optionalText("prices", "prices CSV for the paper broker (default: the prices each run recorded)"),
    ...venueOptions,
    db,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const result = yield* Effect.flatMap(TradeRunner, (runner) => runner.reconcile(Option.getOrUndefined(flags.runId) as RunId | undefined)).pipe(
        Effect.provide(runnerLayer(venue, feedFor(flags.prices))),
        Effect.provide(DatabaseLive(flags.db, { existing: true }))
      )
      yield* Console.log(flags.json ? JSON.stringify(Output.reconcileDocument(result), null, 2) : Output.renderReconcile(result))
      if (result.breaks.length > 0) yield* new ExitWith({ code: 7 })
    })
).pipe(Command.withDescription(
  "settle every order in flight (of RUN_ID, or of all runs, failed ones included) with the venue, then compare positions with the venue: exit 7 on a break"
))

const showCommand = Command.make("show", { runId, db, json }, (flags) =>
  Effect.gen(function*() {
    const report = yield* Effect.flatMap(TradeRunner, (runner) => runner.report(flags.runId as RunId)).pipe(
      Effect.provide(runnerLayer(undefined, PriceFeed.layerMemory([]))),
      Effect.provide(DatabaseLive(flags.db, READ_EXISTING))
    )
    yield* print(report, flags.json)
  })).pipe(Command.withDescription("show a run: its orders, fills, risk verdict and skips"))

const runsCommand = Command.make("runs", { db, json }, (flags) =>
  Effect.gen(function*() {
    const runs = yield* Effect.flatMap(TradeRepository, (repo) => repo.listRuns()).pipe(Effect.provide(DatabaseLive(flags.db, READ_EXISTING)))
    yield* Console.log(flags.json ? JSON.stringify({ runs: runs.map(Output.runSummary) }, null, 2) : Output.renderRuns(runs))
  })).pipe(Command.withDescription("list runs, newest first"))

const auditCommand = Command.make(
  "audit",
  { runId, verify: Options.boolean("verify").pipe(Options.withDescription("verify the whole hash chain")), db, json },
  (flags) =>
    Effect.gen(function*() {
      const { events, verification } = yield* Effect.gen(function*() {
        yield* (yield* TradeRepository).getRun(flags.runId as RunId)
        const audit = yield* AuditLog
        return {
          events: yield* audit.list({ runId: flags.runId }),
          verification: flags.verify ? yield* audit.verify : undefined
        }
      }).pipe(Effect.provide(DatabaseLive(flags.db, READ_EXISTING)))
      yield* Console.log(
        flags.json
          ? JSON.stringify({ events, ...(verification === undefined ? {} : { verification }) }, null, 2)
          : Output.renderAudit(events, verification)
      )
      if (verification !== undefined && !verification.ok) yield* new ExitWith({ code: 1 })
    })
).pipe(Command.withDescription("show a run's audit events; --verify checks the hash chain (exit 1 when broken)"))

const replayCommand = Command.make("replay", { runId, db, json }, (flags) =>
  Effect.gen(function*() {
    const replay = yield* Effect.flatMap(TradeRunner, (runner) => runner.replay(flags.runId as RunId)).pipe(
      Effect.provide(runnerLayer(undefined, PriceFeed.layerMemory([]))),
      Effect.provide(DatabaseLive(flags.db, READ_EXISTING))
    )
    yield* Console.log(flags.json ? JSON.stringify(replay, null, 2) : Output.renderReplay(replay))
    if (!replay.matches) yield* new ExitWith({ code: 1 })
  })).pipe(Command.withDescription("rebuild a run's orders from its record and compare (exit 1 on a difference)"))

const workerCommand = Command.make(
  "worker",
  {
    db,
    prices: optionalText("prices", "prices CSV (default: the prices each run recorded when it built its orders)"),
    drain: Options.boolean("drain").pipe(Options.withDescription("stop when no run is queued, orphaned or due for a check")),
    ...venueOptions,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const steps = yield* Effect.flatMap(TradeWorker, (worker) => (flags.drain ? worker.drain : worker.run)).pipe(
        Effect.provide(TradeWorker.layer()),
        Effect.provide(runnerLayer(venue, feedFor(flags.prices))),
        Effect.provide(DatabaseLive(flags.db))
      )
      yield* Console.log(
        flags.json ? JSON.stringify({ executed: steps }, null, 2) : steps.map((s) => `${s.runId}  ${s.status}`).join("\n") || "queue empty"
      )
    })
).pipe(Command.withDescription(
  "execute queued runs as they come, follow running runs' working orders when due, and resume runs whose worker died (several workers may share one database)"
))

export const root = Command.make("trade-exec").pipe(
  Command.withDescription("frozen decisions → orders → pre-trade risk → paper execution, exact and idempotent"),
  Command.withSubcommands([
    runCommand,
    executeCommand,
    cancelCommand,
    reconcileCommand,
    showCommand,
    runsCommand,
    auditCommand,
    replayCommand,
    workerCommand
  ])
)
