/**
 * Handing a run's orders to the venue, never one twice: orders left in flight by an earlier attempt are
 * settled with `status()` first, and only what the venue says it never received is sent again; the rest go
 * in batches, each marked `SUBMITTED` (fenced by the lease) before it is sent.
 */
import { Effect } from "effect"
import type * as Dec from "../domain/Decimal.js"
import type { ExecutionReport, SubmitOrder } from "../domain/Execution.js"
import type { ClientOrderId, Symbol } from "../domain/Ids.js"
import type { TimeInForce, TradeOrder } from "../domain/Order.js"
import type { RiskVerdict } from "../domain/Risk.js"
import * as Ledger from "../ExecutionLedger.js"
import { chunks } from "../internal/chunks.js"
import { yieldToHost } from "../internal/yieldToHost.js"
import type { LeaseHolder } from "../ports/TradeRepository.js"
import { commit, type Flow, isWorking, type RunInFlight, timed } from "./Flow.js"
import { merge } from "./finish.js"

/** What the venue is told of an order besides the order itself. */
export interface Venue {
  /** The decision snapshot's own prices, a paper venue's fallback. */
  readonly snapshotPrices: ReadonlyMap<Symbol, Dec.Decimal>
  readonly timeInForce: TimeInForce
}

export const toSubmit = (order: TradeOrder, venue: Venue): SubmitOrder => {
  const snapshotPrice = venue.snapshotPrices.get(order.symbol)
  return {
    runId: order.runId,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    orderType: order.orderType,
    ...(order.limitPrice === undefined ? {} : { limitPrice: order.limitPrice }),
    timeInForce: venue.timeInForce,
    referencePrice: order.referencePrice,
    ...(snapshotPrice === undefined ? {} : { snapshotPrice })
  }
}

/** Writes what the reports change and keeps the ledger in step; how many orders changed. */
export const applyReports = Effect.fn("TradeRunner.applyReports")(function*(
  flow: Flow,
  input: { readonly holder: LeaseHolder; readonly ledger: Ledger.Ledger; readonly reports: ReadonlyArray<ExecutionReport> }
) {
  const changes = yield* Ledger.fromReports(input.ledger, input.reports)
  if (Ledger.isEmpty(changes)) return 0
  yield* commit(flow, flow.repo.updateOrders(input.holder, changes.updates, changes.fills), changes.events)
  Ledger.commit(input.ledger, changes)
  return changes.updates.length
})

/**
 * Reports for orders whose outcome is unknown: asks `status()` until the provider knows them all or the
 * schedule runs out, then sends again only what it still does not know (it never received them).
 */
export const settle = Effect.fn("TradeRunner.settle")(function*(flow: Flow, orders: ReadonlyArray<TradeOrder>, venue: Venue) {
  const ids = orders.map((o) => o.clientOrderId)
  const ask = timed(flow, "status", ids, flow.provider.status(ids))
  const known = yield* Effect.retry(
    Effect.filterOrFail(ask, (reports) => reports.length >= ids.length, () => "incomplete" as const),
    flow.settleSchedule
  ).pipe(Effect.catchIf((e) => e === "incomplete", () => ask))
  const seen = new Set(known.map((r) => r.clientOrderId))
  const missing = orders.filter((o) => !seen.has(o.clientOrderId))
  if (missing.length === 0) return known
  const sent = yield* timed(
    flow,
    "submit",
    missing.map((o) => o.clientOrderId),
    flow.provider.submit(missing.map((o) => toSubmit(o, venue)))
  )
  return [...known, ...sent]
})

/**
 * The previous batch's answers and `NEW → SUBMITTED` for this one, written together and then applied to the
 * ledger. Its own step, so the changes are dropped once written rather than kept through the provider's
 * answer (at 50,000 orders, what outlives a batch is promoted to the old generation).
 */
const markSubmitted = (
  flow: Flow,
  holder: LeaseHolder,
  ledger: Ledger.Ledger,
  batch: ReadonlyArray<TradeOrder>,
  previous: ReadonlyArray<ExecutionReport>
) =>
  Effect.gen(function*() {
    const changes = merge(yield* Ledger.fromReports(ledger, previous), yield* Ledger.submitted(batch))
    yield* commit(flow, flow.repo.updateOrders(holder, changes.updates, changes.fills), changes.events)
    Ledger.commit(ledger, changes)
  })

