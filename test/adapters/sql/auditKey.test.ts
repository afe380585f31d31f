/**
 * The audit chain's key and its head kept elsewhere, on a real SQLite file and on PostgreSQL: a keyed chain
 * is verified only with its key, a rewrite by someone who can write the database but has no key is caught,
 * a chain of an older version stays verifiable and is keyed from the next event once a key is given, and a
 * head kept elsewhere catches what an unkeyed chain cannot (a rewrite with every later hash recomputed,
 * events cut from the end).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgLive, SqliteLive } from "../../../adapters/sql/layers.js"
import { migrate } from "../../../adapters/sql/migrations.js"
import { type AuditRow, auditFromRow } from "../../../adapters/sql/rows.js"
import { canonicalJson } from "../../../src/Digest.js"
import { AuditLog, chainRows, GENESIS_HASH, hashOf } from "../../../src/ports/AuditLog.js"
import { describePg, freshSchema } from "../../support/postgres.js"

const KEY = Redacted.make("6f1c2a9e0b7d4e3f8a5c6b1d2e9f0a7b")
const OTHER_KEY = Redacted.make("0000000000000000000000000000000000000000")

const events = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ type: "order.filled", runId: "run_1", payload: { n: from + i, quantity: "52" } }))

/**
 * What someone who can write the database, but has no key, can do: edit event `seq`, then recompute every
 * later hash with a bare sha-256 and move the head along; with `stripKey`, also wipe the head's record of
 * the key and rehash every event, so that the chain looks like one that never had a key.
 */
const rewrite = (seq: number, payload: unknown, options: { readonly stripKey?: boolean } = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<AuditRow>`SELECT * FROM audit_events ORDER BY seq`
    // Without the key on record, the whole chain is rehashed bare, the keyed events before `seq` too.
    const from = options.stripKey === true ? 1 : seq
    let prevHash = rows.find((r) => Number(r.seq) === from - 1)?.hash ?? GENESIS_HASH
    for (const row of rows.filter((r) => Number(r.seq) >= from)) {
      const event = { ...auditFromRow(row), prevHash, ...(Number(row.seq) === seq ? { payload } : {}) }
      const hash = hashOf(event)
      yield* sql`UPDATE audit_events SET payload = ${canonicalJson(event.payload)}, prev_hash = ${prevHash}, hash = ${hash} WHERE seq = ${row.seq}`
      prevHash = hash
    }
    yield* sql`UPDATE audit_head SET hash = ${prevHash} WHERE id = 1`
    if (options.stripKey === true) yield* sql`UPDATE audit_head SET keyed_from = NULL, key_check = NULL WHERE id = 1`
  })

/** Cuts the chain after `seq` and moves the head back to it, as someone who can write the database can. */
const truncate = (seq: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [last] = yield* sql<{ hash: string }>`SELECT hash FROM audit_events WHERE seq = ${seq}`
    yield* sql`DELETE FROM audit_events WHERE seq > ${seq}`
    yield* sql`UPDATE audit_head SET seq = ${seq}, hash = ${last!.hash} WHERE id = 1`
  })

/** Events written as the version before keys wrote them: its schema, a bare sha-256 chain, its head row. */
const olderVersionChain = (n: number) =>
  Effect.gen(function*() {
    yield* migrate(7)
    const sql = yield* SqlClient.SqlClient
    const rows = chainRows({ seq: 0, hash: GENESIS_HASH }, "2026-11-01T09:00:00.000Z", events(n))
    for (const r of rows) {
      yield* sql`INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash)
        VALUES (${r.seq}, ${r.at}, ${r.type}, ${r.runId ?? null}, ${r.payloadText}, ${r.prevHash}, ${r.hash})`
    }
    yield* sql`UPDATE audit_head SET seq = ${n}, hash = ${rows.at(-1)!.hash} WHERE id = 1`
  })

