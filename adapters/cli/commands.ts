/**
 * The `trade-exec` commands. Every command reads and checks all of its input before it writes anything,
 * so bad input leaves no partial state behind; then it opens the database and runs the flow.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Either, Layer, Option, Schema } from "effect"
import * as BuildInput from "../../src/BuildInput.js"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import type { RunId } from "../../src/domain/Ids.js"
import type { RiskLimits } from "../../src/domain/Risk.js"
import type { RunParams } from "../../src/domain/Run.js"
import { AuditLog, type ExpectedHead } from "../../src/ports/AuditLog.js"
import { AccountBusy } from "../../src/ports/errors.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { type RunOutcome, type RunReport, TradeRunner } from "../../src/TradeRunner.js"
import { TradeWorker } from "../../src/TradeWorker.js"
import * as CsvPriceFeed from "../csv/CsvPriceFeed.js"
import { parseInstant, readItems, readPositions, readPrices, readSecurities } from "../csv/readers.js"
import * as Lean from "../lean/LeanExecutionProvider.js"
import { commissionFromName } from "../mock/MockExecutionProvider.js"
import { DatabaseLive, READ_EXISTING } from "../sql/layers.js"
import { commissionConfig, slippageConfig } from "./environment.js"
import { choice, described } from "./help.js"
import { COMMAND_LINE, databaseOption, decimalFlag, durationFlag, namedByFlag, nonNegative, positive, readRiskFile, slippageBpsCheck } from "./input.js"
import * as Lines from "./lines.js"
import * as Output from "./output.js"
import { reportCommand } from "./report.js"
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
const json = Options.boolean("json").pipe(Options.withDescription("print one JSON document on stdout instead of the report for people; default off"))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("build, save and risk-check the orders and submit nothing: the run stays queued for a later execute; default off"))
const runId = Args.text({ name: "RUN_ID" }).pipe(Args.withDescription("the run's id (run_…), as run, runs or a worker printed it"))
const optionalText = (name: string, value: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName(value), Options.optional, Options.withDescription(description))
/** A decimal flag: read as text and parsed exactly by the command (never through a binary double). */
const decimalOption = (name: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName("DECIMAL"), Options.optional, Options.withDescription(description))
const optionalFile = (name: string, description: string) =>
  Options.file(name).pipe(Options.optional, Options.withDescription(description))

const venueOptions = {
  provider: choice("provider", ["paper", "lean"]).pipe(
    Options.withDefault("paper" as const),
    Options.withDescription(
      "who carries the orders out: paper (the paper broker, its book in the database; default) or lean " +
        "(a LEAN instance over its file-command bridge, configured by the TRADE_EXEC_LEAN_* environment variables)"
    )
  ),
  commission: choice("commission", ["ib-fixed", "ib-tiered", "none"]).pipe(
    Options.withFallbackConfig(commissionConfig),
    Options.withDefault("none"),
    Options.withDescription("the paper broker's commission per order: ib-fixed (0.005 a share, 1.00 minimum, 1% of value maximum), ib-tiered (0.0035 a share, 0.35 minimum, 1% maximum) or none; env TRADE_EXEC_PAPER_COMMISSION")
  ),
  slippageBps: Options.text("slippage-bps").pipe(
    Options.withPseudoName("DECIMAL"),
    Options.withFallbackConfig(slippageConfig(slippageBpsCheck)),
    Options.optional,
    Options.withDescription("the paper broker's slippage against the order, in basis points of the reference price, at least 0 and below 10000 (buys fill higher, sells lower); default 0, env TRADE_EXEC_PAPER_SLIPPAGE_BPS")
  )
}

const wait = Options.text("wait").pipe(Options.withPseudoName("DURATION"), Options.optional, Options.withDescription(
  "how long to follow orders that still work before returning with the run running, e.g. 30s, 15m, 6h (default 0s)"
))

/** The last options of the commands that execute a run (`run`, `execute`), in the order their help lists them. */
const executionOptions = { wait, ...venueOptions, db, dryRun, json }

