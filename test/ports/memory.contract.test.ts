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