type Database = {
  /** The storage, its chain keyed with `key` (none when absent). */
  readonly open: (key?: Redacted.Redacted<string>) => Layer.Layer<AuditLog | SqlClient.SqlClient, unknown>
  /** A client on the database that applies no migration. */
  readonly raw: Layer.Layer<SqlClient.SqlClient, unknown>
}

const keyedChainSpec = (name: string, database: () => Promise<Database>) =>
  describe(name, () => {
    it.effect("keys a new chain from its first event; without the key, or with another, it is neither verified nor appended to, and says why", () =>
      Effect.gen(function*() {
        const db = yield* Effect.promise(database)
        const verified = yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          yield* audit.append(events(3))
          expect(yield* audit.head).toMatchObject({ seq: 3, keyedFrom: 1 })
          return yield* audit.verify
        }).pipe(Effect.provide(db.open(KEY)))
        expect(verified).toMatchObject({ ok: true, events: 3, keyedFrom: 1 })

        yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          const withoutKey = yield* audit.verify
          expect(withoutKey).toMatchObject({ ok: false, keyProblem: "missing" })
          expect(withoutKey.broken?.reason).toContain("a key is needed")
          expect(yield* Effect.flip(audit.checkKey)).toMatchObject({ _tag: "AuditKeyMismatch", problem: "missing", keyedFrom: 1 })
          const refused = yield* Effect.flip(audit.append(events(1, 4)))
          expect(refused.message).toContain("a key is needed")
        }).pipe(Effect.provide(db.open()))

        yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          const otherKey = yield* audit.verify
          expect(otherKey).toMatchObject({ ok: false, keyProblem: "differs" })
          expect(otherKey.broken?.reason).toContain("TRADE_EXEC_AUDIT_KEY differs")
          expect(yield* Effect.flip(audit.checkKey)).toMatchObject({ problem: "differs" })
          expect((yield* Effect.flip(audit.append(events(1, 4)))).message).toContain("differs")
          // Nothing was appended by the refused writers.
          expect((yield* audit.head).seq).toBe(3)
        }).pipe(Effect.provide(db.open(OTHER_KEY)))
      }))

    it.effect("catches an event rewritten, every later hash and the head recomputed, by someone without the key", () =>
      Effect.gen(function*() {
        const db = yield* Effect.promise(database)
        yield* Effect.flatMap(AuditLog, (audit) => audit.append(events(4))).pipe(Effect.provide(db.open(KEY)))
        yield* rewrite(2, { n: 2, quantity: "1" }).pipe(Effect.provide(db.raw))
        const verified = yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open(KEY)))
        expect(verified).toMatchObject({ ok: false, events: 1, broken: { seq: 2 } })
        expect(verified.broken?.reason).toContain("altered")

        // Wiping the head's record of the key as well: whoever verifies with the key is told the chain has none...
        yield* rewrite(2, { n: 2, quantity: "1" }, { stripKey: true }).pipe(Effect.provide(db.raw))
        const stripped = yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open(KEY)))
        expect(stripped).toMatchObject({ ok: false, keyProblem: "unkeyed" })
        // ...while a verifier without the key cannot tell it from a chain that never had one: the key protects
        // only those who verify with it (README, "Audit verification").
        const blind = yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open()))
        expect(blind).toMatchObject({ ok: true, events: 4 })
      }))

    it.effect("keeps a chain of the version before keys verifiable, and keys it from the next event once a key is given", () =>
      Effect.gen(function*() {
        const db = yield* Effect.promise(database)
        yield* olderVersionChain(3).pipe(Effect.provide(db.raw))
        expect(yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open())))
          .toMatchObject({ ok: true, events: 3 })

        const keyed = yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          yield* audit.append(events(2, 4))
          return yield* audit.verify
        }).pipe(Effect.provide(db.open(KEY)))
        expect(keyed).toMatchObject({ ok: true, events: 5, keyedFrom: 4 })
        expect((yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open()))).keyProblem).toBe("missing")

        // The unkeyed events are anchored by the first keyed one, whose hash covers theirs.
        yield* rewrite(2, { n: 2, quantity: "1" }).pipe(Effect.provide(db.raw))
        const rewritten = yield* Effect.flatMap(AuditLog, (audit) => audit.verify).pipe(Effect.provide(db.open(KEY)))
        expect(rewritten).toMatchObject({ ok: false, broken: { seq: 4 } })
      }))

    it.effect("holds an unkeyed chain to a head kept elsewhere: a rewrite with every hash recomputed, and events cut from the end", () =>
      Effect.gen(function*() {
        const db = yield* Effect.promise(database)
        const kept = yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          yield* audit.append(events(3))
          const head = yield* audit.head
          yield* audit.append(events(2, 4))
          // The chain has grown since: it still holds the head kept.
          expect(yield* audit.verifyWith({ expectHead: head })).toMatchObject({ ok: true, events: 5 })
          expect(yield* audit.verifyWith({ expectHead: { seq: 0, hash: GENESIS_HASH } })).toMatchObject({ ok: true })
          return head
        }).pipe(Effect.provide(db.open()))

        yield* rewrite(2, { n: 2, quantity: "1" }).pipe(Effect.provide(db.raw))
        const rewritten = yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          // Without a key or a head kept elsewhere the rewrite goes unseen...
          expect(yield* audit.verify).toMatchObject({ ok: true, events: 5 })
          return yield* audit.verifyWith({ expectHead: kept })
        }).pipe(Effect.provide(db.open()))
        // ...with one it does not.
        expect(rewritten).toMatchObject({ ok: false, broken: { seq: 3 } })
        expect(rewritten.broken?.reason).toContain("rewritten")

        yield* truncate(2).pipe(Effect.provide(db.raw))
        const cut = yield* Effect.gen(function*() {
          const audit = yield* AuditLog
          expect(yield* audit.verify).toMatchObject({ ok: true, events: 2 })
          return yield* audit.verifyWith({ expectHead: kept })
        }).pipe(Effect.provide(db.open()))
        expect(cut).toMatchObject({ ok: false, broken: { seq: 3 } })
        expect(cut.broken?.reason).toContain("removed from the end")
      }))
  })

