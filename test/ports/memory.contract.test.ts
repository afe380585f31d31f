import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { AuditLog } from "../../src/ports/AuditLog.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { repositoryContract, Tamper } from "../contract/repository.contract.js"
import { item } from "../support/world.js"

const memory = Layer.effectContext(Effect.gen(function*() {
  const repo = yield* TradeRepository.makeMemory
  const audit = yield* AuditLog.makeMemory
  const tamper = Tamper.of({
    auditEvent: (seq) =>
      Effect.sync(() => {
        const index = audit.events.findIndex((e) => e.seq === seq)
        audit.events[index] = { ...audit.events[index]!, payload: { tampered: true } }
      }),
    insertAuditEvent: (seq, runId) =>
      Effect.sync(() => {
        const at = audit.events.findIndex((e) => e.seq > seq)
        const forged = { seq, at: "2026-11-25T00:00:00.000Z", type: "forged", runId, payload: {}, prevHash: "0".repeat(64), hash: "f".repeat(64) }
        audit.events.splice(at === -1 ? audit.events.length : at, 0, forged)
      }),
    removeAuditEvent: (seq) => Effect.sync(() => void audit.events.splice(audit.events.findIndex((e) => e.seq === seq), 1)),
    snapshotItems: (id) =>
      Effect.sync(() => {
        const snapshot = repo.store.snapshots.get(id)!
        repo.store.snapshots.set(id, { ...snapshot, items: [item("EVIL", "1")] })
      })
  })
  return Context.make(TradeRepository, repo.service).pipe(
    Context.add(AuditLog, audit.service),
    Context.add(Tamper, tamper)
  )
}))

repositoryContract("TradeRepository + AuditLog contract: memory", memory)

describe("AuditLog in memory", () => {
  it.effect("takes the events of a very large run in one append, as the SQL logs do", () =>
    Effect.gen(function*() {
      const audit = yield* AuditLog
      const events = Array.from({ length: 200_000 }, (_, i) => ({ type: "trade_order.created", runId: "run_large", payload: { i } }))
      const receipts = yield* audit.append(events)
      expect([receipts.length, receipts[0]?.seq, receipts.at(-1)?.seq]).toEqual([200_000, 1, 200_000])
    }).pipe(Effect.provide(AuditLog.layerMemory)), 60_000)
})
