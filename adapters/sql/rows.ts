/**
 * Rows ↔ domain values. Decimals travel as canonical text both ways (PostgreSQL hands NUMERIC back as
 * text, SQLite stores TEXT), so nothing passes through a binary double. JSON columns are canonical JSON
 * of the Schema-encoded value and are decoded with the same Schema.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { canonicalJson } from "../../src/Digest.js"
import * as Dec from "../../src/domain/Decimal.js"
import { type ClientOrderId, type ExecutionId, type RunId, type SnapshotId, type Symbol, SYMBOL_PATTERN } from "../../src/domain/Ids.js"
import type { Fill, OrderSide, OrderStatus, OrderType, TradeOrder } from "../../src/domain/Order.js"
import { RiskVerdict } from "../../src/domain/Risk.js"
import { RunParams, RunRecord, SkipReason, type RunMode, type RunStatus, type RunSummary, type TradeRun } from "../../src/domain/Run.js"
import type { DecisionSnapshot, SnapshotItem, SnapshotStatus } from "../../src/domain/Snapshot.js"
import { type AuditEvent, type ChainedRow, eventOf } from "../../src/ports/AuditLog.js"
import { RepositoryError } from "../../src/ports/errors.js"
import type { Column } from "./bulk.js"

type Nullable<A> = A | null

const text = (value: Dec.Decimal | undefined): string | null => (value === undefined ? null : Dec.toString(value))
const decimal = (value: string | number): Dec.Decimal =>
  typeof value === "number" ? Dec.unsafe(String(value)) : Dec.fromStored(value) ?? Dec.unsafe(value)

/**
 * A JSON column: canonical JSON of a domain value, which is exactly its Schema encoding (decimals as
 * canonical text, absent members left out) written with sorted keys. The value is written as it stands,
 * not encoded by its Schema first: that would be a second pass over it for the same text. `fromJson`
 * reads it back with the Schema.
 */
export const toJson = (value: unknown): string => canonicalJson(value)

// One decoder a schema: `Schema.parseJson(schema)` is a new schema each time, which effect compiles anew
// (a run's row, read several times a run, took 7% of a 5,000-name `trade-exec run` in compiling its decoders).
const decoders = new WeakMap<Schema.Schema.Any, (json: string) => Effect.Effect<any, ParseResult.ParseError>>()
const decoderOf = <A, I>(schema: Schema.Schema<A, I>): (json: string) => Effect.Effect<A, ParseResult.ParseError> => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknown(Schema.parseJson(schema))
    decoders.set(schema, decode)
  }
  return decode
}

