/**
 * What every phase of a run's execution is given: the ports it talks to and the runner's settings, as one
 * explicit record. Each phase (claim, build, judge, submit, follow, finish) is a function of this record and
 * of what the phase before it handed on, so a reader can hold one phase in their head at a time.
 */
import { type Duration, Effect, type Schedule } from "effect"
import type { RunId } from "../domain/Ids.js"
import type { TradeOrder } from "../domain/Order.js"
import type { RunStatus, TradeRun } from "../domain/Run.js"
import type { AuditEventInput, AuditLog } from "../ports/AuditLog.js"
import { ExecutionTimeout } from "../ports/errors.js"
import type { ExecutionProvider } from "../ports/ExecutionProvider.js"
import type { PriceFeed } from "../ports/PriceFeed.js"
import { countOrders, type TradeRepository } from "../ports/TradeRepository.js"

/**
 * Where an execution stands: orders built, then orders handed to the provider so far (a batch's answers are
 * written with the next batch, so the store may be a batch behind what this says was handed over), then
 * each check of the orders that still work.
 */
export type RunProgress =
  | { readonly runId: RunId; readonly phase: "built"; readonly orders: number }
  | { readonly runId: RunId; readonly phase: "submitting"; readonly done: number; readonly total: number }
  | { readonly runId: RunId; readonly phase: "following"; readonly working: number }

export interface Flow {
  readonly repo: TradeRepository["Type"]
  readonly audit: AuditLog["Type"]
  readonly provider: ExecutionProvider["Type"]
  readonly feed: PriceFeed["Type"]
  /** Who holds the leases this runner takes. */
  readonly workerId: string
  readonly leaseMillis: number
  /** Orders per `submit` call. */
  readonly batchSize: number
  /** How long a provider call may take before its outcome counts as unknown. */
  readonly providerTimeout: Duration.Duration
  /** How often `status()` is asked again for orders whose outcome is unknown. */
  readonly settleSchedule: Schedule.Schedule<unknown>
  /** Between two checks of a run's working orders. */
  readonly followInterval: Duration.Duration
  readonly progress: (progress: RunProgress) => Effect.Effect<void>
}

/** A provider call bounded by the runner's timeout: past it, the outcome is unknown (`ExecutionTimeout`). */
export const timed = <A, E, R>(flow: Flow, operation: string, ids: ReadonlyArray<string>, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, {
    duration: flow.providerTimeout,
    onTimeout: () => new ExecutionTimeout({ provider: flow.provider.name, operation, clientOrderIds: [...ids] })
  })

/** Several writes and their audit events as one unit. */
export const commit = <A, E>(flow: Flow, write: Effect.Effect<A, E>, events: ReadonlyArray<AuditEventInput>) =>
  flow.repo.withTransaction(Effect.zipLeft(write, flow.audit.append(events)))

/**
 * What the rest of a run needs of it once its orders are built: its identity, status, risk settings and
 * deadline. A large run's params (its positions) and record (its prices) are not carried through the
 * submissions.
 */
export interface RunInFlight {
  readonly id: RunId
  readonly snapshotId: TradeRun["snapshotId"]
  readonly status: RunStatus
  readonly params: Pick<TradeRun["params"], "risk" | "riskPolicy" | "timeInForce" | "cancelAfter">
  readonly startedAt?: string | undefined
  readonly cancelRequestedAt?: string | undefined
}

export const inFlight = (run: TradeRun): RunInFlight => ({
  id: run.id,
  snapshotId: run.snapshotId,
  status: run.status,
  params: {
    ...(run.params.risk === undefined ? {} : { risk: run.params.risk }),
    ...(run.params.riskPolicy === undefined ? {} : { riskPolicy: run.params.riskPolicy }),
    ...(run.params.timeInForce === undefined ? {} : { timeInForce: run.params.timeInForce }),
    ...(run.params.cancelAfter === undefined ? {} : { cancelAfter: run.params.cancelAfter })
  },
  startedAt: run.startedAt,
  cancelRequestedAt: run.cancelRequestedAt
})

export const runTransition = (
  run: { readonly id: RunId; readonly status: RunStatus },
  to: RunStatus,
  detail: Record<string, unknown> = {}
): AuditEventInput => ({
  type: "trade_run.transition",
  runId: run.id,
  payload: { from: run.status, to, ...detail }
})

/** Orders by status, for the audit record (its fills are counted by their own events). */
export const countByStatus = (orders: ReadonlyArray<TradeOrder>) => {
  const { fills: _, ...counts } = countOrders(orders, 0)
  return counts
}

/** An order the venue may still fill: handed over and not final. */
export const isWorking = (order: { readonly status: TradeOrder["status"] }): boolean =>
  order.status === "SUBMITTED" || order.status === "PARTIAL"
