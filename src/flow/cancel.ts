/**
 * Canceling a run from outside its execution. A queued run ends with nothing ever sent; a running run has
 * its unsent orders canceled and its working orders canceled through the venue (fills kept), and ends once
 * the venue confirms them (a venue that confirms later is followed as usual). A finished run is left as it is.
 */
import { Clock, Effect } from "effect"
import type { RunId } from "../domain/Ids.js"
import * as Ledger from "../ExecutionLedger.js"
import { nowIso } from "../internal/nowIso.js"
import type { RepositoryError, RunHeld, RunNotFound } from "../ports/errors.js"
import * as RunState from "../RunState.js"
import { claimToHold, underLease } from "./claim.js"
import { commit, type Flow, inFlight } from "./Flow.js"
import { finish } from "./finish.js"
import { follow } from "./follow.js"

const REASON = "canceled_by_user"

/**
 * A running run another process holds (following it with `--wait`, or a worker) cannot be taken from it:
 * the request is recorded on the run, and its holder cancels what still works at its next check.
 */
const askHolder = (flow: Flow, held: RunHeld) =>
  flow.repo.withTransaction(Effect.gen(function*() {
    const asked = yield* flow.repo.requestCancel(held.runId as RunId, yield* nowIso)
    if (asked.recorded) {
      yield* flow.audit.append([{
        type: "trade_run.cancel_requested",
        runId: held.runId,
        payload: { worker: flow.workerId, holder: held.owner }
      }])
    }
  }))

export const cancelRun = Effect.fn("TradeRunner.cancel")(function*(flow: Flow, runId: RunId) {
  const before = (yield* flow.repo.summarize(runId)).run
  if (RunState.isTerminal(before.status)) return
  const claimed = yield* claimToHold(flow, before, false).pipe(
    Effect.catchTag("RunHeld", (held): Effect.Effect<undefined, RunHeld | RunNotFound | RepositoryError> =>
      before.status === "running" ? Effect.as(askHolder(flow, held), undefined) : Effect.fail(held))
  )
  if (claimed === undefined) return
  yield* underLease(flow, claimed, false, (holder) =>
    Effect.gen(function*() {
      const orders = yield* flow.repo.listOrders(runId)
      const unsent = yield* Ledger.close(orders.filter((o) => o.status === "NEW"), "CANCELED", () => REASON)
      if (claimed.status === "queued") {
        yield* finish(flow, {
          holder,
          run: inFlight(claimed),
          to: "done",
          closing: unsent,
          detail: { dryRun: false, endedBy: REASON },
          orders
        })
        return { working: 0 }
      }
      const requestedAt = yield* nowIso
      yield* commit(
        flow,
        Effect.zipRight(
          flow.repo.updateRun(holder, { cancelRequestedAt: requestedAt }),
          Ledger.isEmpty(unsent) ? Effect.void : flow.repo.updateOrders(holder, unsent.updates, [])
        ),
        [{ type: "trade_run.cancel", runId, payload: { worker: flow.workerId, unsent: unsent.updates.length } }, ...unsent.events]
      )
      const ledger = Ledger.make(orders, yield* flow.repo.listFills(runId))
      Ledger.commit(ledger, unsent)
      const followed = yield* follow(flow, {
        holder,
        run: { ...inFlight(claimed), cancelRequestedAt: requestedAt },
        verdict: claimed.risk,
        ledger,
        reports: [],
        waitUntil: yield* Clock.currentTimeMillis
      })
      return { working: followed._tag === "Working" ? followed.working : 0 }
    }))
})