/** What a person needs when a run returns with orders still working: how many, and the commands that follow. */
const sayWorking = (outcome: RunOutcome, db: string, venue: VenueFlags) =>
  outcome.run.status !== "running" || outcome.dryRun
    ? Effect.void
    : Console.error(
      `trade-exec: run ${outcome.run.id} is running: ${outcome.working} order${outcome.working === 1 ? " still works" : "s still work"} ` +
        `at the venue. Follow them with: trade-exec execute ${outcome.run.id}${Output.venueArguments(venue)}` +
        `${Output.dbArgument(db)} [--wait 15m]; cancel them with: trade-exec cancel ${outcome.run.id}` +
        `${Output.venueArguments(venue)}${Output.dbArgument(db)}`
    )

/** Refuses, before anything is written, a database whose audit chain is keyed with another key (or needs one). */
const auditWritable = Effect.flatMap(AuditLog, (audit) => audit.checkKey)

const print = (report: RunReport, asJson: boolean, db: string, dryRun = false) =>
  Lines.printLines(
    asJson
      ? Lines.prettyJson(Output.runDocument(report, dryRun))
      : withHint(Output.renderRunLines(report, dryRun), Output.reportHint(report.run.id, db))
  )

function* withHint(report: Iterable<string>, hint: string): Generator<string> {
  yield* report
  yield ""
  yield hint
}

const sayInterrupted = (message: string) =>
  // A progress line may be on the terminal, without its end of line.
  Console.error(`${process.stderr.isTTY ? "\n" : ""}trade-exec: interrupted: ${message}`)

/**
 * What an interrupted run was left as, in the words a person at the terminal needs next. A run stopped
 * before its orders were built recorded no prices, so the command that resumes it names the prices file.
 */
