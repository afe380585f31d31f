/**
 * Following a run's orders until each is final. A venue keeps working an order sent before the open, a
 * resting limit, the rest of a partial fill; the run stays `running` while any order works, and each check
 * (`status()`) records late fills and transitions once, like any other. Past the run's deadline
 * (`cancelAfter`), or once someone asked, what still works is canceled through the venue, its fills kept.
 * When the caller's wait runs out first, the run is handed back still running, to be checked again by the
 * next execute or by any worker.
 */
import { Clock, Duration, Effect } from "effect"
import type { ExecutionReport } from "../domain/Execution.js"
import type { ClientOrderId } from "../domain/Ids.js"
import type { TradeOrder } from "../domain/Order.js"
import type { RiskVerdict } from "../domain/Risk.js"
import * as Ledger from "../ExecutionLedger.js"
import type { LeaseHolder } from "../ports/TradeRepository.js"
import { commit, type Flow, isWorking, type RunInFlight, timed } from "./Flow.js"
import { finish } from "./finish.js"

/** Why what still works is being canceled, if it is: someone asked, or the run's deadline passed. */
export const cancelReason = (run: RunInFlight, nowMillis: number): "canceled_by_user" | "deadline" | undefined => {
  if (run.cancelRequestedAt !== undefined) return "canceled_by_user"
  if (run.params.cancelAfter === undefined || run.startedAt === undefined) return undefined
  const deadline = Date.parse(run.startedAt) + Duration.toMillis(run.params.cancelAfter)
  return nowMillis >= deadline ? "deadline" : undefined
}

/** A cancel the venue confirmed without a reason of its own carries the run's. */
export const withCancelReason = (reports: ReadonlyArray<ExecutionReport>, reason: string | undefined) =>
  reason === undefined
    ? reports
    : reports.map((r) => (r.status === "CANCELED" && r.rejectReason === undefined ? { ...r, rejectReason: reason } : r))

/** How many orders would still work once `changes` are applied. */
const workingAfter = (ledger: Ledger.Ledger, changes: Ledger.Changes): number => {
  const moved = new Map(changes.updates.map((u) => [u.clientOrderId, u.to]))
  let working = 0
  for (const order of ledger.orders.values()) {
    if (isWorking({ status: moved.get(order.clientOrderId) ?? order.status })) working++
  }
  return working
}

/** Asks the venue to cancel each of `orders`; a cancel it could not take is tried again at the next check. */
export const requestCancels = (flow: Flow, orders: ReadonlyArray<TradeOrder>) =>
  Effect.forEach(orders, (order) =>
    timed(flow, "cancel", [order.clientOrderId], flow.provider.cancel(order.clientOrderId)).pipe(
      Effect.map((report) => [report]),
      Effect.catchTags({
        ExecutionError: (error) =>
          Effect.as(Effect.logWarning("cancel refused; asked again at the next check").pipe(
            Effect.annotateLogs({ clientOrderId: order.clientOrderId, reason: error.message })
          ), []),
        ExecutionTimeout: () => Effect.succeed([])
      })
    )).pipe(Effect.map((reports) => reports.flat()))

export type Followed =
  | { readonly _tag: "Final" }
  | { readonly _tag: "Working"; readonly working: number }

/**
 * Records `reports` (the last batch's answers, or a check's), then checks again every `followInterval`
 * until every order is final (the run ends `done`) or `waitUntil` (epoch millis) has passed.
 */
export const follow = Effect.fn("TradeRunner.follow")(function*(
  flow: Flow,
  input: {
    readonly holder: LeaseHolder
    readonly run: RunInFlight
    readonly verdict: RiskVerdict | undefined
    readonly ledger: Ledger.Ledger
    readonly reports: ReadonlyArray<ExecutionReport>
    readonly waitUntil: number
  }
) {
  const { holder, verdict, ledger } = input
  let run = input.run
  let reports = input.reports
  const cancelAsked = new Set<ClientOrderId>()
  for (;;) {
    const now = yield* Clock.currentTimeMillis
    const reason = cancelReason(run, now)
    const changes = yield* Ledger.fromReports(ledger, withCancelReason(reports, reason))
    if (workingAfter(ledger, changes) === 0) {
      yield* finish(flow, {
        holder,
        run,
        to: "done",
        closing: changes,
        detail: {
          ...(verdict === undefined ? {} : { risk: verdict }),
          dryRun: false,
          ...(reason === undefined ? {} : { endedBy: reason })
        },
        orders: [...ledger.orders.values()]
      })
      return { _tag: "Final" } satisfies Followed as Followed
    }
    if (!Ledger.isEmpty(changes)) {
      yield* commit(flow, flow.repo.updateOrders(holder, changes.updates, changes.fills), changes.events)
      Ledger.commit(ledger, changes)
    }
    const working = [...ledger.orders.values()].filter(isWorking)
    yield* flow.progress({ runId: run.id, phase: "following", working: working.length })

    const toCancel = reason === undefined ? [] : working.filter((o) => !cancelAsked.has(o.clientOrderId))
    if (toCancel.length > 0) {
      for (const o of toCancel) cancelAsked.add(o.clientOrderId)
      yield* flow.repo.renewLease(holder, flow.leaseMillis)
      reports = yield* requestCancels(flow, toCancel)
      continue
    }

    const left = input.waitUntil - (yield* Clock.currentTimeMillis)
    if (left <= 0) return { _tag: "Working", working: working.length } satisfies Followed as Followed
    yield* Effect.sleep(Duration.millis(Math.min(left, Duration.toMillis(flow.followInterval))))
    yield* flow.repo.renewLease(holder, flow.leaseMillis)
    // Someone may have asked, from another process, for what still works to be canceled.
    if (run.cancelRequestedAt === undefined) {
      // The run cannot vanish while this process holds its lease.
      const cancelRequestedAt = yield* Effect.catchTag(flow.repo.cancelRequestedAt(run.id), "RunNotFound", Effect.die)
      if (cancelRequestedAt !== undefined) {
        run = { ...run, cancelRequestedAt }
        continue
      }
    }
    const ids = working.map((o) => o.clientOrderId)
    // A check the venue does not answer in time learns nothing: the orders still work, asked again next time.
    reports = yield* timed(flow, "status", ids, flow.provider.status(ids)).pipe(
      Effect.catchTag("ExecutionTimeout", () => Effect.succeed<ReadonlyArray<ExecutionReport>>([]))
    )
  }
})
