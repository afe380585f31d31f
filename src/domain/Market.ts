/**
 * What the market and the account look like: quotes, positions, securities, cash.
 */
import { Schema } from "effect"
import { Symbol } from "./Ids.js"
import { Decimal, Instant, optional } from "./schema.js"

/** A price observation. `price` is the last trade (or mark); the rest is optional. */
export const Quote = Schema.Struct({
  symbol: Symbol,
  price: Decimal,
  bid: optional(Decimal),
  ask: optional(Decimal),
  volume: optional(Decimal),
  time: optional(Instant)
})
export type Quote = typeof Quote.Type

/** A signed holding: negative is short. */
export const Position = Schema.Struct({
  symbol: Symbol,
  quantity: Decimal,
  avgCost: optional(Decimal)
})
export type Position = typeof Position.Type

/** Static data about an instrument that changes how it is traded. */
export const Security = Schema.Struct({
  symbol: Symbol,
  sector: optional(Schema.String),
  lotSize: optional(Decimal),
  tickSize: optional(Decimal),
  minQuantity: optional(Decimal)
})
export type Security = typeof Security.Type

/** What a broker (or the paper account) reports: cash and positions. */
export const Account = Schema.Struct({
  cash: Decimal,
  positions: Schema.Array(Position)
})
export type Account = typeof Account.Type
