/**
 * `AuditLog` on `@effect/sql`. Appending locks the chain's head row (`audit_head`) for the rest of the
 * transaction, so writers in several processes chain one after another, and the events commit (or roll
 * back) with the state changes they describe. `verify` walks the chain a page at a time and also checks
 * the last event against the head row, which catches events cut from the end.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { AuditLog, type AuditVerification, chainRows, chainStart, nowIso, verifyChain } from "../../src/ports/AuditLog.js"
import type { RepositoryError } from "../../src/ports/errors.js"
import * as Bulk from "./bulk.js"
import * as Rows from "./rows.js"
import { repositoryError, transactionOf } from "./support.js"

const PAGE = 5000

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
    let after = 0
    while (state.ok) {
      const rows = yield* sql<Rows.AuditRow>`SELECT * FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT ${PAGE}`
      if (rows.length === 0) break
      state = verifyChain(rows.map(Rows.auditFromRow), state)
      after = Number(rows.at(-1)!.seq)
    }
    if (!state.ok) return state
    const [head] = yield* sql<{ seq: number; hash: string }>`SELECT seq, hash FROM audit_head WHERE id = 1`
    if (head !== undefined && (Number(head.seq) !== state.events || head.hash !== state.head)) {
      return {
        ok: false,
        events: state.events,
        head: state.head,
        broken: {
          seq: state.events + 1,
          reason: `the log ends at #${state.events} but its head records #${head.seq}: events were removed from the end`
        }
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
