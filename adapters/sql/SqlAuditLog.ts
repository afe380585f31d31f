/**
 * `AuditLog` on `@effect/sql`. Appending locks the chain's head row (`audit_head`) for the rest of the
 * transaction, so writers in several processes chain one after another, and the events commit (or roll
 * back) with the state changes they describe. `verify` walks the chain a page at a time and also checks
 * the last event against the head row, which catches events cut from the end.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { type AuditEvent, AuditLog, type AuditVerification, chainRows, chainStart, nowIso, verifyChain } from "../../src/ports/AuditLog.js"
import type { RepositoryError } from "../../src/ports/errors.js"
import * as Bulk from "./bulk.js"
import * as Rows from "./rows.js"
import { repositoryError, transactionOf } from "./support.js"

const PAGE = 5000

/** Verifies a page of stored rows; a row whose payload is not even JSON is an altered event too. */
const verifyPage = (rows: ReadonlyArray<Rows.AuditRow>, from: AuditVerification): AuditVerification => {
  const events: Array<AuditEvent> = []
  for (const row of rows) {
    let event: AuditEvent
    try {
      event = Rows.auditFromRow(row)
    } catch {
      const before = verifyChain(events, from)
      if (!before.ok) return before
      return { ...before, ok: false, broken: { seq: Number(row.seq), reason: "its payload is not JSON: the event was altered" } }
    }
    events.push(event)
  }
  return verifyChain(events, from)
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const transaction = transactionOf(sql)
  const bulk = Bulk.make(sql)

  const append = (inputs: Parameters<AuditLog["Type"]["append"]>[0]) =>
    inputs.length === 0 ? Effect.succeed([]) : transaction(Effect.gen(function*() {
      const [head] = yield* sql<{ seq: number; hash: string }>`UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash`
      const rows = chainRows({ seq: Number(head!.seq), hash: head!.hash }, yield* nowIso, inputs)
      yield* bulk.insert("audit_events", Rows.AUDIT_COLUMNS, rows, Rows.auditValues)
      const last = rows.at(-1)!
      yield* sql`UPDATE audit_head SET seq = ${last.seq}, hash = ${last.hash} WHERE id = 1`
      // Each chained row is its own receipt (it has the seq and both hashes): no second object per event.
      return rows
    })).pipe(Effect.mapError(repositoryError("audit.append")))

  const verify: Effect.Effect<AuditVerification, RepositoryError> = Effect.gen(function*() {
    let state = chainStart
    // The first page has no lower bound: a row numbered 0 or below is read, and refused, like any other.
    let after: number | undefined
    while (state.ok) {
      const rows = after === undefined
        ? yield* sql<Rows.AuditRow>`SELECT * FROM audit_events ORDER BY seq LIMIT ${PAGE}`
        : yield* sql<Rows.AuditRow>`SELECT * FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT ${PAGE}`
      if (rows.length === 0) break
      state = verifyPage(rows, state)
      after = Number(rows.at(-1)!.seq)
    }
    if (!state.ok) return state
    const [head] = yield* sql<{ seq: number; hash: string }>`SELECT seq, hash FROM audit_head WHERE id = 1`
    if (head !== undefined && (Number(head.seq) !== state.events || head.hash !== state.head)) {
      const headSeq = Number(head.seq)
      return {
        ok: false,
        events: state.events,
        head: state.head,
        broken: headSeq > state.events
          ? {
            seq: state.events + 1,
            reason: `the log ends at #${state.events} but its head records #${headSeq}: events were removed from the end`
          }
          : headSeq < state.events
          ? {
            seq: headSeq + 1,
            reason: `the log runs to #${state.events} but its head records #${headSeq}: events were added after the head`
          }
          : { seq: headSeq, reason: "the last event's hash is not the one its head records: the head was altered" }
      }
    }
    return state
  }).pipe(Effect.catchIf((e): e is SqlError => e instanceof SqlError, (e) => Effect.fail(repositoryError("audit.verify")(e))))

  return AuditLog.of({
    append,
    list: (filter) =>
      Effect.map(
        filter?.runId === undefined
          ? sql<Rows.AuditRow>`SELECT * FROM audit_events ORDER BY seq`
          : sql<Rows.AuditRow>`SELECT * FROM audit_events WHERE run_id = ${filter.runId} ORDER BY seq`,
        (rows) => rows.map(Rows.auditFromRow)
      ).pipe(Effect.mapError(repositoryError("audit.list"))),
    verify
  })
})
