import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, SnapshotId } from "../../src/domain/Ids.js"
import { tradeOrder } from "../../src/domain/Order.js"
import type { BuilderSettings, TradeRun } from "../../src/domain/Run.js"
import * as OrderBuilder from "../../src/OrderBuilder.js"
import { snapshotDigest } from "../../src/ports/TradeRepository.js"
import * as Replay from "../../src/Replay.js"
import { findCollidingSymbols, PREFIX } from "../support/collidingSymbols.js"
import * as Scheme1 from "../support/reference/ClientOrderId.js"
import { item } from "../support/world.js"

const [first, second] = findCollidingSymbols()
const id = (symbol: string, scheme?: ClientOrderId.Scheme) =>
  ClientOrderId.derive({ runId: "run_123", symbol, side: "BUY", modelVersion: "m1", scheme })

/** Two long symbols of the pair, each half of a portfolio. */
const pairBuild = (scheme?: ClientOrderId.Scheme) =>
  OrderBuilder.build({
    runId: "run_123",
    items: [{ symbol: first, weight: "0.4" }, { symbol: second, weight: "0.4" }],
    prices: [{ symbol: first, price: "10" }, { symbol: second, price: "10" }],
    portfolioValue: "1000",
    modelVersion: "m1",
    ...(scheme === undefined ? {} : { clientOrderIdScheme: scheme })
  })

describe("ClientOrderId, scheme 2", () => {
  it("takes two valid symbols that share 12 characters and a 32-bit FNV-1a value, which scheme 1 gave one id", () => {
    expect([first.slice(0, 12), second.slice(0, 12)]).toEqual([PREFIX, PREFIX])
    expect(first).not.toBe(second)
    expect(first).toMatch(/^[A-Z0-9]{18}$/)
    // One id under scheme 1, as kept here and as the version before derived it.
    expect(id(first, 1)).toBe(id(second, 1))
    expect(Scheme1.derive({ runId: "run_123", symbol: first, side: "BUY", modelVersion: "m1" }))
      .toBe(Scheme1.derive({ runId: "run_123", symbol: second, side: "BUY", modelVersion: "m1" }))
    expect(id(first, 1)).toBe(Scheme1.derive({ runId: "run_123", symbol: first, side: "BUY", modelVersion: "m1" }))
  })

  it("gives them distinct ids of at most 40 characters an IB orderRef and a LEAN Tag take", () => {
    expect(id(first)).not.toBe(id(second))
    for (const symbol of [first, second]) {
      expect(id(symbol).length).toBeLessThanOrEqual(40)
      expect(id(symbol)).toMatch(/^[A-Za-z0-9._-]{1,40}$/)
    }
  })

  it("writes a plain symbol of up to 13 characters whole, with 96 bits over the run; any other with 96 bits over the whole input", () => {
    // Pinned: a run built by this version is replayed with exactly these ids by the next. The digests are
    // sha-256 of ["run_123","m1"] and of ["run_123","m1","BRK/B","BUY"] (and so on), their first 24 digits.
    expect(id("AAA")).toBe("AAA-B-5dfd95049761aee3f7d4c343")
    expect(ClientOrderId.derive({ runId: "run_123", symbol: "AAA", side: "SELL", modelVersion: "m1" })).toBe("AAA-S-5dfd95049761aee3f7d4c343")
    expect(id("ABCDEFGHIJKLM")).toBe("ABCDEFGHIJKLM-B-5dfd95049761aee3f7d4c343")
    expect(id("BRK/B")).toBe("BRK_B-B-c28cc36c22033715e4f7d547")
    expect(id("BRK B")).toBe("BRK_B-B-1f1f2e65480400e44f7eb80f")
    expect(id("VERYLONGSYMBOLNAME123")).toBe("VERYLONGSYMBO-B-491af0d78fa66b3b356d20bd")
    // The run's digest begins as scheme 1's did: a broker's orders of one run still share it.
    expect(id("AAA")).toContain(id("AAA", 1).slice(6, 18))
    // Ids of a symbol of 32 characters, the longest, still fit.
    expect(id("A".repeat(32)).length).toBe(40)
  })

  it("refuses a build whose orders would share an id: a typed failure naming both symbols", () => {
    const refused = pairBuild(1)
    expect(Either.isLeft(refused)).toBe(true)
    const error = Either.getLeft(refused).pipe((o) => (o._tag === "Some" ? o.value : undefined))
    expect(error).toMatchObject({ _tag: "ClientOrderIdCollision", runId: "run_123", clientOrderId: id(first, 1), symbols: [first, second].sort(), scheme: 1 })
    expect(error?.message).toContain(`${[first, second].sort().join(" and ")} would share the client order id`)
    // The current scheme builds both.
    const built = Either.getOrThrow(pairBuild())
    expect(built.orders.map((o) => o.clientOrderId)).toEqual([first, second].sort().map((symbol) => id(symbol)))
    expect(built.plan.settings.clientOrderIdScheme).toBe(2)
  })

  it("replays a run whose record names no scheme with the ids scheme 1 derived", () => {
    const built = Either.getOrThrow(OrderBuilder.build({
      runId: "run_v1",
      items: [item("AAA", "0.2"), item("VERYLONGSYMBOLNAME123", "0.2")],
      prices: [{ symbol: "AAA", price: "10" }, { symbol: "VERYLONGSYMBOLNAME123", price: "10" }],
      portfolioValue: "1000",
      clientOrderIdScheme: 1
    }))
    const { clientOrderIdScheme: _, ...settingsOfOldRecord } = built.plan.settings
    const items = built.plan.items
    const now = "2026-11-25T14:30:00.000Z"
    const run: TradeRun = {
      id: "run_v1" as RunId,
      snapshotId: "snap_v1" as SnapshotId,
      status: "queued",
      mode: "paper",
      params: {},
      recorded: { settings: settingsOfOldRecord, prices: [], positions: [], securities: [], skipped: [], builtAt: now },
      attempts: 0,
      createdAt: now,
      updatedAt: now
    }
    const recordedPrices = [...built.plan.prices].map(([symbol, price]) => ({ symbol, price }))
    const orders = built.orders.map((o) =>
      tradeOrder(o, { runId: run.id, status: "NEW", filledQuantity: Dec.ZERO, commission: Dec.ZERO, createdAt: now, updatedAt: now }))
    const replayWith = (settings: BuilderSettings) =>
      Replay.compare({
        run: { ...run, recorded: { ...run.recorded!, settings, prices: recordedPrices } },
        snapshot: { id: run.snapshotId, status: "success", digest: snapshotDigest(items), items, frozenAt: now, createdAt: now },
        orders,
        fills: [],
        events: []
      })
    expect(orders.map((o) => o.clientOrderId)).toEqual(["AAA", "VERYLONGSYMBOLNAME123"].map((symbol) =>
      ClientOrderId.derive({ runId: "run_v1", symbol, side: "BUY", modelVersion: "default", scheme: 1 })))
    const replay = replayWith(settingsOfOldRecord)
    // Rebuilt with the current scheme instead, no id would be found again.
    expect(replayWith({ ...settingsOfOldRecord, clientOrderIdScheme: 2 }).ordersMatch).toBe(false)
    expect(replay).toMatchObject({ replayable: true, ordersMatch: true, differences: [] })
  })
})