const interrupted = (runId: RunId, db: string, pricesFile: Option.Option<string>, venue: VenueFlags) =>
  Effect.gen(function*() {
    const run = yield* (yield* TradeRepository).getRun(runId)
    const prices = run.recorded !== undefined ? "" : Output.pricesArgument(Option.getOrElse(pricesFile, () => "PRICES.csv"))
    const again = `trade-exec execute ${runId}${prices}${Output.venueArguments(venue)}${Output.dbArgument(db)}`
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
  wait: Duration.Duration,
  venue: VenueFlags
) =>
  Effect.gen(function*() {
    const runner = yield* TradeRunner
    const outcome = yield* runner.execute(runId, { dryRun, wait })
    return { outcome, report: yield* runner.report(runId) }
  }).pipe(Effect.onInterrupt(() => interrupted(runId, db, pricesFile, venue)))

const endWith = (outcome: RunOutcome) => {
  const code = exitCodeOf(outcome)
  return code === 0 ? Effect.void : Effect.fail(new ExitWith({ code }))
}

type ExecutionFlags = VenueFlags & { readonly db: string; readonly dryRun: boolean; readonly json: boolean }

/**
 * What `run` and `execute` do once their input is checked: on `database`, with its audit chain writable,
 * `runToExecute` names the run (`run` writes it first), which is executed on `venue` with `feed`; the
 * outcome and the run's report.
 */
const executeOn = <E, R, LOut, LE, LIn, FR>(options: {
  readonly flags: ExecutionFlags
  readonly database: Layer.Layer<LOut, LE, LIn>
  readonly venue: Venue
  readonly feed: Layer.Layer<PriceFeed, InvalidInput, FR>
  /** Named in the message of an interrupted run that has not recorded its prices. */
  readonly pricesFile: Option.Option<string>
  readonly wait: Duration.Duration
  readonly runToExecute: Effect.Effect<RunId, E, R>
  /**
   * The run was created by this command: refused at its start because another run started on the account
   * meanwhile (two `run`s at once), it is canceled with nothing sent rather than left queued for a worker.
   */
  readonly createdHere?: boolean
}) =>
  Effect.gen(function*() {
    const { flags } = options
    yield* auditWritable
    const runId = yield* options.runToExecute
    const executed = executeAndReport(runId, flags.dryRun, flags.db, options.pricesFile, options.wait, flags)
    return yield* (options.createdHere !== true ? executed : executed.pipe(
      Effect.catchTag("AccountBusy", (busy) =>
        Effect.flatMap(TradeRunner, (runner) => runner.cancel(runId)).pipe(
          Effect.zipRight(Console.error(`trade-exec: run ${runId}, created as run ${busy.workingRunId} started, is canceled with nothing sent`)),
          Effect.zipRight(Effect.fail(new AccountBusy({ runId: "(new run)", workingRunId: busy.workingRunId })))
        ))
    )).pipe(Effect.provide(runnerLayer(options.venue, options.feed)))
  }).pipe(Effect.provide(options.database))

/**
 * The report printed, what follows said when orders still work, and the command ended with the outcome's
 * exit code.
 */
const printAndEnd = (flags: ExecutionFlags, executed: { readonly outcome: RunOutcome; readonly report: RunReport }) =>
  Effect.gen(function*() {
    yield* print(executed.report, flags.json, flags.db, executed.outcome.dryRun)
    yield* sayWorking(executed.outcome, flags.db, flags)
    yield* endWith(executed.outcome)
  })

/** Reads an optional decimal flag. */
const optionalDecimal = (flag: string, raw: Option.Option<string>, check?: (d: Dec.Decimal) => string | undefined) =>
  Option.match(raw, {
    onNone: () => Either.right(undefined),
    onSome: (text) => decimalFlag(flag, text, check)
  })

/** The venue as the flags named it. */
interface VenueFlags {
  readonly provider: "paper" | "lean"
  readonly commission: string
  readonly slippageBps: Option.Option<string>
}

const venueFrom = (options: VenueFlags, seed: Dec.Decimal) =>
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

/** The flags of `trade-exec run`. */
const runFlags = {
  items: Options.file("items").pipe(Options.withDescription("the decision, a CSV file: symbol, weight[, score, rank, sector, price]; weight is a fraction of the portfolio (0.05 = 5%), negative for a short, 0 to exit")),
  prices: Options.file("prices").pipe(Options.withDescription("prices, a CSV file: symbol, price[, bid, ask, volume, time]; time in ISO-8601 with Z or an offset")),
  portfolioValue: Options.text("portfolio-value").pipe(Options.withPseudoName("DECIMAL"), Options.withDescription("the portfolio value the targets are sized on, in the account currency; an exact decimal (10000000 or 1e7)")),
  positions: optionalFile("positions", "positions, a CSV file: symbol, quantity[, avg_cost], signed (negative = short); a new paper account opens holding them, an existing one must hold exactly them; default: the paper account's"),
  securities: optionalFile("securities", "securities, a CSV file: symbol[, sector, lot_size, tick_size, min_quantity]; default: none (every lot --lot-size)"),
  cash: decimalOption("cash", "cash available, in the account currency; default: the paper account's, else the portfolio value less the positions' value"),
  cashBuffer: decimalOption("cash-buffer", "the fraction of the portfolio value kept in cash, at least 0 and below 1 (0.02 = 2%); default 0"),
  lotSize: decimalOption("lot-size", "the lot size, in shares, of symbols the securities file gives none; default 1"),
  orderType: choice("order-type", ["MKT", "LMT"]).pipe(Options.withDefault("MKT" as const), Options.withDescription("the orders' type: MKT (market) or LMT (limit, priced by --limit-offset-bps)")),
  limitOffsetBps: decimalOption("limit-offset-bps", "for LMT orders: the limit this many basis points from the reference price (a buy's above, a sell's below), rounded to the tick; no default"),
  minOrderNotional: decimalOption("min-order-notional", "skip orders whose notional is below this, in the account currency (skip reason below_min_notional); default none"),
  liquidateMissing: Options.boolean("liquidate-missing").pipe(Options.withDescription("close positions in symbols the decision does not mention; default off (they are left alone)")),
  modelVersion: optionalText("model-version", "VERSION", "the model's version, part of every client order id (a new version never reuses an old order's id); default \"default\""),
  risk: optionalFile("risk", "risk limits, a JSON file: limits in snake_case or camelCase and \"policy\" (block_run, drop_orders or fit); the flags below override it; default: no limit, block_run"),
  maxOrderNotional: decimalOption("max-order-notional", "risk: the largest notional of one order, in the account currency; default no limit"),
  maxPositionRatio: decimalOption("max-position-ratio", "risk: the largest position value of one name after the run over the portfolio value (0.05 = 5%); default no limit"),
  maxNameWeight: decimalOption("max-name-weight", "risk: the largest decided |weight| of one name (0.1 = 10%), a guard against a research error; default no limit"),
  maxSectorWeight: decimalOption("max-sector-weight", "risk: the largest gross value of one sector after the run over the portfolio value (0.3 = 30%); default no limit"),
  maxGrossExposure: decimalOption("max-gross-exposure", "risk: the largest gross exposure (sum of |position value|) after the run over the portfolio value (1 = 100%); default no limit"),
  longOnly: Options.boolean("long-only").pipe(Options.withDescription("risk: no position may be short after the run; default off")),
  maxTurnover: decimalOption("max-turnover", "risk: the largest turnover, the orders' value over the portfolio value, two-sided (selling one 10% position to buy another is 0.2; it may exceed 1); default no limit"),
  minTradeWeight: decimalOption("min-trade-weight", "the no-trade band: a trade smaller than this fraction of the portfolio value is not sent (skip reason within_band), at least 0 and below 1; default none"),
  riskPolicy: choice("risk-policy", ["block_run", "drop_orders", "fit"]).pipe(Options.optional, Options.withDescription(
    "how the limits apply: block_run (a violation blocks the run), drop_orders (violating orders are dropped) or fit (the targets are first moved onto the limits, every move recorded); overrides the risk file's; default block_run"
  )),
  asOf: Options.text("as-of").pipe(Options.withPseudoName("TIME"), Options.optional, Options.withDescription(
    "the moment the run is judged at, ISO-8601 with Z or an offset (price staleness is measured back from it); recorded in the run; default: now"
  )),
  timeInForce: choice("time-in-force", ["day", "gtc"]).pipe(
    Options.withDefault("day" as const),
    Options.withDescription("how long the venue keeps the orders working: day (until the session closes; default) or gtc")
  ),
  cancelAfter: Options.text("cancel-after").pipe(Options.withPseudoName("DURATION"), Options.optional, Options.withDescription(
    "deadline after the run starts, e.g. 90s, 15m, 6h: the first check past it cancels what still works (fills kept); default none"
  )),
  ...executionOptions
}

type RunFlags = Command.Command.ParseConfig<typeof runFlags>

/** The run's settings from its flags, each checked and named by its flag; nothing read from a file yet. */
const runSettings = (flags: RunFlags) =>
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
      longOnly: flags.longOnly ? true : undefined,
      maxTurnover: yield* optionalDecimal("max-turnover", flags.maxTurnover, positive),
      minTradeWeight: yield* optionalDecimal("min-trade-weight", flags.minTradeWeight, unitInterval)
    }
    const orderType = flags.orderType
    if (orderType === "LMT" && limitOffsetBps === undefined) {
      return yield* new InvalidInput({ source: COMMAND_LINE, field: "--order-type", value: "LMT", reason: "LMT orders need --limit-offset-bps" })
    }
    const asOf = yield* Option.match(flags.asOf, {
      onNone: () => Either.right(undefined),
      onSome: (text) => Either.mapLeft(parseInstant(text), (reason) => new InvalidInput({ source: COMMAND_LINE, field: "--as-of", value: text, reason }))
    })
    const modelVersion = Option.getOrUndefined(flags.modelVersion)
    if (modelVersion !== undefined && modelVersion.trim() === "") {
      return yield* new InvalidInput({ source: COMMAND_LINE, field: "--model-version", value: modelVersion, reason: "is empty" })
    }
    const cancelAfter = Option.isSome(flags.cancelAfter) ? yield* durationFlag("cancel-after", flags.cancelAfter) : undefined
    return {
      venue: yield* venueFrom(flags, portfolioValue),
      wait: yield* durationFlag("wait", flags.wait),
      limits: Object.fromEntries(Object.entries(flagLimits).filter(([, v]) => v !== undefined)) as RiskLimits,
      riskPolicy: Option.getOrUndefined(flags.riskPolicy),
      params: {
        portfolioValue,
        ...(cash === undefined ? {} : { cash }),
        ...(cashBufferRatio === undefined ? {} : { cashBufferRatio }),
        ...(lotSize === undefined ? {} : { lotSize }),
        orderType,
        ...(limitOffsetBps === undefined ? {} : { limitOffsetBps }),
        ...(minOrderNotional === undefined ? {} : { minOrderNotional }),
        liquidateMissing: flags.liquidateMissing,
        ...(modelVersion === undefined ? {} : { modelVersion: modelVersion.trim() }),
        timeInForce: flags.timeInForce === "gtc" ? "GTC" : "DAY",
        ...(cancelAfter === undefined ? {} : { cancelAfter }),
        ...(asOf === undefined ? {} : { asOf })
      } satisfies RunParams
    }
  })

