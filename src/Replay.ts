/**
 * Replay: rebuild a run's orders from what the run recorded (snapshot items, prices, positions,
 * securities, builder settings) and compare them, field by field, with the orders that were persisted;
 * then check that the persisted results agree with the audit trail and with the fills.
 */
import { Either } from "effect"
import * as Dec from "./domain/Decimal.js"
import type { Fill, OrderDraft, TradeOrder } from "./domain/Order.js"
import type { TradeRun } from "./domain/Run.js"
import type { DecisionSnapshot } from "./domain/Snapshot.js"
import * as OrderBuilder from "./OrderBuilder.js"
import type { AuditEvent } from "./ports/AuditLog.js"
import { snapshotDigest } from "./ports/TradeRepository.js"

export interface ReplayDifference {
  readonly clientOrderId: string
  readonly symbol: string
  readonly field: string
  readonly persisted: string | null
  readonly rebuilt: string | null
}

export interface ReplayReport {
  readonly runId: string
  readonly status: string
  /** False when the run has not built its orders yet, or what it recorded cannot be built again. */
  readonly replayable: boolean
  readonly reason?: string
  readonly snapshotUnchanged: boolean
  /** Rebuilt orders equal the persisted ones, field by field. */
  readonly ordersMatch: boolean
  readonly differences: ReadonlyArray<ReplayDifference>
  /** Each order's status is the last one the audit trail records for it, and its fills are the audited ones. */
  readonly auditMatches: boolean
  readonly auditDifferences: ReadonlyArray<string>
  /** Each order's filled quantity is the sum of its fills. */
  readonly fillsMatch: boolean
  readonly fillDifferences: ReadonlyArray<string>
  readonly matches: boolean
}

const COMPARED = [
  "symbol",
  "side",
  "quantity",
  "orderType",
  "limitPrice",
  "referencePrice",
  "currentQuantity",
  "targetQuantity",
  "targetWeight"
] as const satisfies ReadonlyArray<keyof OrderDraft>

const show = (value: unknown): string | null =>
  value === undefined ? null : typeof value === "string" ? value : Dec.toString(value as Dec.Decimal)

const compareOrders = (persisted: ReadonlyArray<TradeOrder>, rebuilt: ReadonlyArray<OrderDraft>) => {
  const differences: Array<ReplayDifference> = []
  const byId = new Map(rebuilt.map((o) => [o.clientOrderId as string, o]))
  for (const order of persisted) {
    const again = byId.get(order.clientOrderId)
    byId.delete(order.clientOrderId)
    for (const field of COMPARED) {
      const a = show(order[field])
      const b = again === undefined ? null : show(again[field])
      if (a !== b) differences.push({ clientOrderId: order.clientOrderId, symbol: order.symbol, field, persisted: a, rebuilt: b })
      if (again === undefined) break
    }
  }
  for (const extra of byId.values()) {
    differences.push({ clientOrderId: extra.clientOrderId, symbol: extra.symbol, field: "order", persisted: null, rebuilt: "present" })
  }
  return differences
}

const compareAudit = (orders: ReadonlyArray<TradeOrder>, fills: ReadonlyArray<Fill>, events: ReadonlyArray<AuditEvent>) => {
  const lastStatus = new Map<string, string>()
  const auditedFills = new Set<string>()
  for (const event of events) {
    if (event.type !== "trade_order.transition") continue
    const payload = event.payload as { clientOrderId: string; to: string; executionIds?: ReadonlyArray<string> }
    lastStatus.set(payload.clientOrderId, payload.to)
    for (const id of payload.executionIds ?? []) auditedFills.add(id)
  }
  const differences: Array<string> = []
  for (const order of orders) {
    const audited = lastStatus.get(order.clientOrderId) ?? "NEW"
    if (audited !== order.status) differences.push(`${order.clientOrderId}: audit trail ends at ${audited}, order is ${order.status}`)
  }
  const stored = new Set(fills.map((f) => f.executionId as string))
  for (const id of stored) if (!auditedFills.has(id)) differences.push(`fill ${id} is stored but not in the audit trail`)
  for (const id of auditedFills) if (!stored.has(id)) differences.push(`fill ${id} is in the audit trail but not stored`)
  return differences
}

const compareFills = (orders: ReadonlyArray<TradeOrder>, fills: ReadonlyArray<Fill>) => {
  const filled = new Map<string, Dec.Decimal>()
  for (const f of fills) filled.set(f.clientOrderId, Dec.add(filled.get(f.clientOrderId) ?? Dec.ZERO, f.quantity))
  const differences: Array<string> = []
  for (const order of orders) {
    const sum = filled.get(order.clientOrderId) ?? Dec.ZERO
    if (!Dec.eq(sum, order.filledQuantity)) {
      differences.push(`${order.clientOrderId}: filled ${Dec.toString(order.filledQuantity)}, fills add up to ${Dec.toString(sum)}`)
    }
  }
  return differences
}

export const compare = (input: {
  readonly run: TradeRun
  readonly snapshot: DecisionSnapshot
  readonly orders: ReadonlyArray<TradeOrder>
  readonly fills: ReadonlyArray<Fill>
  readonly events: ReadonlyArray<AuditEvent>
}): ReplayReport => {
  const { run, snapshot, orders, fills, events } = input
  const snapshotUnchanged = snapshotDigest(snapshot.items) === snapshot.digest
  const auditDifferences = compareAudit(orders, fills, events)
  const fillDifferences = compareFills(orders, fills)
  const base = {
    runId: run.id,
    status: run.status,
    snapshotUnchanged,
    auditMatches: auditDifferences.length === 0,
    auditDifferences,
    fillsMatch: fillDifferences.length === 0,
    fillDifferences
  }
  const recorded = run.recorded
  if (recorded === undefined) {
    return { ...base, replayable: false, reason: "the run has not built its orders yet", ordersMatch: false, differences: [], matches: false }
  }
  const { settings } = recorded
  const rebuilt = OrderBuilder.build({
    runId: run.id,
    items: snapshot.items,
    prices: recorded.prices,
    positions: recorded.positions,
    securities: recorded.securities,
    ...settings
  })
  if (Either.isLeft(rebuilt)) {
    return { ...base, replayable: false, reason: rebuilt.left.message, ordersMatch: false, differences: [], matches: false }
  }
  const differences = compareOrders(orders, rebuilt.right.orders)
  const ordersMatch = differences.length === 0
  return {
    ...base,
    replayable: true,
    ordersMatch,
    differences,
    matches: ordersMatch && snapshotUnchanged && base.auditMatches && base.fillsMatch
  }
}