const dir = mkdtempSync(join(tmpdir(), "trade-exec-audit-key-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

keyedChainSpec("the audit chain's key on a SQLite file", async () => {
  const filename = join(dir, `chain-${++files}.db`)
  return {
    open: (key) => SqliteLive({ filename, auditKey: key }),
    raw: SqliteClient.layer({ filename }).pipe(Layer.provide(Reactivity.layer))
  }
})

const schemas: Array<{ readonly drop: () => Promise<void> }> = []
afterAll(() => Promise.all(schemas.map((s) => s.drop())))
describePg("PostgreSQL", () => {
  keyedChainSpec("the audit chain's key on PostgreSQL", async () => {
    const schema = await freshSchema("auditkey")
    schemas.push(schema)
    return {
      open: (key) => PgLive({ url: schema.url, auditKey: key }),
      raw: PgClient.layer({ url: Redacted.make(schema.url) }).pipe(Layer.provide(Reactivity.layer))
    }
  })
})

describe("the audit chain's key in memory", () => {
  it.effect("keys the chain and catches an event rewritten with every later hash recomputed without the key", () =>
    Effect.gen(function*() {
      const { service: audit, events: stored } = yield* AuditLog.makeMemoryWith({ key: KEY })
      yield* audit.append(events(3))
      expect(yield* audit.verify).toMatchObject({ ok: true, events: 3, keyedFrom: 1 })
      let prevHash = stored[0]!.hash
      for (let i = 1; i < stored.length; i++) {
        const event = { ...stored[i]!, prevHash, ...(i === 1 ? { payload: { n: 2, quantity: "1" } } : {}) }
        stored[i] = { ...event, hash: hashOf(event) }
        prevHash = stored[i]!.hash
      }
      expect(yield* audit.verify).toMatchObject({ ok: false, broken: { seq: 2 } })
    }))
})

