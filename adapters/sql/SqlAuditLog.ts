/**
 * `AuditLog` on `@effect/sql`. Appending locks the chain's head row (`audit_head`) for the rest of the
 * transaction, so writers in several processes chain one after another, and the events commit (or roll
 * back) with the state changes they describe. `verify` walks the chain a page at a time and also checks
 * the last event against the head row, which catches events cut from the end. The head row also records
 * whether the chain is keyed, from which event on, and the key's check value.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Either } from "effect"
import {
  type AuditEvent,
  AuditLog,
  type AuditLogOptions,
  type AuditVerification,
  chainRows,
  chainStart,
  type ChainKey,
  type ExpectedHead,
  keyForAppend,
  keyForVerify,
  refusedAppend,
  refusedFor,
  type StoredHead,
  verifyChain,
  verifyEnd
} from "../../src/ports/AuditLog.js"
import { nowIso } from "../../src/internal/nowIso.js"
import type { RepositoryError } from "../../src/ports/errors.js"
import * as Bulk from "./bulk.js"
import * as Rows from "./rows.js"
import { refail, transactionOf } from "./support.js"

const PAGE = 5000

/** Verifies a page of stored rows; a row whose payload is not even JSON is an altered event too. */
const verifyPage = (rows: ReadonlyArray<Rows.AuditRow>, from: AuditVerification, keyed: ChainKey | undefined): AuditVerification => {
  const events: Array<AuditEvent> = []
  for (const row of rows) {
    let event: AuditEvent
    try {
      event = Rows.auditFromRow(row)
    } catch {
      const before = verifyChain(events, from, keyed)
      if (!before.ok) return before
      return { ...before, ok: false, broken: { seq: Number(row.seq), reason: "its payload is not JSON: the event was altered" } }
    }
    events.push(event)
  }
  return verifyChain(events, from, keyed)
}

interface HeadRow {
  readonly seq: number
  readonly hash: string
  readonly keyed_from: number | null
  readonly key_check: string | null
}

const storedHead = (row: HeadRow): StoredHead => ({
  seq: Number(row.seq),
  hash: row.hash,
  ...(row.keyed_from === null || row.key_check === null ? {} : { keyedFrom: Number(row.keyed_from), keyCheck: row.key_check })
})

export const make = (options: AuditLogOptions = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const transaction = transactionOf(sql)
    const bulk = Bulk.make(sql)

    const readHead = Effect.map(
      sql<HeadRow>`SELECT seq, hash, keyed_from, key_check FROM audit_head WHERE id = 1`,
      ([row]) => storedHead(row!)
    )

    const append = (inputs: Parameters<AuditLog["Type"]["append"]>[0]) =>
      inputs.length === 0 ? Effect.succeed([]) : transaction(Effect.gen(function*() {
        const [row] = yield* sql<HeadRow>`UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash, keyed_from, key_check`
        const head = storedHead(row!)
        const { key, keying } = yield* Effect.mapError(keyForAppend(head, options.key), refusedAppend)
        const rows = chainRows(head, yield* nowIso, inputs, key)
        yield* bulk.insert("audit_events", Rows.AUDIT_COLUMNS, rows, Rows.auditValues)
        const last = rows.at(-1)!
        yield* keying === undefined
          ? sql`UPDATE audit_head SET seq = ${last.seq}, hash = ${last.hash} WHERE id = 1`
          : sql`UPDATE audit_head SET seq = ${last.seq}, hash = ${last.hash}, keyed_from = ${keying.keyedFrom}, key_check = ${keying.keyCheck} WHERE id = 1`
        // Each chained row is its own receipt (it has the seq and both hashes): no second object per event.
        return rows
      })).pipe(refail("audit.append"))

    const verifyWith = (verifyOptions: { readonly expectHead?: ExpectedHead }): Effect.Effect<AuditVerification, RepositoryError> =>
      Effect.gen(function*() {
        const head = yield* readHead
        const keyed = keyForVerify(head, options.key)
        if (Either.isLeft(keyed)) return refusedFor(keyed.left)
        let state = chainStart
        // The first page has no lower bound: a row numbered 0 or below is read, and refused, like any other.
        let after: number | undefined
        while (state.ok) {
          const rows = after === undefined
            ? yield* sql<Rows.AuditRow>`SELECT * FROM audit_events ORDER BY seq LIMIT ${PAGE}`
            : yield* sql<Rows.AuditRow>`SELECT * FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT ${PAGE}`
          if (rows.length === 0) break
          state = verifyPage(rows, state, keyed.right)
          after = Number(rows.at(-1)!.seq)
        }
        const expected = verifyOptions.expectHead
        if (expected === undefined || !state.ok) return verifyEnd(state, head)
        const [at] = yield* sql<{ hash: string }>`SELECT hash FROM audit_events WHERE seq = ${expected.seq}`
        return verifyEnd(state, head, { head: expected, hashAt: at?.hash })
      }).pipe(refail("audit.verify"))

    return AuditLog.of({
      append,
      list: (filter) =>
        Effect.map(
          filter?.runId === undefined
            ? sql<Rows.AuditRow>`SELECT * FROM audit_events ORDER BY seq`
            : sql<Rows.AuditRow>`SELECT * FROM audit_events WHERE run_id = ${filter.runId} ORDER BY seq`,
          (rows) => rows.map(Rows.auditFromRow)
        ).pipe(refail("audit.list")),
      verify: verifyWith({}),
      verifyWith,
      head: Effect.map(readHead, ({ keyCheck: _, ...head }) => head).pipe(refail("audit.head")),
      checkKey: Effect.flatMap(refail("audit.head")(readHead), (head) => Effect.asVoid(keyForAppend(head, options.key)))
    })
  })
