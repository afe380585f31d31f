/**
 * Taking a run up: its lease claimed atomically (a second worker is refused while the lease holds; a run
 * whose holder died may be taken over once its lease expired), with the audit record of who took it; and
 * the run carried under that lease: renewed while it executes, failures recorded, the lease given back.
 */
import { Clock, Duration, Effect, Schedule } from "effect"
import type { RunId } from "../domain/Ids.js"
import type { RunSummary, TradeRun } from "../domain/Run.js"
import type { AuditEventInput } from "../ports/AuditLog.js"
import { AccountBusy, type LeaseLost, type RepositoryError, RunHeld } from "../ports/errors.js"
import type { Claim, LeaseHolder } from "../ports/TradeRepository.js"
import type { Flow } from "./Flow.js"
import { runTransition } from "./Flow.js"
import { isRunFailure, type RunFailure } from "./failures.js"
import { failRun } from "./finish.js"

/** The audit events of taking a run up: its start, or its resumption by this worker. */
export const claimEvents = (flow: Flow, before: RunSummary, claimed: TradeRun): ReadonlyArray<AuditEventInput> =>
  before.status === "queued" && claimed.status === "running"
    ? [runTransition(before, "running", { worker: flow.workerId, attempt: claimed.attempts })]
    : claimed.status === "running" && before.lease?.owner !== flow.workerId
    ? [{
      type: "trade_run.resume",
      runId: claimed.id,
      payload: { worker: flow.workerId, attempt: claimed.attempts, previousOwner: before.lease?.owner ?? null }
    }]
    : []

/** Claims the run for this worker with its audit events, in one transaction. */
const claim = (flow: Flow, before: RunSummary, request: { readonly start: boolean; readonly settle?: boolean }) =>
  Effect.gen(function*() {
    const result: Claim = yield* flow.repo.withTransaction(Effect.gen(function*() {
      const claimed = yield* flow.repo.claimRun(before.id, {
        owner: flow.workerId,
        leaseMillis: flow.leaseMillis,
        start: request.start,
        exclusive: true,
        ...(request.settle === true ? { settle: true } : {})
      })
      if (claimed._tag === "Claimed") yield* flow.audit.append(claimEvents(flow, before, claimed.run))
      return claimed
    }))
    if (result._tag === "Held") {
      return yield* new RunHeld({ runId: before.id, owner: result.lease.owner, expiresAt: result.lease.expiresAt })
    }
    return result
  })

/**
 * Claims a run to execute it, starting it (`queued → running`) unless it is only a dry run. Refused while
 * another worker holds the run (`RunHeld`), or while another run trades on the account (`AccountBusy`);
 * `undefined` for a run that finished meanwhile.
 */
export const claimToExecute = Effect.fn("TradeRunner.claim")(function*(flow: Flow, before: RunSummary, dryRun: boolean) {
  const result = yield* claim(flow, before, { start: !dryRun })
  if (result._tag === "AccountBusy") return yield* new AccountBusy({ runId: before.id, workingRunId: result.workingRunId })
  return result._tag === "Finished" ? undefined : result.run
})

/**
 * Claims a run without starting it: to cancel it, or (`settle`) to settle its orders with the venue even
 * when it has finished. `undefined` when there is nothing to hold.
 */
export const claimToHold = Effect.fn("TradeRunner.hold")(function*(flow: Flow, before: RunSummary, settle: boolean) {
  const result = yield* claim(flow, before, { start: false, settle })
  // A claim that does not start the run never finds the account busy.
  return result._tag === "Claimed" ? result.run : undefined
})

/** The next run a worker should take (a due check, a dead worker's run, else a queued one), claimed. */
export const claimNext = Effect.fn("TradeRunner.claimNext")(function*(flow: Flow) {
  return yield* flow.repo.withTransaction(Effect.gen(function*() {
    const next = yield* flow.repo.claimNext({ owner: flow.workerId, leaseMillis: flow.leaseMillis, exclusive: true })
    if (next === undefined) return undefined
    const { lease: _, ...run } = next.run
    const before: RunSummary = next.started
      ? { ...run, status: "queued" }
      : { ...run, ...(next.previousOwner === undefined ? {} : { lease: { owner: next.previousOwner, expiresAt: "" } }) }
    yield* flow.audit.append(claimEvents(flow, before, next.run))
    return next.run
  }))
})

/** Renews the lease while the run executes; a lease taken over ends the execution. */
const heartbeat = (flow: Flow, holder: LeaseHolder) =>
  flow.repo.renewLease(holder, flow.leaseMillis).pipe(
    Effect.catchTag("RepositoryError", () => Effect.void),
    Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1, Math.floor(flow.leaseMillis / 3))))),
    Effect.zipRight(Effect.never)
  )

/**
 * Carries `body` out under the run's lease: renewed while it runs, a typed failure recorded on the run
 * (`failed`), the lease given back at the end, with when the run's next check is due when `body` left
 * orders working.
 */
export const underLease = <A extends { readonly working: number }>(
  flow: Flow,
  claimed: TradeRun,
  dryRun: boolean,
  body: (holder: LeaseHolder) => Effect.Effect<A, RunFailure | LeaseLost | RepositoryError>
): Effect.Effect<A | undefined, LeaseLost | RepositoryError> => {
  const holder: LeaseHolder = { runId: claimed.id as RunId, owner: flow.workerId }
  let nextCheckAt: string | undefined
  return Effect.raceFirst(body(holder), heartbeat(flow, holder)).pipe(
    Effect.tap((result) =>
      result.working === 0 ? Effect.void : Effect.map(Clock.currentTimeMillis, (now) => {
        nextCheckAt = new Date(now + Duration.toMillis(flow.followInterval)).toISOString()
      })
    ),
    Effect.catchIf(isRunFailure, (error) => Effect.as(failRun(flow, { holder, error, dryRun }), undefined)),
    Effect.ensuring(Effect.suspend(() => Effect.ignore(flow.repo.releaseLease(holder, nextCheckAt)))),
    // Stopped (a signal, a host shutting down): the run is resumable, and whoever stopped it is told which.
    Effect.onInterrupt(() =>
      Effect.logWarning("trade run interrupted; execute it again to resume").pipe(Effect.annotateLogs({ runId: claimed.id, dryRun }))
    )
  )
}