type RunSettings = Effect.Effect.Success<ReturnType<typeof runSettings>>

/**
 * The decision, prices and account files read, the risk file's limits under the flags', and the whole build
 * checked (the paper account's positions, when used, are read later), before anything is written.
 */
const runInput = (flags: RunFlags, settings: RunSettings) =>
  Effect.gen(function*() {
    const items = yield* readItems(flags.items)
    if (items.length === 0) {
      return yield* new InvalidInput({ source: flags.items, field: "symbol", reason: "has no rows: a decision needs at least one item" })
    }
    const prices = yield* readPrices(flags.prices)
    const positions = Option.isSome(flags.positions) ? yield* readPositions(flags.positions.value) : undefined
    const securities = Option.isSome(flags.securities) ? yield* readSecurities(flags.securities.value) : undefined
    const riskFile = Option.isSome(flags.risk) ? yield* readRiskFile(flags.risk.value) : undefined
    const policy = settings.riskPolicy ?? riskFile?.policy
    const params: RunParams = {
      ...settings.params,
      ...(positions === undefined ? {} : { positions }),
      ...(securities === undefined ? {} : { securities }),
      risk: { ...riskFile?.limits, ...settings.limits },
      ...(policy === undefined ? {} : { riskPolicy: policy })
    }
    const plan = yield* Either.mapLeft(BuildInput.validate({
      runId: "check",
      items,
      prices,
      positions: positions ?? [],
      securities: securities ?? [],
      ...params,
      portfolioValue: settings.params.portfolioValue,
      sources: {
        items: flags.items,
        prices: flags.prices,
        ...(Option.isSome(flags.positions) ? { positions: flags.positions.value } : {}),
        ...(Option.isSome(flags.securities) ? { securities: flags.securities.value } : {}),
        params: COMMAND_LINE
      }
    }), namedByFlag)
    return { items, prices, params, plan }
  })

