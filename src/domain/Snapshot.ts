/**
 * A decision snapshot: the target weights a research process froze, with the digest of its content.
 */
import { Schema } from "effect"
import { SnapshotId, Symbol } from "./Ids.js"
import { Decimal, Instant, optional } from "./schema.js"

/** One target: a symbol and its weight in the portfolio (negative = short), with research context. */
export const SnapshotItem = Schema.Struct({
  symbol: Symbol,
  weight: Decimal,
  score: optional(Decimal),
  rank: optional(Schema.Int),
  sector: optional(Schema.String),
  price: optional(Decimal)
})
export type SnapshotItem = typeof SnapshotItem.Type

/** Only `success` snapshots may be traded; `pending` and `failed` are research that did not finish. */
export const SnapshotStatus = Schema.Literal("pending", "success", "failed")
export type SnapshotStatus = typeof SnapshotStatus.Type

export const DecisionSnapshot = Schema.Struct({
  id: SnapshotId,
  status: SnapshotStatus,
  /** sha-256 of the canonical items, fixed when the snapshot was frozen. */
  digest: Schema.String,
  frozenAt: optional(Instant),
  source: optional(Schema.String),
  createdAt: Instant,
  items: Schema.Array(SnapshotItem)
})
export type DecisionSnapshot = typeof DecisionSnapshot.Type
