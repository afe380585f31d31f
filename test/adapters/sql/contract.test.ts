import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgLive, SqliteLive, type Storage } from "../../../adapters/sql/layers.js"
import { repositoryContract, Tamper } from "../../contract/repository.contract.js"
import { describePg, freshSchema, pgAvailable } from "../../support/postgres.js"

/** Corrupts rows behind the adapter's back, through the same SqlClient. */
const tamper = Layer.effect(
  Tamper,
  Effect.map(SqlClient.SqlClient, (sql) =>
    Tamper.of({
      auditEvent: (seq) => sql`UPDATE audit_events SET payload = '{"tampered":true}' WHERE seq = ${seq}`,
      snapshotItems: (id) => sql`UPDATE snapshot_items SET weight = '0.999' WHERE snapshot_id = ${id}`
    }))
)

const withTamper = (storage: Layer.Layer<Storage, unknown>) => Layer.provideMerge(tamper, storage)

const dir = mkdtempSync(join(tmpdir(), "trade-exec-contract-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

repositoryContract("TradeRepository + AuditLog contract: SQLite file", withTamper(SqliteLive({ filename: join(dir, "contract.db") })))

const schema = pgAvailable || process.env.CI ? await freshSchema("contract") : undefined
if (schema !== undefined) afterAll(() => schema.drop())
describePg("PostgreSQL", () => {
  repositoryContract("TradeRepository + AuditLog contract: PostgreSQL", withTamper(PgLive({ url: schema?.url ?? "postgres://unreachable" })))
})
