import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgLive, SqliteLive, type Storage } from "../../../adapters/sql/layers.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { SnapshotId, Symbol } from "../../../src/domain/Ids.js"
import { TradeRepository } from "../../../src/ports/TradeRepository.js"
import { repositoryContract, Tamper } from "../../contract/repository.contract.js"
import { describePg, freshSchema, pgAvailable } from "../../support/postgres.js"

/** Corrupts rows behind the adapter's back, through the same SqlClient. */
const tamper = Layer.effect(
  Tamper,
  Effect.map(SqlClient.SqlClient, (sql) =>
    Tamper.of({
      auditEvent: (seq) => sql`UPDATE audit_events SET payload = '{"tampered":true}' WHERE seq = ${seq}`,
      insertAuditEvent: (seq, runId) =>
        sql`INSERT INTO audit_events (seq, at, type, run_id, payload, prev_hash, hash)
          VALUES (${seq}, '2026-11-25T00:00:00.000Z', 'forged', ${runId}, '{}', ${"0".repeat(64)}, ${"f".repeat(64)})`,
      removeAuditEvent: (seq) => sql`DELETE FROM audit_events WHERE seq = ${seq}`,
      snapshotItems: (id) => sql`UPDATE snapshot_items SET weight = '0.999' WHERE snapshot_id = ${id}`
    }))
)

const withTamper = (storage: Layer.Layer<Storage, unknown>) => Layer.provideMerge(tamper, storage)

const dir = mkdtempSync(join(tmpdir(), "trade-exec-contract-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

repositoryContract("TradeRepository + AuditLog contract: SQLite file", withTamper(SqliteLive({ filename: join(dir, "contract.db") })))

describe("SQLite, a synchronous driver", () => {
  /** Enough rows for several of a bulk write's turns (one every 4,096 rows). */
  const items = Array.from({ length: 20_000 }, (_, i) => ({ symbol: `S${String(i).padStart(5, "0")}` as Symbol, weight: Dec.unsafe("0.00004") }))

  it.effect("gives the host's event loop turns while one transaction writes thousands of rows", () =>
    Effect.gen(function*() {
      const repo = yield* TradeRepository
      let turns = 0
      let handle = setImmediate(function tick() {
        turns++
        handle = setImmediate(tick)
      })
      const snapshot = yield* repo.createSnapshot({ items }).pipe(Effect.ensuring(Effect.sync(() => clearImmediate(handle))))
      // A turn after every 4,096 rows of the items' insert.
      expect(turns).toBeGreaterThanOrEqual(4)
      expect((yield* repo.getSnapshot(snapshot.id)).items.map((i) => i.symbol)).toEqual(items.map((i) => i.symbol))
    }).pipe(Effect.provide(SqliteLive({ filename: join(dir, "turns.db") }))))

  it.effect("leaves nothing of such a write when it is interrupted at one of those turns", () =>
    Effect.gen(function*() {
      const repo = yield* TradeRepository
      const sql = yield* SqlClient.SqlClient
      const id = "snap_interrupted" as SnapshotId
      const fiber = yield* Effect.fork(repo.createSnapshot({ id, items }))
      // The host's turn comes while the items are being written (Ctrl-C is handled in such a turn).
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect((yield* Effect.flip(repo.getSnapshot(id)))._tag).toBe("SnapshotNotFound")
      const [left] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM snapshot_items WHERE snapshot_id = ${id}`
      expect(Number(left!.n)).toBe(0)
    }).pipe(Effect.provide(SqliteLive({ filename: join(dir, "interrupted.db") }))))
})

const schema = pgAvailable || process.env.CI ? await freshSchema("contract") : undefined
if (schema !== undefined) afterAll(() => schema.drop())
describePg("PostgreSQL", () => {
  repositoryContract("TradeRepository + AuditLog contract: PostgreSQL", withTamper(PgLive({ url: schema?.url ?? "postgres://unreachable" })))
})