/**
 * The decision frozen and its run created, in one transaction, refused before anything is written while
 * another run trades on the account (a dry run may build meanwhile); a paper account given `--positions`
 * opens holding them first.
 */
const createRun = (flags: RunFlags, venue: Venue, input: Effect.Effect.Success<ReturnType<typeof runInput>>) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.positions) && venue.provider === "paper") {
      yield* openPaperAccount(venue, input.plan.positions, flags.positions.value, flags.db)
    }
    const repo = yield* TradeRepository
    const run = yield* repo.withTransaction(Effect.gen(function*() {
      const working = flags.dryRun ? undefined : yield* repo.accountHolder
      if (working !== undefined) return yield* new AccountBusy({ runId: "(new run)", workingRunId: working })
      const snapshot = yield* repo.createSnapshot({ items: input.items, source: flags.items })
      return yield* repo.createRun({ snapshotId: snapshot.id, mode: "paper", params: input.params })
    })).pipe(
      // A large snapshot is written in steps that give Ctrl-C its turn; the transaction is then undone.
      Effect.onInterrupt(() => sayInterrupted("before the run was created; nothing was written"))
    )
    return run.id
  })

const runCommand = Command.make(
  "run",
  runFlags,
  (flags) =>
    Effect.gen(function*() {
      const settings = yield* runSettings(flags)
      // The files read, the plan checked and the run executed in a step of their own: what they hold (at
      // 50,000 names, tens of megabytes) is garbage once the run is done, not kept through its report.
      const executed = yield* Effect.gen(function*() {
        const input = yield* runInput(flags, settings)
        // A new paper account opens with the cash the run is sized from.
        const venue: Venue = { ...settings.venue, seedCash: yield* paperSeed(input.plan.settings.cash) }
        return yield* executeOn({
          flags,
          database: DatabaseLive(flags.db),
          venue,
          feed: PriceFeed.layerMemory(input.prices),
          pricesFile: Option.some(flags.prices),
          wait: settings.wait,
          runToExecute: createRun(flags, venue, input),
          createdHere: true
        })
      })
      yield* printAndEnd(flags, executed)
    })
).pipe(Command.withDescription(described(
  "freeze a decision from CSV files, create a run and execute it",
  "trade-exec run --items examples/decision_items.csv --prices examples/prices.csv --portfolio-value 10000000 --cash-buffer 0.02 --risk examples/risk.json --as-of 2026-11-25T21:00:00Z"
)))


