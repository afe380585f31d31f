/**
 * A run's end: its last order changes, its final status and the `trade_run.execute` audit event, written
 * together; and the end of a run that failed, with its error recorded.
 */
import { Effect } from "effect"
import type { TradeOrder } from "../domain/Order.js"
import type { RiskVerdict } from "../domain/Risk.js"
import type { RunStatus } from "../domain/Run.js"
import * as Ledger from "../ExecutionLedger.js"
import type { AuditEventInput } from "../ports/AuditLog.js"
import { applyOrderUpdate, type LeaseHolder } from "../ports/TradeRepository.js"
import * as RunState from "../RunState.js"
import { commit, countByStatus, type Flow, inFlight, type RunInFlight, runTransition } from "./Flow.js"
import type { RunFailure } from "./failures.js"

export interface EndDetail {
  readonly error?: string
  readonly risk?: RiskVerdict
  readonly dryRun: boolean
  /** Why it ended otherwise than by its orders running their course (a cancel). */
  readonly endedBy?: string
}

/** The audit record of an execution's end (or of a dry run's verdict). */
export const executeEvent = (
  flow: Flow,
  run: RunInFlight,
  orders: ReadonlyArray<TradeOrder>,
  detail: EndDetail
): AuditEventInput => ({
  type: "trade_run.execute",
  runId: run.id,
  payload: {
    snapshotId: run.snapshotId,
    dryRun: detail.dryRun,
    provider: flow.provider.name,
    riskParams: { limits: run.params.risk ?? {}, policy: run.params.riskPolicy ?? "block_run" },
    risk: detail.risk === undefined ? null : { passed: detail.risk.passed, reasons: detail.risk.reasons },
    counts: countByStatus(orders),
    error: detail.error ?? null,
    ...(detail.endedBy === undefined ? {} : { endedBy: detail.endedBy })
  }
})

/** Moves the run to `to` with the closing order changes and the audit events, in one transaction. */
export const finish = Effect.fn("TradeRunner.finish")(function*(
  flow: Flow,
  input: {
    readonly holder: LeaseHolder
    readonly run: RunInFlight
    readonly to: RunStatus
    readonly closing: Ledger.Changes
    readonly detail: EndDetail
    readonly orders: ReadonlyArray<TradeOrder>
  }
) {
  const { holder, run, to, closing, detail } = input
  yield* RunState.transition(run.id, run.status, to)
  const finalOrders = applyClosing(input.orders, closing)
  const events: Array<AuditEventInput> = [
    ...closing.events,
    runTransition(run, to, detail.error === undefined ? {} : { error: detail.error }),
    executeEvent(flow, run, finalOrders, detail)
  ]
  yield* commit(
    flow,
    Effect.zipRight(
      closing.updates.length === 0 && closing.fills.length === 0
        ? Effect.void
        : flow.repo.updateOrders(holder, closing.updates, closing.fills),
      flow.repo.updateRun(holder, {
        status: { from: run.status, to },
        ...(detail.error === undefined ? {} : { error: detail.error })
      })
    ),
    events
  )
})

/**
 * Records a typed failure on the run: `failed`, its error, and nothing left waiting to be sent. Orders the
 * venue already has stay as they are: `reconcile` settles them.
 */
export const failRun = Effect.fn("TradeRunner.failRun")(function*(
  flow: Flow,
  input: { readonly holder: LeaseHolder; readonly error: RunFailure; readonly dryRun: boolean }
) {
  const { holder, error, dryRun } = input
  const run = yield* flow.repo.getRun(holder.runId)
  if (!RunState.canTransition(run.status, "failed")) return
  const orders = yield* flow.repo.listOrders(run.id)
  const unsent = yield* Ledger.close(orders.filter((o) => o.status === "NEW"), "CANCELED", () => "run_failed")
  return yield* finish(flow, {
    holder,
    run: inFlight(run),
    to: "failed",
    closing: unsent,
    detail: { error: `${error._tag}: ${error.message}`, dryRun },
    orders
  })
}, (effect) =>
  // `canTransition` was checked and NEW orders may always be canceled: an illegal transition here is a bug,
  // and so is the run under our lease vanishing.
  effect.pipe(Effect.catchTag("IllegalTransition", Effect.die), Effect.catchTag("RunNotFound", Effect.die)))

export const merge = (a: Ledger.Changes, b: Ledger.Changes): Ledger.Changes => ({
  updates: [...a.updates, ...b.updates],
  fills: [...a.fills, ...b.fills],
  events: [...a.events, ...b.events]
})

const applyClosing = (orders: ReadonlyArray<TradeOrder>, closing: Ledger.Changes): ReadonlyArray<TradeOrder> => {
  if (closing.updates.length === 0) return orders
  const updates = new Map(closing.updates.map((u) => [u.clientOrderId, u]))
  return orders.map((o) => {
    const update = updates.get(o.clientOrderId)
    return update === undefined ? o : applyOrderUpdate(o, update)
  })
}