export const fromJson = <A, I>(schema: Schema.Schema<A, I>, column: string, json: string) =>
  Effect.suspend(() => {
    const fast = fastDecode(schema, json)
    return fast !== undefined ? Effect.succeed(fast as A) : decoderOf(schema)(json)
  }).pipe(
    Effect.mapError((error) =>
      new RepositoryError({
        operation: "read",
        reason: `stored ${column} is not valid: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
      })
    )
  )

/**
 * The large arrays of stored documents (a run record's prices, positions and securities, a verdict's
 * accepted orders), read element by element without the Schema: decoding the 50,000 quotes of a
 * 50,000-name run's record through it held the process 1.1 s before its report, and made an object or
 * two per field on the way. Only what the Schema would read back exactly the same is taken: an element
 * of another shape (a member the Schema does not know, a value not in canonical form) sends the whole
 * document to the Schema, which decodes it, or names what is wrong, as before.
 */
/** How a member is read: a kind of text, or one of a set of literals. */
type Field = "symbol" | "decimal" | "string" | "instant" | "clientOrderId" | ReadonlySet<string>
type Shape = ReadonlyArray<readonly [key: string, kind: Field, required: boolean]>

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
const CLIENT_ORDER_ID = /^[A-Za-z0-9._-]{1,40}$/
const SYMBOL = SYMBOL_PATTERN

/** A field's value as the Schema decodes it, or `undefined` when only the Schema may judge it. */
const fieldOf = (kind: Field, value: unknown): unknown => {
  if (typeof value !== "string") return undefined
  if (typeof kind !== "string") return kind.has(value) ? value : undefined
  switch (kind) {
    case "decimal":
      return Dec.fromCanonical(value)
    case "symbol":
      return SYMBOL.test(value) ? value : undefined
    case "instant":
      return INSTANT.test(value) ? value : undefined
    case "clientOrderId":
      return CLIENT_ORDER_ID.test(value) ? value : undefined
    case "string":
      return value
  }
}

/** The elements of `raw` as structs of `shape` (members in the shape's order, as the Schema makes them). */
const structsOf = (shape: Shape, raw: unknown): Array<unknown> | undefined => {
  if (!Array.isArray(raw)) return undefined
  const out: Array<unknown> = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const element = raw[i] as Record<string, unknown>
    if (typeof element !== "object" || element === null || Array.isArray(element)) return undefined
    let known = 0
    const decoded: Record<string, unknown> = {}
    for (const [key, kind, required] of shape) {
      const value = element[key]
      if (value === undefined) {
        if (required || key in element) return undefined
        continue
      }
      const field = fieldOf(kind, value)
      if (field === undefined) return undefined
      decoded[key] = field
      known++
    }
    // A member the shape does not name: the Schema decides what becomes of it.
    let members = 0
    for (const _ in element) members++
    if (members !== known) return undefined
    out[i] = decoded
  }
  return out
}

const valuesOf = (kind: Field, raw: unknown): Array<unknown> | undefined => {
  if (!Array.isArray(raw)) return undefined
  const out: Array<unknown> = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const value = fieldOf(kind, raw[i])
    if (value === undefined) return undefined
    out[i] = value
  }
  return out
}

const QUOTE: Shape = [
  ["symbol", "symbol", true],
  ["price", "decimal", true],
  ["bid", "decimal", false],
  ["ask", "decimal", false],
  ["volume", "decimal", false],
  ["time", "instant", false]
]
const POSITION: Shape = [["symbol", "symbol", true], ["quantity", "decimal", true], ["avgCost", "decimal", false]]
const SECURITY: Shape = [
  ["symbol", "symbol", true],
  ["sector", "string", false],
  ["lotSize", "decimal", false],
  ["tickSize", "decimal", false],
  ["minQuantity", "decimal", false]
]

const SKIP: Shape = [["symbol", "symbol", true], ["reason", new Set(SkipReason.literals), true], ["detail", "string", false]]

/** The large arrays of each stored document, and how each element of them is read. */
const LARGE_ARRAYS = new Map<Schema.Schema.Any, ReadonlyArray<readonly [key: string, read: (raw: unknown) => Array<unknown> | undefined]>>([
  [RunRecord, [
    ["prices", (raw) => structsOf(QUOTE, raw)],
    ["positions", (raw) => structsOf(POSITION, raw)],
    ["securities", (raw) => structsOf(SECURITY, raw)],
    ["skipped", (raw) => structsOf(SKIP, raw)]
  ]],
  [RunParams, [["positions", (raw) => structsOf(POSITION, raw)], ["securities", (raw) => structsOf(SECURITY, raw)]]],
  [RiskVerdict, [["accepted", (raw) => valuesOf("clientOrderId", raw)]]]
])

/**
 * `schema`'s value of `json` with its large arrays read directly and the rest through the Schema, or
 * `undefined` when the document is not one the direct reading is sure of.
 */
const fastDecode = (schema: Schema.Schema.Any, json: string): unknown => {
  const arrays = LARGE_ARRAYS.get(schema)
  if (arrays === undefined) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined
  const document = raw as Record<string, unknown>
  const read: Array<readonly [string, Array<unknown>]> = []
  for (const [key, readArray] of arrays) {
    if (document[key] === undefined) continue
    const values = readArray(document[key])
    if (values === undefined) return undefined
    read.push([key, values])
    document[key] = []
  }
  const rest = Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown>)(document)
  if (Either.isLeft(rest)) return undefined
  const value = rest.right as Record<string, unknown>
  for (const [key, values] of read) value[key] = values
  return value
}

export type SnapshotRow = {
  readonly id: string
  readonly status: string
  readonly digest: string
  readonly frozen_at: Nullable<string>
  readonly source: Nullable<string>
  readonly created_at: string
}

export const ITEM_COLUMNS: ReadonlyArray<Column> = [
  ["snapshot_id", "text"],
  ["position", "integer"],
  ["symbol", "text"],
  ["weight", "numeric"],
  ["score", "numeric"],
  ["rank", "integer"],
  ["sector", "text"],
  ["price", "numeric"]
]

/** Appends an item's values to `out`, in `ITEM_COLUMNS` order. */
export const itemValues = (out: Array<unknown>, snapshotId: SnapshotId, position: number, item: SnapshotItem): void => {
  out.push(
    snapshotId,
    position,
    item.symbol,
    Dec.toString(item.weight),
    text(item.score),
    item.rank ?? null,
    item.sector ?? null,
    text(item.price)
  )
}

/**
 * The columns a snapshot item is read back from, in the order `itemFromValues` takes them: as arrays of
 * values, as a run's orders are (`ORDER_READ_COLUMNS`).
 */
export const ITEM_READ_COLUMNS = ["position", "symbol", "weight", "score", "rank", "sector", "price"] as const

/** An item's position in its snapshot, from its values as `ITEM_READ_COLUMNS` lists them. */
export const itemPosition = (values: ReadonlyArray<unknown>): number => Number(values[0])

/** A snapshot item from its values, as `ITEM_READ_COLUMNS` lists them. */
export const itemFromValues = (v: ReadonlyArray<unknown>): SnapshotItem => {
  const item: { -readonly [K in keyof SnapshotItem]: SnapshotItem[K] } = { symbol: v[1] as Symbol, weight: decimal(v[2] as string) }
  // Optional members in one order, so that every item has one of a few shapes.
  if (v[3] !== null) item.score = decimal(v[3] as string)
  if (v[4] !== null) item.rank = Number(v[4])
  if (v[5] !== null) item.sector = v[5] as string
  if (v[6] !== null) item.price = decimal(v[6] as string)
  return item
}

export const snapshotFromRow = (row: SnapshotRow, items: ReadonlyArray<SnapshotItem>): DecisionSnapshot => ({
  id: row.id as SnapshotId,
  status: row.status as SnapshotStatus,
  digest: row.digest,
  ...(row.frozen_at === null ? {} : { frozenAt: row.frozen_at }),
  ...(row.source === null ? {} : { source: row.source }),
  createdAt: row.created_at,
  items
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
  readonly next_check_at: Nullable<string>
  readonly cancel_requested_at: Nullable<string>
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
  ...(row.next_check_at === null || row.next_check_at === undefined ? {} : { nextCheckAt: row.next_check_at }),
  ...(row.cancel_requested_at === null || row.cancel_requested_at === undefined ? {} : { cancelRequestedAt: row.cancel_requested_at }),
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

export const ORDER_COLUMNS: ReadonlyArray<Column> = [
  ["run_id", "text"],
  ["client_order_id", "text"],
  ["position", "integer"],
  ["symbol", "text"],
  ["side", "text"],
  ["quantity", "numeric"],
  ["order_type", "text"],
  ["limit_price", "numeric"],
  ["reference_price", "numeric"],
  ["current_quantity", "numeric"],
  ["target_quantity", "numeric"],
  ["target_weight", "numeric"],
  ["sector", "text"],
  ["status", "text"],
  ["filled_quantity", "numeric"],
  ["avg_fill_price", "numeric"],
  ["commission", "numeric"],
  ["reject_reason", "text"],
  ["created_at", "text"],
  ["updated_at", "text"]
]

/** Appends an order's values to `out`, in `ORDER_COLUMNS` order. */
export const orderValues = (out: Array<unknown>, order: TradeOrder, position: number): void => {
  out.push(
    order.runId,
    order.clientOrderId,
    position,
    order.symbol,
    order.side,
    Dec.toString(order.quantity),
    order.orderType,
    text(order.limitPrice),
    Dec.toString(order.referencePrice),
    Dec.toString(order.currentQuantity),
    Dec.toString(order.targetQuantity),
    Dec.toString(order.targetWeight),
    order.sector ?? null,
    order.status,
    Dec.toString(order.filledQuantity),
    text(order.avgFillPrice),
    Dec.toString(order.commission),
    order.rejectReason ?? null,
    order.createdAt,
    order.updatedAt
  )
}

/**
 * The columns an order is read back from, in the order `orderFromValues` takes them: its row without the
 * run, which the query names. A run's orders are read as arrays of values: objects keyed by column took
 * about twice as long to make (4,124 orders in a fresh process: ~93 against ~51 ms).
 */
export const ORDER_READ_COLUMNS = [
  "client_order_id", "position", "symbol", "side", "quantity", "order_type", "limit_price", "reference_price",
  "current_quantity", "target_quantity", "target_weight", "sector", "status", "filled_quantity", "avg_fill_price",
  "commission", "reject_reason", "created_at", "updated_at"
] as const

/** An order's position in its run, from its values as `ORDER_READ_COLUMNS` lists them. */
export const orderPosition = (values: ReadonlyArray<unknown>): number => Number(values[1])

/** An order of `runId` from its values, as `ORDER_READ_COLUMNS` lists them. */
export const orderFromValues = (runId: RunId, v: ReadonlyArray<unknown>): TradeOrder => {
  const order: { -readonly [K in keyof TradeOrder]: TradeOrder[K] } = {
    clientOrderId: v[0] as ClientOrderId,
    symbol: v[2] as Symbol,
    side: v[3] as OrderSide,
    quantity: decimal(v[4] as string),
    orderType: v[5] as OrderType,
    referencePrice: decimal(v[7] as string),
    currentQuantity: decimal(v[8] as string),
    targetQuantity: decimal(v[9] as string),
    targetWeight: decimal(v[10] as string),
    runId,
    status: v[12] as OrderStatus,
    filledQuantity: decimal(v[13] as string),
    commission: decimal(v[15] as string),
    createdAt: v[17] as string,
    updatedAt: v[18] as string
  }
  // Optional members last, as `tradeOrder` adds them: one shape for every order however it was made.
  if (v[6] !== null) order.limitPrice = decimal(v[6] as string)
  if (v[11] !== null) order.sector = v[11] as string
  if (v[14] !== null) order.avgFillPrice = decimal(v[14] as string)
  if (v[16] !== null) order.rejectReason = v[16] as string
  return order
}

export const FILL_COLUMNS: ReadonlyArray<Column> = [
  ["execution_id", "text"],
  ["run_id", "text"],
  ["client_order_id", "text"],
  ["symbol", "text"],
  ["side", "text"],
  ["quantity", "numeric"],
  ["price", "numeric"],
  ["commission", "numeric"],
  ["time", "text"],
  ["recorded_at", "text"]
]

/** Appends a fill's values to `out`, in `FILL_COLUMNS` order; `recordedAt` is when it is recorded. */
export const fillValues = (out: Array<unknown>, runId: RunId, fill: Fill, recordedAt: string): void => {
  out.push(
    fill.executionId,
    runId,
    fill.clientOrderId,
    fill.symbol,
    fill.side,
    Dec.toString(fill.quantity),
    Dec.toString(fill.price),
    Dec.toString(fill.commission),
    fill.time,
    recordedAt
  )
}

/**
 * The columns a fill is read back from, in the order `fillFromValues` takes them (arrays of values, as for
 * orders): its row without the run, which the query names, and without when it was recorded.
 */
export const FILL_READ_COLUMNS = [
  "execution_id", "client_order_id", "symbol", "side", "quantity", "price", "commission", "time"
] as const

/** What orders a run's fills, and pages them: a fill's time and execution id, from its values. */
export const fillKey = (values: ReadonlyArray<unknown>): { readonly time: string; readonly executionId: string } => ({
  time: values[7] as string,
  executionId: values[0] as string
})

/** A fill from its values, as `FILL_READ_COLUMNS` lists them. */
export const fillFromValues = (v: ReadonlyArray<unknown>): Fill => ({
  executionId: v[0] as ExecutionId,
  clientOrderId: v[1] as ClientOrderId,
  symbol: v[2] as Symbol,
  side: v[3] as OrderSide,
  quantity: decimal(v[4] as string),
  price: decimal(v[5] as string),
  commission: decimal(v[6] as string),
  time: v[7] as string
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

export const AUDIT_COLUMNS: ReadonlyArray<Column> = [
  ["seq", "integer"],
  ["at", "text"],
  ["type", "text"],
  ["run_id", "text"],
  ["payload", "text"],
  ["prev_hash", "text"],
  ["hash", "text"]
]

/** Appends an event's values to `out`, in `AUDIT_COLUMNS` order. */
export const auditValues = (out: Array<unknown>, row: ChainedRow): void => {
  out.push(row.seq, row.at, row.type, row.runId ?? null, row.payloadText, row.prevHash, row.hash)
}

export const auditFromRow = (row: AuditRow): AuditEvent =>
  eventOf({
    seq: Number(row.seq),
    at: row.at,
    type: row.type,
    runId: row.run_id ?? undefined,
    payloadText: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash
  })