/** The runner over an existing database it only reads, with no venue: for the commands that look at a run. */
const lookingAtRuns = <A, E>(db: string, look: (runner: TradeRunner["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(TradeRunner, look).pipe(
    Effect.provide(runnerLayer(undefined, PriceFeed.layerMemory([]))),
    Effect.provide(DatabaseLive(db, READ_EXISTING))
  )

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
    prices: optionalFile("prices", "prices, a CSV file as for run, for a run that has not built its orders; default: the prices the run recorded"),
    ...executionOptions
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const waitFor = yield* durationFlag("wait", flags.wait)
      const executed = yield* executeOn({
        flags,
        database: DatabaseLive(flags.db, { existing: true }),
        venue,
        feed: feedFor(flags.prices),
        pricesFile: flags.prices,
        wait: waitFor,
        // The run as stored: an unknown id is refused here, before the runner is built.
        runToExecute: Effect.map(Effect.flatMap(TradeRepository, (repo) => repo.summarize(flags.runId as RunId)), ({ run }) => run.id)
      })
      yield* printAndEnd(flags, executed)
    })
).pipe(Command.withDescription(described(
  "execute a queued run, resume an interrupted one, or check a running run's working orders (again); finished runs are reported as they are",
  "trade-exec execute run_0mxcoxssja2b0266c55da --wait 15m"
)))

const cancelCommand = Command.make(
  "cancel",
  { runId, prices: optionalFile("prices", "prices, a CSV file, for the paper broker; default: the prices the run recorded"), ...venueOptions, db, json },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const report = yield* Effect.gen(function*() {
        yield* auditWritable
        const runner = yield* TradeRunner
        yield* runner.cancel(flags.runId as RunId)
        return yield* runner.report(flags.runId as RunId)
      }).pipe(Effect.provide(runnerLayer(venue, feedFor(flags.prices))), Effect.provide(DatabaseLive(flags.db, { existing: true })))
      yield* print(report, flags.json, flags.db)
      const holder = report.run.lease
      if (report.run.status === "running" && holder !== undefined) {
        // This command gives its own lease back before it reports: a lease still there is another process's.
        yield* Console.error(
          `trade-exec: run ${report.run.id} is held by ${holder.owner} (lease until ${holder.expiresAt}); the cancel is ` +
            `recorded on the run, and ${holder.owner} cancels what still works at its next check (whoever takes the run ` +
            `over does, if it has stopped). See it end with: trade-exec show ${report.run.id}${Output.dbArgument(flags.db)}`
        )
      } else if (report.run.status === "running") {
        yield* Console.error(`trade-exec: the venue has not confirmed every cancel yet; run ${report.run.id} ends at its next check: trade-exec execute ${report.run.id}${Output.venueArguments(flags)}${Output.dbArgument(flags.db)}`)
      }
    })
).pipe(Command.withDescription(described(
  "cancel a run: a queued run ends with nothing sent; a running run's working orders are canceled at the venue (fills kept); a finished run is reported unchanged",
  "trade-exec cancel run_0mxcoxssja2b0266c55da"
)))