/**
 * Hands a batch to the provider. Its orders are marked `SUBMITTED` first, fenced by the lease, in a
 * transaction that also records what the provider answered for the batch before (`previous`): a run commits
 * once a batch, not twice. Nothing is sent before its mark is written, and a batch whose answer was not
 * written yet (the process stopped) is in `SUBMITTED` and is asked about with `status()` when the run
 * resumes. Answers with the provider's reports, to be written with the next.
 */
const submitBatch = (
  flow: Flow,
  holder: LeaseHolder,
  ledger: Ledger.Ledger,
  batch: ReadonlyArray<TradeOrder>,
  previous: ReadonlyArray<ExecutionReport>,
  venue: Venue
) =>
  Effect.gen(function*() {
    yield* markSubmitted(flow, holder, ledger, batch, previous)
    const ids = batch.map((o) => o.clientOrderId)
    return yield* timed(flow, "submit", ids, flow.provider.submit(batch.map((o) => toSubmit(o, venue)))).pipe(
      Effect.catchTag("ExecutionTimeout", () => settle(flow, batch, venue))
    )
  })

/**
 * Whether someone asked, from another process, for the run to be canceled since this process took it: read
 * before each batch after the first, so a large run stops sending within a batch of the request.
 */
const cancelRequested = (flow: Flow, run: RunInFlight) =>
  run.cancelRequestedAt !== undefined
    ? Effect.succeed(run.cancelRequestedAt)
    : Effect.catchTag(flow.repo.cancelRequestedAt(run.id), "RunNotFound", Effect.die)

/**
 * Sends what is left to send, settling first what an earlier attempt left in flight. Answers with the last
 * batch's reports, not yet written: the run's next step writes them (with the run's end, when they end it);
 * and the run as the sending left it: once a cancel was asked, what was not sent yet is canceled instead
 * (`canceled_by_user`) and the run carries the request on to its follow, which cancels what works.
 */
export const submitPending = Effect.fn("TradeRunner.submitPending")(function*(
  flow: Flow,
  input: {
    readonly holder: LeaseHolder
    readonly run: RunInFlight
    readonly verdict: RiskVerdict
    readonly ledger: Ledger.Ledger
    readonly venue: Venue
  }
) {
  const { holder, verdict, ledger, venue } = input
  let run = input.run
  // Orders in flight from an earlier attempt (or still working at the venue): asked about first.
  const unsettled = [...ledger.orders.values()].filter(isWorking)

  // By id: each batch takes its orders from the ledger as they are then, so the orders as they were before
  // sending are not all kept alive beside their updated selves until the last batch.
  const accepted = new Set<ClientOrderId>(verdict.accepted)
  const pending: Array<ClientOrderId> = []
  for (const o of ledger.orders.values()) if (o.status === "NEW" && accepted.has(o.clientOrderId)) pending.push(o.clientOrderId)
  let sent = 0
  let answered: ReadonlyArray<ExecutionReport> = []
  if (unsettled.length > 0) {
    yield* flow.repo.renewLease(holder, flow.leaseMillis)
    answered = yield* settle(flow, unsettled, venue)
  }
  for (const ids of chunks(pending, flow.batchSize)) {
    // Before a batch, not after one: after the last, its answers are written at once below.
    yield* yieldToHost
    const requestedAt = sent === 0 && run.cancelRequestedAt === undefined ? undefined : yield* cancelRequested(flow, run)
    if (requestedAt !== undefined) {
      run = { ...run, cancelRequestedAt: requestedAt }
      const unsent = yield* Ledger.close(pending.slice(sent).map((id) => ledger.orders.get(id)!), "CANCELED", () => "canceled_by_user")
      yield* commit(flow, flow.repo.updateOrders(holder, unsent.updates, []), unsent.events)
      Ledger.commit(ledger, unsent)
      break
    }
    answered = yield* submitBatch(flow, holder, ledger, ids.map((id) => ledger.orders.get(id)!), answered, venue)
    sent += ids.length
    yield* flow.progress({ runId: run.id, phase: "submitting", done: sent, total: pending.length })
  }
  return { reports: answered, run }
})
