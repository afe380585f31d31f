/**
 * Pre-trade risk limits, the policy that applies them, and the verdict they produce.
 */
import { Schema } from "effect"
import * as Dec from "./Decimal.js"
import { ClientOrderId, Symbol } from "./Ids.js"
import { Decimal, optional } from "./schema.js"

const NonNegative = Decimal.pipe(
  Schema.filter((d) => !Dec.isNegative(d) || "must not be negative")
)
const Positive = Decimal.pipe(
  Schema.filter((d) => Dec.isPositive(d) || "must be greater than zero")
)
/** A part of the portfolio: at least 0 and less than the whole of it. */
const Fraction = Decimal.pipe(
  Schema.filter((d) => (!Dec.isNegative(d) && Dec.lt(d, Dec.ONE)) || "must be at least 0 and less than 1")
)

/**
 * Every limit is optional; an absent limit is not checked. Ratios are fractions of the portfolio value
 * (`0.05` = 5%); notionals are in the account currency.
 */
export const RiskLimits = Schema.Struct({
  /** Largest notional of a single order. */
  maxOrderNotional: optional(Positive),
  /** Largest quantity of a single order. */
  maxOrderQuantity: optional(Positive),
  /** Largest post-trade position value of one name over portfolio value. */
  maxPositionRatio: optional(Positive),
  /** Largest decided weight of one name (|weight| in the snapshot): a guard against a research error. */
  maxNameWeight: optional(Positive),
  /** Largest post-trade gross value of one sector over portfolio value. */
  maxSectorWeight: optional(Positive),
  /** Largest post-trade Σ|position value| over portfolio value. */
  maxGrossExposure: optional(Positive),
  /** Largest post-trade |Σ position value| over portfolio value. */
  maxNetExposure: optional(NonNegative),
  /** Most orders one run may send. */
  maxOrdersPerRun: optional(Schema.Int.pipe(Schema.positive())),
  /** Smallest notional of an order that adds to a position. */
  minOrderNotional: optional(NonNegative),
  /** Symbols that may not be traded at all. */
  restrictedSymbols: optional(Schema.Array(Symbol)),
  /** No post-trade position may be short. */
  longOnly: optional(Schema.Boolean),
  /** Largest distance of a limit price from the reference price, in basis points. */
  priceCollarBps: optional(NonNegative),
  /** Buys that add to positions must be covered by cash plus the proceeds of the run's sells. */
  cashSufficiency: optional(Schema.Boolean),
  /** Oldest acceptable price, in seconds before the check; a price without a time fails this rule. */
  maxPriceAgeSeconds: optional(NonNegative),
  /**
   * Largest turnover of a run: Σ|w_target − w_current| over every name, two-sided (the value of all its
   * orders over portfolio value), so selling one 10% position to buy another is 0.2.
   */
  maxTurnover: optional(Positive),
  /**
   * The no-trade band, under every policy: a name whose target differs from what is held by less than this
   * part of the portfolio value is not traded (skipped `within_band`).
   */
  minTradeWeight: optional(Fraction)
})
export type RiskLimits = typeof RiskLimits.Type

/**
 * `block_run`: any violation blocks the whole run. `drop_orders`: violating orders are dropped. `fit`: the
 * decision's target weights are moved onto the limits before the orders are built (see `Fit.ts`); the
 * fitted orders are then judged as under `block_run`.
 */
export const RiskPolicy = Schema.Literal("block_run", "drop_orders", "fit")
export type RiskPolicy = typeof RiskPolicy.Type

export const RiskRule = Schema.Literal(
  "max_order_notional",
  "max_order_quantity",
  "max_position_ratio",
  "max_name_weight",
  "max_sector_weight",
  "max_gross_exposure",
  "max_net_exposure",
  "max_orders_per_run",
  "min_order_notional",
  "restricted_symbol",
  "long_only",
  "price_collar",
  "cash_sufficiency",
  "price_staleness",
  "max_turnover"
)
export type RiskRule = typeof RiskRule.Type

/**
 * One breach: which rule, which symbol (absent for rules over the whole run), the limit and what was
 * found, both as text (decimals exact). `reason` is the stable `rule:SYMBOL` string.
 */
export const RiskViolation = Schema.Struct({
  rule: RiskRule,
  symbol: optional(Symbol),
  sector: optional(Schema.String),
  limit: Schema.String,
  actual: Schema.String,
  reason: Schema.String
})
export type RiskViolation = typeof RiskViolation.Type

export const RiskVerdict = Schema.Struct({
  passed: Schema.Boolean,
  policy: RiskPolicy,
  violations: Schema.Array(RiskViolation),
  reasons: Schema.Array(Schema.String),
  /** Orders that may go to the provider. */
  accepted: Schema.Array(ClientOrderId),
  /** Orders with a violation of their own, and the first reason for each. */
  rejected: Schema.Array(Schema.Struct({ clientOrderId: ClientOrderId, reason: Schema.String }))
})
export type RiskVerdict = typeof RiskVerdict.Type

/** The rules a fit moves target weights for, in the order it applies them: risk rules, checked as such. */
export const FitRule = RiskRule.pipe(Schema.pickLiteral(
  "restricted_symbol", "long_only", "max_name_weight", "max_position_ratio",
  "max_sector_weight", "max_gross_exposure", "max_net_exposure", "max_turnover"
))
export type FitRule = typeof FitRule.Type

/**
 * One move of a fit, weights as exact decimals (text in JSON). A name's move (`symbol` set) goes from the
 * weight it had before the rule to the weight the rule left, both fractions of the invested value as the
 * decision states them. A scale of many names (`symbol` absent: a sector's, with `sector`, or the book's)
 * goes from the exposure (or turnover) before it to the one after, as fractions of portfolio value, and
 * carries the `factor` each of its names was scaled by: every such name's weight is its weight before,
 * times the factor.
 * `lots` marks a move made after the lots were rounded, from the position the rounding gave to the one
 * sent, so that rounding does not break a limit the weights met. A weight that cannot be written in 18
 * decimals is written to 18, toward zero; the quantities are computed from the exact value.
 */
export const FitAdjustment = Schema.Struct({
  rule: FitRule,
  symbol: optional(Symbol),
  sector: optional(Schema.String),
  from: Decimal,
  to: Decimal,
  factor: optional(Decimal),
  lots: optional(Schema.Literal(true))
})
export type FitAdjustment = typeof FitAdjustment.Type

/**
 * What a fit did: its moves, in the order made, and the limits it could not meet (a restricted name held
 * above a cap, a sector whose held names alone are above its cap), which are reported as violations.
 */
export const FitOutcome = Schema.Struct({
  adjustments: Schema.Array(FitAdjustment),
  unmet: Schema.Array(RiskViolation)
})
export type FitOutcome = typeof FitOutcome.Type
