/**
 * Rows ↔ domain values. Decimals travel as canonical text both ways (PostgreSQL hands NUMERIC back as
 * text, SQLite stores TEXT), so nothing passes through a binary double. JSON columns are canonical JSON
 * of the Schema-encoded value and are decoded with the same Schema.
 */
import { Effect, ParseResult, Schema } from "effect"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, ExecutionId, RunId, SnapshotId, Symbol } from "../../src/domain/Ids.js"
import type { Fill, OrderSide, OrderStatus, OrderType, TradeOrder } from "../../src/domain/Order.js"
import { RiskVerdict } from "../../src/domain/Risk.js"
import { RunParams, RunRecord, type RunMode, type RunStatus, type RunSummary, type TradeRun } from "../../src/domain/Run.js"
import type { DecisionSnapshot, SnapshotItem, SnapshotStatus } from "../../src/domain/Snapshot.js"
import type { AuditEvent, ChainedRow } from "../../src/ports/AuditLog.js"
import { RepositoryError } from "../../src/ports/errors.js"

type Nullable<A> = A | null

const text = (value: Dec.Decimal | undefined): string | null => (value === undefined ? null : Dec.toString(value))
const decimal = (value: string | number): Dec.Decimal => Dec.unsafe(typeof value === "number" ? String(value) : value)
const optionalDecimal = (value: Nullable<string | number>): Dec.Decimal | undefined =>
  value === null ? undefined : decimal(value)

/**
 * A JSON column: canonical JSON of a domain value, which is exactly its Schema encoding (decimals as
 * canonical text, absent members left out) written with sorted keys — without a second pass over it.
 */
export const toJson = <A, I>(_schema: Schema.Schema<A, I>, value: A): string => canonicalJson(value)