const reconcileCommand = Command.make(
  "reconcile",
  {
    runId: Args.text({ name: "RUN_ID" }).pipe(Args.withDescription("the run to reconcile (run_…); default: every run with orders in flight, then the whole account"), Args.optional),
    prices: optionalFile("prices", "prices, a CSV file, for the paper broker; default: the prices each run recorded"),
    ...venueOptions,
    db,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const result = yield* Effect.zipRight(auditWritable, Effect.flatMap(TradeRunner, (runner) => runner.reconcile(Option.getOrUndefined(flags.runId) as RunId | undefined))).pipe(
        Effect.provide(runnerLayer(venue, feedFor(flags.prices))),
        Effect.provide(DatabaseLive(flags.db, { existing: true }))
      )
      yield* Console.log(flags.json ? JSON.stringify(Output.reconcileDocument(result), null, 2) : Output.renderReconcile(result))
      if (result.breaks.length > 0) yield* new ExitWith({ code: 7 })
    })
).pipe(Command.withDescription(described(
  "settle every order in flight (of RUN_ID, or of all runs, failed ones included) with the venue, then compare positions with the venue: exit 7 on a break",
  "trade-exec reconcile --provider lean"
)))

const showCommand = Command.make("show", { runId, db, json }, (flags) =>
  Effect.gen(function*() {
    const report = yield* lookingAtRuns(flags.db, (runner) => runner.report(flags.runId as RunId))
    yield* print(report, flags.json, flags.db)
  })).pipe(Command.withDescription(described(
    "show a run: its orders, fills, risk verdict, skips and (with --json) transaction costs",
    "trade-exec show run_0mxcoxssja2b0266c55da --json"
  )))

const runsCommand = Command.make("runs", { db, json }, (flags) =>
  Effect.gen(function*() {
    const runs = yield* Effect.flatMap(TradeRepository, (repo) => repo.listRuns()).pipe(Effect.provide(DatabaseLive(flags.db, READ_EXISTING)))
    yield* Console.log(flags.json ? JSON.stringify({ runs: runs.map(Output.runSummary) }, null, 2) : Output.renderRuns(runs))
  })).pipe(Command.withDescription(described("list runs, newest first", "trade-exec runs --db postgres://trader@db.internal/trades")))

/** `--expect-head SEQ:HASH`, as `audit --head` prints it. */
const expectedHead = (raw: Option.Option<string>) =>
  Option.match(raw, {
    onNone: () => Either.right(undefined),
    onSome: (text): Either.Either<ExpectedHead, InvalidInput> => {
      const match = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(text.trim())
      return match === null
        ? Either.left(new InvalidInput({ source: COMMAND_LINE, field: "--expect-head", value: text, reason: "must be SEQ:HASH as trade-exec audit --head prints it: an event number, a colon and 64 hex digits" }))
        : Either.right({ seq: Number(match[1]), hash: match[2]!.toLowerCase() })
    }
  })

