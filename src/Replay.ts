/**
 * Replay: rebuild a run's orders from what the run recorded (snapshot items, prices, positions,
 * securities, builder settings, and its risk limits and policy) and compare them, field by field, with the
 * orders that were persisted, and the fit rebuilt with the fit recorded (under the policy `fit`); then check that the persisted results agree with the audit trail (each order's status and outcome, each
 * fill, the run's status) and with the fills. A trail written before events carried an order's outcome and
 * its fills' values cannot check those: they are reported as not recorded, never as differences.
 */
import { Either, Option } from "effect"
import { canonicalJson } from "./Digest.js"
import * as Dec from "./domain/Decimal.js"
import type { Fill, OrderDraft, TradeOrder } from "./domain/Order.js"
import type { FitOutcome } from "./domain/Risk.js"
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
  /** The run recorded a fit (it ran under the policy `fit`). */
  readonly fitted: boolean
  /** The fit rebuilt equals the one recorded, move by move (both absent for a run not fitted). */
  readonly fitMatches: boolean
  readonly fitDifferences: ReadonlyArray<string>
  /**
   * Each order's status and outcome (filled quantity, average price, commission, reject reason) are the
   * last the audit trail records for it, its fills are the audited ones with the audited quantity, price and
   * commission, and the run's status and error are those of its last audited transition.
   */
  readonly auditMatches: boolean
  readonly auditDifferences: ReadonlyArray<string>
  /** What the audit trail of an older run does not record, and so was not checked. */
  readonly notRecorded: ReadonlyArray<string>
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

/** An order transition as the trail records it; older events lack the outcome and the fills' values. */
interface AuditedTransition {
  readonly clientOrderId: string
  readonly to: string
  readonly reason?: string
  readonly filledQuantity?: string
  readonly avgFillPrice?: string
  readonly commission?: string
  readonly fills?: ReadonlyArray<{ readonly executionId: string; readonly quantity: string; readonly price: string; readonly commission: string }>
  /** Events written before fills were recorded with their values. */
  readonly executionIds?: ReadonlyArray<string>
}

interface AuditedFill {
  readonly clientOrderId: string
  readonly values?: { readonly quantity: string; readonly price: string; readonly commission: string }
}

/** An order's outcome as the trail says it should be: `undefined` where the trail does not record it. */
interface AuditedOutcome {
  readonly filledQuantity: string | undefined
  readonly avgFillPrice: string | null | undefined
  readonly commission: string | undefined
  readonly rejectReason: string | null | undefined
}

const NOTHING_FILLED: AuditedOutcome = { filledQuantity: "0", avgFillPrice: null, commission: "0", rejectReason: null }

const outcomeOf = (transition: AuditedTransition | undefined): AuditedOutcome =>
  // An order never moved, or only sent, has no fill (one with fills is PARTIAL) and no reject reason.
  transition === undefined || transition.to === "SUBMITTED"
    ? NOTHING_FILLED
    : transition.commission !== undefined
    ? {
      filledQuantity: transition.filledQuantity,
      avgFillPrice: transition.avgFillPrice ?? null,
      commission: transition.commission,
      rejectReason: transition.reason ?? null
    }
    : { filledQuantity: transition.filledQuantity, avgFillPrice: undefined, commission: undefined, rejectReason: undefined }

/** A persisted decimal against the trail's text: equal as values, a trail text that is not a number never is. */
const sameDecimal = (persisted: Dec.Decimal | undefined, audited: string | null): boolean => {
  if (persisted === undefined || audited === null) return persisted === undefined && audited === null
  const value = Dec.parse(audited)
  return Option.isSome(value) && Dec.eq(value.value, persisted)
}

const shown = (value: string | null | undefined) => (value === null || value === undefined ? "none" : value)