export const fromJson = <A, I>(schema: Schema.Schema<A, I>, column: string, json: string) =>
  Schema.decodeUnknown(Schema.parseJson(schema))(json).pipe(
    Effect.mapError((error) =>
      new RepositoryError({
        operation: "read",
        reason: `stored ${column} is not valid: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
      })
    )
  )

export type SnapshotRow = {
  readonly id: string
  readonly status: string
  readonly digest: string
  readonly frozen_at: Nullable<string>
  readonly source: Nullable<string>
  readonly created_at: string
}

export type ItemRow = {
  readonly snapshot_id: string
  readonly position: number
  readonly symbol: string
  readonly weight: string
  readonly score: Nullable<string>
  readonly rank: Nullable<number>
  readonly sector: Nullable<string>
  readonly price: Nullable<string>
}

export const itemRow = (snapshotId: SnapshotId, position: number, item: SnapshotItem): ItemRow => ({
  snapshot_id: snapshotId,
  position,
  symbol: item.symbol,
  weight: Dec.toString(item.weight),
  score: text(item.score),
  rank: item.rank ?? null,
  sector: item.sector ?? null,
  price: text(item.price)
})

export const itemFromRow = (row: ItemRow): SnapshotItem => {
  const score = optionalDecimal(row.score)
  const price = optionalDecimal(row.price)
  return {
    symbol: row.symbol as Symbol,
    weight: decimal(row.weight),
    ...(score === undefined ? {} : { score }),
    ...(row.rank === null ? {} : { rank: Number(row.rank) }),
    ...(row.sector === null ? {} : { sector: row.sector }),
    ...(price === undefined ? {} : { price })
  }
}

export const snapshotFromRow = (row: SnapshotRow, items: ReadonlyArray<ItemRow>): DecisionSnapshot => ({
  id: row.id as SnapshotId,
  status: row.status as SnapshotStatus,
  digest: row.digest,
  ...(row.frozen_at === null ? {} : { frozenAt: row.frozen_at }),
  ...(row.source === null ? {} : { source: row.source }),
  createdAt: row.created_at,
  items: items.map(itemFromRow)
})

export type RunRow = {
  readonly id: string
  readonly snapshot_id: string
  readonly status: string
  readonly mode: string
  readonly params: string
  readonly recorded: Nullable<string>
  readonly risk: Nullable<string>
  readonly error: Nullable<string>
  readonly attempts: number
  readonly lease_owner: Nullable<string>
  readonly lease_expires_at: Nullable<string>
  readonly created_at: string
  readonly updated_at: string
  readonly started_at: Nullable<string>
  readonly finished_at: Nullable<string>
}

/** The run's own columns, without the JSON it carries. */
export const summaryFromRow = (row: Omit<RunRow, "params" | "recorded" | "risk">): RunSummary => ({
  id: row.id as RunId,
  snapshotId: row.snapshot_id as SnapshotId,
  status: row.status as RunStatus,
  mode: row.mode as RunMode,
  ...(row.error === null ? {} : { error: row.error }),
  attempts: Number(row.attempts),
  ...(row.lease_owner === null || row.lease_expires_at === null
    ? {}
    : { lease: { owner: row.lease_owner, expiresAt: row.lease_expires_at } }),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  ...(row.started_at === null ? {} : { startedAt: row.started_at }),
  ...(row.finished_at === null ? {} : { finishedAt: row.finished_at })
})

export const runFromRow = (row: RunRow) =>
  Effect.gen(function*() {
    const params = yield* fromJson(RunParams, "run params", row.params)
    const recorded = row.recorded === null ? undefined : yield* fromJson(RunRecord, "run record", row.recorded)
    const risk = row.risk === null ? undefined : yield* fromJson(RiskVerdict, "risk verdict", row.risk)
    return {
      ...summaryFromRow(row),
      params,
      ...(recorded === undefined ? {} : { recorded }),
      ...(risk === undefined ? {} : { risk })
    } satisfies TradeRun
  })

export type OrderRow = {
  readonly run_id: string
  readonly client_order_id: string
  readonly position: number
  readonly symbol: string
  readonly side: string
  readonly quantity: string
  readonly order_type: string
  readonly limit_price: Nullable<string>
  readonly reference_price: string
  readonly current_quantity: string
  readonly target_quantity: string
  readonly target_weight: string
  readonly sector: Nullable<string>
  readonly status: string
  readonly filled_quantity: string
  readonly avg_fill_price: Nullable<string>
  readonly commission: string
  readonly reject_reason: Nullable<string>
  readonly created_at: string
  readonly updated_at: string
}

export const orderRow = (order: TradeOrder, position: number): OrderRow => ({
  run_id: order.runId,
  client_order_id: order.clientOrderId,
  position,
  symbol: order.symbol,
  side: order.side,
  quantity: Dec.toString(order.quantity),
  order_type: order.orderType,
  limit_price: text(order.limitPrice),
  reference_price: Dec.toString(order.referencePrice),
  current_quantity: Dec.toString(order.currentQuantity),
  target_quantity: Dec.toString(order.targetQuantity),
  target_weight: Dec.toString(order.targetWeight),
  sector: order.sector ?? null,
  status: order.status,
  filled_quantity: Dec.toString(order.filledQuantity),
  avg_fill_price: text(order.avgFillPrice),
  commission: Dec.toString(order.commission),
  reject_reason: order.rejectReason ?? null,
  created_at: order.createdAt,
  updated_at: order.updatedAt
})

export const orderFromRow = (row: OrderRow): TradeOrder => {
  const limitPrice = optionalDecimal(row.limit_price)
  const avgFillPrice = optionalDecimal(row.avg_fill_price)
  return {
    clientOrderId: row.client_order_id as ClientOrderId,
    symbol: row.symbol as Symbol,
    side: row.side as OrderSide,
    quantity: decimal(row.quantity),
    orderType: row.order_type as OrderType,
    ...(limitPrice === undefined ? {} : { limitPrice }),
    referencePrice: decimal(row.reference_price),
    currentQuantity: decimal(row.current_quantity),
    targetQuantity: decimal(row.target_quantity),
    targetWeight: decimal(row.target_weight),
    ...(row.sector === null ? {} : { sector: row.sector }),
    runId: row.run_id as RunId,
    status: row.status as OrderStatus,
    filledQuantity: decimal(row.filled_quantity),
    ...(avgFillPrice === undefined ? {} : { avgFillPrice }),
    commission: decimal(row.commission),
    ...(row.reject_reason === null ? {} : { rejectReason: row.reject_reason }),
    createdAt: row.created_at,
    updatedAt: row.updated_at
  }
}

export type FillRow = {
  readonly execution_id: string
  readonly run_id: string
  readonly client_order_id: string
  readonly symbol: string
  readonly side: string
  readonly quantity: string
  readonly price: string
  readonly commission: string
  readonly time: string
}

export const fillRow = (runId: RunId, fill: Fill): FillRow => ({
  execution_id: fill.executionId,
  run_id: runId,
  client_order_id: fill.clientOrderId,
  symbol: fill.symbol,
  side: fill.side,
  quantity: Dec.toString(fill.quantity),
  price: Dec.toString(fill.price),
  commission: Dec.toString(fill.commission),
  time: fill.time
})

export const fillFromRow = (row: FillRow): Fill => ({
  executionId: row.execution_id as ExecutionId,
  clientOrderId: row.client_order_id as ClientOrderId,
  symbol: row.symbol as Symbol,
  side: row.side as OrderSide,
  quantity: decimal(row.quantity),
  price: decimal(row.price),
  commission: decimal(row.commission),
  time: row.time
})

export type AuditRow = {
  readonly seq: number
  readonly at: string
  readonly type: string
  readonly run_id: Nullable<string>
  readonly payload: string
  readonly prev_hash: string
  readonly hash: string
}

export const auditRow = (row: ChainedRow): AuditRow => ({
  seq: row.seq,
  at: row.at,
  type: row.type,
  run_id: row.runId ?? null,
  payload: row.payloadText,
  prev_hash: row.prevHash,
  hash: row.hash
})

export const auditFromRow = (row: AuditRow): AuditEvent => ({
  seq: Number(row.seq),
  at: row.at,
  type: row.type,
  ...(row.run_id === null ? {} : { runId: row.run_id }),
  payload: JSON.parse(row.payload) as unknown,
  prevHash: row.prev_hash,
  hash: row.hash
})