const auditCommand = Command.make(
  "audit",
  {
    runId: Args.text({ name: "RUN_ID" }).pipe(Args.optional, Args.withDescription("the run whose audit events to list (optional with --verify or --head)")),
    verify: Options.boolean("verify").pipe(Options.withDescription("also verify the database's whole hash chain (exit 1 when it does not verify); default off")),
    expectHead: optionalText("expect-head", "SEQ:HASH", "SEQ:HASH printed by --head earlier: verify, and that the chain still holds that head"),
    head: Options.boolean("head").pipe(Options.withDescription("print the chain's head as SEQ:HASH, to keep elsewhere; default off")),
    db,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const expectHead = yield* expectedHead(flags.expectHead)
      const verify = flags.verify || expectHead !== undefined
      if (Option.isNone(flags.runId) && !verify && !flags.head) {
        return yield* new InvalidInput({ source: COMMAND_LINE, field: "RUN_ID", reason: "is missing: give a run id, --verify or --head" })
      }
      const { events, verification, head } = yield* Effect.gen(function*() {
        const audit = yield* AuditLog
        const runId = Option.getOrUndefined(flags.runId)
        if (runId !== undefined) yield* (yield* TradeRepository).getRun(runId as RunId)
        return {
          events: runId === undefined ? undefined : yield* audit.list({ runId }),
          verification: verify ? yield* audit.verifyWith(expectHead === undefined ? {} : { expectHead }) : undefined,
          head: flags.head ? yield* audit.head : undefined
        }
      }).pipe(Effect.provide(DatabaseLive(flags.db, READ_EXISTING)))
      yield* Console.log(
        flags.json
          ? JSON.stringify({
            ...(events === undefined ? {} : { events }),
            ...(verification === undefined ? {} : { verification }),
            ...(head === undefined ? {} : { head })
          }, null, 2)
          : Output.renderAudit(events, verification, head)
      )
      if (verification !== undefined && !verification.ok) yield* new ExitWith({ code: 1 })
    })
).pipe(Command.withDescription(described(
  "show a run's audit events; --verify checks the hash chain, --expect-head that it still holds a head kept elsewhere (exit 1 when not), --head prints the head",
  "trade-exec audit run_0mxcoxssja2b0266c55da --verify"
)))

const replayCommand = Command.make("replay", { runId, db, json }, (flags) =>
  Effect.gen(function*() {
    const replay = yield* lookingAtRuns(flags.db, (runner) => runner.replay(flags.runId as RunId))
    yield* Console.log(flags.json ? JSON.stringify(replay, null, 2) : Output.renderReplay(replay))
    if (!replay.matches) yield* new ExitWith({ code: 1 })
  })).pipe(Command.withDescription(described(
    "rebuild a run's orders from its record and compare (exit 1 on a difference)",
    "trade-exec replay run_0mxcoxssja2b0266c55da"
  )))

const workerCommand = Command.make(
  "worker",
  {
    db,
    prices: optionalFile("prices", "prices, a CSV file as for run, for runs that have not built their orders; default: the prices each run recorded when it built its orders"),
    drain: Options.boolean("drain").pipe(Options.withDescription("stop when no run is queued, orphaned or due for a check; default off (wait for more)")),
    ...venueOptions,
    json
  },
  (flags) =>
    Effect.gen(function*() {
      const venue = yield* venueFrom(flags, Dec.ZERO)
      const steps = yield* Effect.zipRight(auditWritable, Effect.flatMap(TradeWorker, (worker) => (flags.drain ? worker.drain : worker.run))).pipe(
        Effect.provide(TradeWorker.layer()),
        Effect.provide(runnerLayer(venue, feedFor(flags.prices))),
        Effect.provide(DatabaseLive(flags.db))
      )
      yield* Console.log(
        flags.json ? JSON.stringify({ executed: steps }, null, 2) : steps.map((s) => `${s.runId}  ${s.status}`).join("\n") || "queue empty"
      )
    })
).pipe(Command.withDescription(described(
  "execute queued runs as they come, follow running runs' working orders when due, and resume runs whose worker died (several workers may share one database)",
  "trade-exec worker --drain --db postgres://trader@db.internal/trades"
)))

export const root = Command.make("trade-exec").pipe(
  Command.withDescription(described(
    "frozen decisions → orders → pre-trade risk → execution, exact and idempotent; `trade-exec COMMAND --help` describes each command",
    "trade-exec run --items decision_items.csv --prices prices.csv --portfolio-value 1000000",
    "trade-exec report run_0mxcoxssja2b0266c55da --html run.html"
  )),
  Command.withSubcommands([
    runCommand,
    executeCommand,
    cancelCommand,
    reconcileCommand,
    showCommand,
    runsCommand,
    auditCommand,
    replayCommand,
    workerCommand,
    reportCommand({ runId, db })
  ])
)