const compareAudit = (
  run: TradeRun,
  orders: ReadonlyArray<TradeOrder>,
  fills: ReadonlyArray<Fill>,
  events: ReadonlyArray<AuditEvent>
) => {
  const lastTransition = new Map<string, AuditedTransition>()
  const auditedFills = new Map<string, AuditedFill>()
  let runTransition: { readonly to: string; readonly error?: string } | undefined
  for (const event of events) {
    if (event.type === "trade_run.transition") {
      runTransition = event.payload as { to: string; error?: string }
      continue
    }
    if (event.type !== "trade_order.transition") continue
    const payload = event.payload as AuditedTransition
    lastTransition.set(payload.clientOrderId, payload)
    // The trail is read as it is found: a member of the wrong kind is no fill, and shows as one missing.
    for (const f of Array.isArray(payload.fills) ? payload.fills : []) {
      auditedFills.set(f.executionId, { clientOrderId: payload.clientOrderId, values: { quantity: f.quantity, price: f.price, commission: f.commission } })
    }
    for (const id of Array.isArray(payload.executionIds) ? payload.executionIds : []) auditedFills.set(id, { clientOrderId: payload.clientOrderId })
  }

  const differences: Array<string> = []
  let outcomesNotRecorded = 0
  for (const order of orders) {
    const id = order.clientOrderId
    const transition = lastTransition.get(id)
    const audited = transition?.to ?? "NEW"
    if (audited !== order.status) differences.push(`${id}: audit trail ends at ${audited}, order is ${order.status}`)
    const outcome = outcomeOf(transition)
    if (outcome.filledQuantity !== undefined && !sameDecimal(order.filledQuantity, outcome.filledQuantity)) {
      differences.push(`${id}: filled quantity is ${Dec.toString(order.filledQuantity)}, the audit trail says ${outcome.filledQuantity}`)
    }
    if (outcome.commission === undefined) {
      outcomesNotRecorded += 1
      continue
    }
    if (!sameDecimal(order.commission, outcome.commission)) {
      differences.push(`${id}: commission is ${Dec.toString(order.commission)}, the audit trail says ${outcome.commission}`)
    }
    if (outcome.avgFillPrice !== undefined && !sameDecimal(order.avgFillPrice, outcome.avgFillPrice)) {
      differences.push(`${id}: average price is ${show(order.avgFillPrice) ?? "none"}, the audit trail says ${shown(outcome.avgFillPrice)}`)
    }
    if (outcome.rejectReason !== undefined && (order.rejectReason ?? null) !== outcome.rejectReason) {
      differences.push(`${id}: reject reason is ${shown(order.rejectReason)}, the audit trail says ${shown(outcome.rejectReason)}`)
    }
  }

  let fillsNotRecorded = 0
  const stored = new Set<string>()
  for (const fill of fills) {
    const id = fill.executionId as string
    stored.add(id)
    const audited = auditedFills.get(id)
    if (audited === undefined) {
      differences.push(`fill ${id} is stored but not in the audit trail`)
      continue
    }
    if (audited.clientOrderId !== fill.clientOrderId) {
      differences.push(`fill ${id}: stored under order ${fill.clientOrderId}, the audit trail has it under ${audited.clientOrderId}`)
    }
    if (audited.values === undefined) {
      fillsNotRecorded += 1
      continue
    }
    for (const field of ["quantity", "price", "commission"] as const) {
      if (!sameDecimal(fill[field], audited.values[field])) {
        differences.push(`fill ${id}: ${field} is ${Dec.toString(fill[field])}, the audit trail says ${audited.values[field]}`)
      }
    }
  }
  for (const id of auditedFills.keys()) if (!stored.has(id)) differences.push(`fill ${id} is in the audit trail but not stored`)

  // A run is created queued; every later status is an audited transition.
  const auditedStatus = runTransition?.to ?? "queued"
  if (auditedStatus !== run.status) differences.push(`run ${run.id}: audit trail ends at ${auditedStatus}, run is ${run.status}`)
  const auditedError = runTransition?.error ?? null
  if ((run.error ?? null) !== auditedError) {
    differences.push(`run ${run.id}: error is ${shown(run.error)}, the audit trail says ${shown(auditedError)}`)
  }

  const notRecorded: Array<string> = []
  if (outcomesNotRecorded > 0) {
    notRecorded.push(`average price, commission and reject reason of ${outcomesNotRecorded} order(s): their audit events predate them`)
  }
  if (fillsNotRecorded > 0) {
    notRecorded.push(`quantity, price and commission of ${fillsNotRecorded} fill(s): their audit events name the fills only`)
  }
  return { differences, notRecorded }
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

/** The moves (and unmet limits) of two fits that differ, each named by its place. */
const compareFit = (recorded: FitOutcome | undefined, rebuilt: FitOutcome | undefined): Array<string> => {
  if (recorded === undefined && rebuilt === undefined) return []
  if (recorded === undefined || rebuilt === undefined) {
    return [`the run ${recorded === undefined ? "recorded no fit, the rebuild fitted" : "recorded a fit, the rebuild did not fit"}`]
  }
  const differences: Array<string> = []
  for (const part of ["adjustments", "unmet"] as const) {
    const a = recorded[part]
    const b = rebuilt[part]
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i] === undefined ? "none" : canonicalJson(a[i])
      const y = b[i] === undefined ? "none" : canonicalJson(b[i])
      if (x !== y) differences.push(`fit ${part} #${i + 1}: recorded ${x}, rebuilt ${y}`)
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
  const { differences: auditDifferences, notRecorded } = compareAudit(run, orders, fills, events)
  const fillDifferences = compareFills(orders, fills)
  const base = {
    runId: run.id,
    status: run.status,
    fitted: run.recorded?.fit !== undefined,
    snapshotUnchanged,
    auditMatches: auditDifferences.length === 0,
    auditDifferences,
    notRecorded,
    fillsMatch: fillDifferences.length === 0,
    fillDifferences
  }
  const recorded = run.recorded
  if (recorded === undefined) {
    return {
      ...base,
      replayable: false,
      reason: "the run has not built its orders yet",
      ordersMatch: false,
      differences: [],
      fitMatches: false,
      fitDifferences: [],
      matches: false
    }
  }
  const { settings } = recorded
  const rebuilt = OrderBuilder.build({
    runId: run.id,
    items: snapshot.items,
    prices: recorded.prices,
    positions: recorded.positions,
    securities: recorded.securities,
    ...settings,
    // A record without a scheme was made by a version that knew only the first.
    clientOrderIdScheme: settings.clientOrderIdScheme ?? 1
  }, OrderBuilder.riskOf(run.params))
  if (Either.isLeft(rebuilt)) {
    return {
      ...base,
      replayable: false,
      reason: rebuilt.left.message,
      ordersMatch: false,
      differences: [],
      fitMatches: false,
      fitDifferences: [],
      matches: false
    }
  }
  const differences = compareOrders(orders, rebuilt.right.orders)
  const ordersMatch = differences.length === 0
  const fitDifferences = compareFit(recorded.fit, rebuilt.right.fit)
  const fitMatches = fitDifferences.length === 0
  return {
    ...base,
    replayable: true,
    ordersMatch,
    differences,
    fitMatches,
    fitDifferences,
    matches: ordersMatch && fitMatches && snapshotUnchanged && base.auditMatches && base.fillsMatch
  }
}
