/**
 * Client order ids in a run on a real SQLite file: the two symbols scheme 1 gave one id get two under the
 * current scheme and the run is done; a run that asks for scheme 1 fails, naming both, instead of being
 * left running (its orders could not be saved under one id, and every resume hit the same wall).
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import * as Dec from "../../src/domain/Decimal.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import { TradeRunner } from "../../src/TradeRunner.js"
import { findCollidingSymbols } from "../support/collidingSymbols.js"
import { openDatabase } from "../support/scenario.js"
import { item } from "../support/world.js"

const [first, second] = findCollidingSymbols()
const dir = mkdtempSync(join(tmpdir(), "trade-exec-ids-"))
const runtime = openDatabase(join(dir, "ids.db"))
afterAll(async () => {
  await runtime.dispose()
  rmSync(dir, { recursive: true, force: true })
})

/** A run buying both symbols of the pair, executed; the run and its orders as stored after. */
const executePair = (scheme?: ClientOrderId.Scheme) =>
  runtime.runPromise(Effect.gen(function*() {
    const repo = yield* TradeRepository
    const snapshot = yield* repo.createSnapshot({
      items: [item(first, "0.4", { price: Dec.unsafe(10) }), item(second, "0.4", { price: Dec.unsafe(10) })]
    })
    const queued = yield* repo.createRun({
      snapshotId: snapshot.id,
      params: { portfolioValue: Dec.unsafe(1000), cash: Dec.unsafe(1000), positions: [], ...(scheme === undefined ? {} : { clientOrderIdScheme: scheme }) }
    })
    const outcome = yield* (yield* TradeRunner).execute(queued.id)
    return { outcome, run: yield* repo.getRun(queued.id), orders: yield* repo.listOrders(queued.id) }
  }))

describe("client order ids of a run", () => {
  it("gives the two symbols scheme 1 could not tell apart two ids, and the run is done", async () => {
    const { run, orders } = await executePair()
    expect(run.status).toBe("done")
    expect(orders.map((o) => [o.symbol, o.status])).toEqual([[first, "FILLED"], [second, "FILLED"]].sort())
    expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(2)
    expect(run.recorded?.settings.clientOrderIdScheme).toBe(2)
  })

  it("fails a run whose orders would share an id, naming both symbols, and leaves nothing waiting", async () => {
    const { outcome, run, orders } = await executePair(1)
    expect(outcome.run.status).toBe("failed")
    expect(run.status).toBe("failed")
    expect(run.error).toContain("ClientOrderIdCollision")
    expect(run.error).toContain(`${[first, second].sort().join(" and ")} would share the client order id`)
    expect(run.lease).toBeUndefined()
    expect(orders).toEqual([])
  })
})
