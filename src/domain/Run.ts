/**
 * A trade run: one attempt to bring a portfolio to a frozen decision, with everything needed to audit
 * and replay it.
 */
import { Schema } from "effect"
import { RunId, SnapshotId, Symbol } from "./Ids.js"
import { Position, Quote, Security } from "./Market.js"
import { OrderType, TimeInForce } from "./Order.js"
import { FitOutcome, RiskLimits, RiskPolicy, RiskVerdict } from "./Risk.js"
import { Decimal, Instant, optional } from "./schema.js"

/** The lifecycle of a run; see `RunState.ts` for the legal transitions. */
export const RunStatus = Schema.Literal("queued", "running", "done", "failed", "blocked")
export type RunStatus = typeof RunStatus.Type

/** `paper` runs go to a simulated account, `live` ones to a broker. Recorded, never inferred. */
export const RunMode = Schema.Literal("paper", "live")
export type RunMode = typeof RunMode.Type

/**
 * The order builder's settings after validation and defaults: exactly what it used, so a replay can
 * use them again.
 */
export const BuilderSettings = Schema.Struct({
  portfolioValue: Decimal,
  cash: Decimal,
  cashBufferRatio: Decimal,
  lotSize: Decimal,
  orderType: OrderType,
  limitPrice: optional(Decimal),
  limitOffsetBps: optional(Decimal),
  tickSize: optional(Decimal),
  minOrderNotional: optional(Decimal),
  liquidateMissing: Schema.Boolean,
  modelVersion: Schema.String,
  /** How the client order ids were derived; absent in the records of earlier versions, which used scheme 1. */
  clientOrderIdScheme: optional(Schema.Literal(1, 2))
})
export type BuilderSettings = typeof BuilderSettings.Type

/**
 * What the host asks of a run. Everything is optional: the portfolio value, cash and positions default
 * to what the execution provider's account reports.
 */
export const RunParams = Schema.Struct({
  portfolioValue: optional(Decimal),
  cash: optional(Decimal),
  cashBufferRatio: optional(Decimal),
  lotSize: optional(Decimal),
  orderType: optional(OrderType),
  limitPrice: optional(Decimal),
  limitOffsetBps: optional(Decimal),
  tickSize: optional(Decimal),
  minOrderNotional: optional(Decimal),
  liquidateMissing: optional(Schema.Boolean),
  modelVersion: optional(Schema.String),
  /**
   * How client order ids are derived: the current scheme (2) when absent. 1 derives them as versions before
   * did, whose ids two long symbols can share (the run then fails, naming both).
   */
  clientOrderIdScheme: optional(Schema.Literal(1, 2)),
  positions: optional(Schema.Array(Position)),
  securities: optional(Schema.Array(Security)),
  risk: optional(RiskLimits),
  riskPolicy: optional(RiskPolicy),
  /** How long the venue keeps the run's orders working. Default `DAY`. */
  timeInForce: optional(TimeInForce),
  /**
   * How long after the run started its orders may work: past it, the next check cancels what still works
   * (fills kept). Absent: no deadline (a DAY order still ends at the venue's close).
   */
  cancelAfter: optional(Schema.DurationFromMillis),
  /**
   * The moment the run is judged at (price staleness is measured back from it); the clock's time when
   * absent. Set for a decision replayed, or run, as of the time its prices were taken.
   */
  asOf: optional(Instant)
})
export type RunParams = typeof RunParams.Type

/** Why a symbol of the decision (or a held symbol) got no order. */
export const SkipReason = Schema.Literal(
  "missing_price",
  "at_target",
  "below_one_lot",
  "below_min_quantity",
  "below_min_notional",
  "insufficient_cash",
  "not_in_snapshot",
  /** The trade is smaller than the no-trade band (`minTradeWeight`). */
  "within_band",
  /** Under the `fit` policy a restricted symbol keeps the position held. */
  "restricted",
  /** Under the `fit` policy, trimmed after the lots to meet a limit (see the fit's moves). */
  "trimmed_to_limit"
)
export type SkipReason = typeof SkipReason.Type

export const Skip = Schema.Struct({
  symbol: Symbol,
  reason: SkipReason,
  detail: optional(Schema.String)
})
export type Skip = typeof Skip.Type

/** What the run saw when it built its orders: enough to rebuild them exactly. */
export const RunRecord = Schema.Struct({
  settings: BuilderSettings,
  prices: Schema.Array(Quote),
  positions: Schema.Array(Position),
  securities: Schema.Array(Security),
  skipped: Schema.Array(Skip),
  /** Under the `fit` policy: how the decision was fitted to the limits before the orders were built. */
  fit: optional(FitOutcome),
  builtAt: Instant
})
export type RunRecord = typeof RunRecord.Type

/** Who holds a run and until when; a lease that has expired may be taken over. */
export const Lease = Schema.Struct({
  owner: Schema.String,
  expiresAt: Instant
})
export type Lease = typeof Lease.Type

/**
 * The lengths a lease may have, in seconds: a shorter one is renewed more often than a step of a run
 * takes; a longer one keeps a crashed process's run from everyone for more than a day, and one ending
 * past year 9999 is written `+010000-…`, which sorts before now: every lease would look expired.
 */
export const MIN_LEASE_SECONDS = 1
export const MAX_LEASE_SECONDS = 86_400

export const TradeRun = Schema.Struct({
  id: RunId,
  snapshotId: SnapshotId,
  status: RunStatus,
  mode: RunMode,
  params: RunParams,
  recorded: optional(RunRecord),
  risk: optional(RiskVerdict),
  error: optional(Schema.String),
  attempts: Schema.Int,
  lease: optional(Lease),
  /** A running run with working orders: when its next check is due. */
  nextCheckAt: optional(Instant),
  /** When someone asked for its working orders to be canceled (`TradeRunner.cancel`). */
  cancelRequestedAt: optional(Instant),
  createdAt: Instant,
  updatedAt: Instant,
  startedAt: optional(Instant),
  finishedAt: optional(Instant)
})
export type TradeRun = typeof TradeRun.Type

/** A run without what it carries (params, record, risk verdict): cheap to read, enough to report an outcome. */
export type RunSummary = Omit<TradeRun, "params" | "recorded" | "risk">

/** How many orders a run has in each status, and how many fills. */
export interface OrderCounts {
  readonly orders: number
  readonly fills: number
  readonly NEW: number
  readonly SUBMITTED: number
  readonly PARTIAL: number
  readonly FILLED: number
  readonly CANCELED: number
  readonly REJECTED: number
}
