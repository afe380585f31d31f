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
  maxPriceAgeSeconds: optional(NonNegative)
})
export type RiskLimits = typeof RiskLimits.Type

/** `block_run`: any violation blocks the whole run. `drop_orders`: violating orders are dropped. */
export const RiskPolicy = Schema.Literal("block_run", "drop_orders")
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
  "price_staleness"
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
