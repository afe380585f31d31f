/**
 * Reconciling the book with the venue, outside any run's execution. First every order still in flight (of
 * one run, or of every run, failed ones included) is settled with the venue: late fills and final states
 * recorded once, as a run's own checks would (a failed run stays failed, its orders end as the venue says).
 * Then the positions the venue reports are compared, symbol by symbol, with the positions the recorded fills
 * imply from the account's start; every difference is a break, named and left as it is.
 */
import { Clock, Effect } from "effect"
import * as Dec from "../domain/Decimal.js"
import type { RunId, Symbol } from "../domain/Ids.js"
import { signedQuantity } from "../domain/Order.js"
import type { RunStatus, TradeRun } from "../domain/Run.js"
import * as Ledger from "../ExecutionLedger.js"
import { claimToHold, underLease } from "./claim.js"
import { commit, type Flow, inFlight, isWorking, timed } from "./Flow.js"
import { cancelReason, follow, withCancelReason } from "./follow.js"

/** A symbol whose position in the book differs from the venue's. */
export interface PositionBreak {
  readonly symbol: Symbol
  readonly ours: Dec.Decimal
  readonly venue: Dec.Decimal
}

export interface RunSettlement {
  readonly runId: RunId
  readonly status: RunStatus
  /** Orders whose state changed. */
  readonly changed: number
  /** Orders the venue still works. */
  readonly working: number
  /** Another process held the run: nothing of it was settled now. */
  readonly heldBy?: string
}

export interface ReconcileReport {
  readonly provider: string
  readonly runs: ReadonlyArray<RunSettlement>
  readonly breaks: ReadonlyArray<PositionBreak>
}

/** Settles one run's orders in flight with the venue. */
const settleRun = (flow: Flow, run: TradeRun) =>
  Effect.gen(function*() {
    const orders = yield* flow.repo.listOrders(run.id)
    const inFlightOrders = orders.filter(isWorking)
    if (inFlightOrders.length === 0) return { runId: run.id, status: run.status, changed: 0, working: 0 } satisfies RunSettlement
    const claim = yield* Effect.either(claimToHold(flow, run, true))
    if (claim._tag === "Left" && claim.left._tag !== "RunHeld") return yield* claim.left
    const claimed = claim._tag === "Right" ? claim.right : undefined
    if (claimed === undefined) {
      return {
        runId: run.id,
        status: run.status,
        changed: 0,
        working: inFlightOrders.length,
        ...(claim._tag === "Left" && claim.left._tag === "RunHeld" ? { heldBy: claim.left.owner } : {})
      } satisfies RunSettlement
    }
    let changed = 0
    const result = yield* underLease(flow, claimed, false, (holder) =>
      Effect.gen(function*() {
        const ledger = Ledger.make(orders, yield* flow.repo.listFills(run.id))
        const ids = inFlightOrders.map((o) => o.clientOrderId)
        const reports = yield* timed(flow, "status", ids, flow.provider.status(ids))
        if (claimed.status === "running") {
          // A running run's own check: it ends `done` when this settles its last order.
          const followed = yield* follow(flow, {
            holder,
            run: inFlight(claimed),
            verdict: claimed.risk,
            ledger,
            reports,
            waitUntil: yield* Clock.currentTimeMillis
          })
          changed = reports.length
          return { working: followed._tag === "Working" ? followed.working : 0 }
        }
        const reason = cancelReason(inFlight(claimed), yield* Clock.currentTimeMillis)
        const changes = yield* Ledger.fromReports(ledger, withCancelReason(reports, reason))
        if (!Ledger.isEmpty(changes)) {
          yield* commit(flow, flow.repo.updateOrders(holder, changes.updates, changes.fills), [
            { type: "trade_run.reconcile", runId: run.id, payload: { worker: flow.workerId, status: claimed.status, orders: changes.updates.length } },
            ...changes.events
          ])
          Ledger.commit(ledger, changes)
        }
        changed = changes.updates.length
        return { working: [...ledger.orders.values()].filter(isWorking).length }
      }))
    const after = yield* flow.repo.summarize(run.id)
    return {
      runId: run.id,
      status: after.run.status,
      changed,
      working: result?.working ?? after.counts.SUBMITTED + after.counts.PARTIAL
    } satisfies RunSettlement
  })

/**
 * The book: the positions the earliest run was built from, plus every fill recorded since, of every run.
 * Those positions are the account's: read from it, or given to the run (a paper account opens holding the
 * positions given, and a later run's must be exactly what it holds).
 */
const bookPositions = (flow: Flow, runs: ReadonlyArray<TradeRun>) =>
  Effect.gen(function*() {
    const book = new Map<Symbol, Dec.Decimal>()
    const built = runs.filter((r) => r.recorded !== undefined)
    const first = built.sort((a, b) => (a.recorded!.builtAt < b.recorded!.builtAt ? -1 : 1))[0]
    for (const p of first?.recorded?.positions ?? []) book.set(p.symbol, p.quantity)
    for (const run of runs) {
      for (const fill of yield* flow.repo.listFills(run.id)) {
        book.set(fill.symbol, Dec.add(book.get(fill.symbol) ?? Dec.ZERO, signedQuantity(fill.side, fill.quantity)))
      }
    }
    return book
  })

export const reconcile = Effect.fn("TradeRunner.reconcile")(function*(flow: Flow, runId?: RunId) {
  const all = yield* flow.repo.listRuns()
  const targets = runId === undefined ? all : [yield* flow.repo.getRun(runId)]
  const runs: Array<RunSettlement> = []
  for (const run of targets) {
    // Queued runs have sent nothing; a run another worker holds is that worker's to settle.
    if (run.status === "queued") continue
    const settled = yield* settleRun(flow, run)
    if (runId !== undefined || settled.changed > 0 || settled.working > 0 || settled.heldBy !== undefined) runs.push(settled)
  }
  const book = yield* bookPositions(flow, yield* flow.repo.listRuns())
  const account = yield* timed(flow, "account", [], flow.provider.account)
  const venue = new Map(account.positions.map((p) => [p.symbol, p.quantity]))
  const breaks: Array<PositionBreak> = []
  const symbols = [...new Set([...book.keys(), ...venue.keys()])].sort()
  for (const symbol of symbols) {
    const ours = book.get(symbol) ?? Dec.ZERO
    const theirs = venue.get(symbol) ?? Dec.ZERO
    if (!Dec.eq(ours, theirs)) breaks.push({ symbol, ours, venue: theirs })
  }
  return { provider: flow.provider.name, runs, breaks } satisfies ReconcileReport
})

