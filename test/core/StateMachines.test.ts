import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import { OrderStatus } from "../../src/domain/Order.js"
import { RunStatus } from "../../src/domain/Run.js"
import * as OrderState from "../../src/OrderState.js"
import * as RunState from "../../src/RunState.js"

const pairs = <S extends string>(states: ReadonlyArray<S>) => states.flatMap((from) => states.map((to) => [from, to] as const))

describe("TradeRun state machine", () => {
  // queued → done: a queued run canceled before it started
  const legal = new Set(["queued→running", "queued→failed", "queued→done", "running→done", "running→failed", "running→blocked"])
  const all = pairs(RunStatus.literals)

  it.each(all.filter(([f, t]) => legal.has(`${f}→${t}`)))("allows %s → %s", (from, to) => {
    expect(RunState.transition("run-1", from, to)).toEqual(Either.right(to))
  })

  it.each(all.filter(([f, t]) => !legal.has(`${f}→${t}`)))("refuses %s → %s with a typed error", (from, to) => {
    const result = RunState.transition("run-1", from, to)
    if (Either.isRight(result)) throw new Error(`${from} → ${to} was allowed`)
    expect(result.left).toMatchObject({ _tag: "IllegalTransition", entity: "run", id: "run-1", from, to })
    expect(result.left.message).toBe(`illegal run transition ${from} → ${to} for run-1`)
  })

  it("has exactly done, failed and blocked as terminal states", () => {
    expect(RunStatus.literals.filter(RunState.isTerminal)).toEqual(["done", "failed", "blocked"])
  })
})

describe("TradeOrder state machine", () => {
  const legal = new Set([
    "NEW→SUBMITTED", "NEW→REJECTED", "NEW→CANCELED",
    "SUBMITTED→PARTIAL", "SUBMITTED→FILLED", "SUBMITTED→CANCELED", "SUBMITTED→REJECTED",
    "PARTIAL→PARTIAL", "PARTIAL→FILLED", "PARTIAL→CANCELED"
  ])
  const all = pairs(OrderStatus.literals)

  it.each(all.filter(([f, t]) => legal.has(`${f}→${t}`)))("allows %s → %s", (from, to) => {
    expect(OrderState.transition("AAA-B-1", from, to)).toEqual(Either.right(to))
  })

  it.each(all.filter(([f, t]) => !legal.has(`${f}→${t}`)))("refuses %s → %s with a typed error", (from, to) => {
    const result = OrderState.transition("AAA-B-1", from, to)
    expect(Either.isLeft(result)).toBe(true)
    expect(result).toMatchObject({ left: { _tag: "IllegalTransition", entity: "order", from, to } })
  })

  it("never mutates a terminal order", () => {
    for (const terminal of ["FILLED", "CANCELED", "REJECTED"] as const) {
      expect(OrderState.isTerminal(terminal)).toBe(true)
      for (const to of OrderStatus.literals) expect(OrderState.canTransition(terminal, to)).toBe(false)
    }
  })
})

describe("ClientOrderId", () => {
  it("is deterministic, at most 40 characters and safe for IB orderRef and LEAN Tag", () => {
    const inputs = [
      { runId: "run-1", symbol: "AAA", side: "BUY", modelVersion: "v1" },
      { runId: "0f8fad5b-d9cb-469f-a165-70867728950e", symbol: "VERYLONGSYMBOL.XYZ", side: "SELL", modelVersion: "momentum-2026.11" },
      { runId: "r", symbol: "BRK/B", side: "BUY", modelVersion: "m" },
      { runId: "r", symbol: "RDS A", side: "SELL", modelVersion: "m" }
    ] as const
    for (const input of inputs) {
      const id = ClientOrderId.derive(input)
      expect(id).toBe(ClientOrderId.derive({ ...input }))
      expect(id.length).toBeLessThanOrEqual(40)
      expect(id).toMatch(/^[A-Za-z0-9._-]+$/)
    }
  })

  it("derives under scheme 1 exactly the ids earlier versions derived, so the runs they made replay", () => {
    const id = (symbol: string, side: "BUY" | "SELL") => ClientOrderId.derive({ runId: "run_123", symbol, side, modelVersion: "m1", scheme: 1 })
    expect(id("AAA", "BUY")).toBe("AAA-B-5dfd95049761b680eb82")
    expect(id("AAA", "SELL")).toBe("AAA-S-5dfd95049761b680eb82")
    expect(id("BRK/B", "BUY")).toBe("BRK_B-B-5dfd95049761e06b9e57")
    expect(id("BRK B", "BUY")).toBe("BRK_B-B-5dfd950497619e780264")
    expect(id("BRK.B", "SELL")).toBe("BRK.B-S-5dfd95049761be692a3a")
    expect(id("VERYLONGSYMBOLNAME123", "BUY")).toBe("VERYLONGSYMB-B-5dfd95049761af9c8b9c")
  })

  it("differs when any of run, symbol, side or model version differs", () => {
    const base = { runId: "r", symbol: "AAA", side: "BUY", modelVersion: "m" } as const
    const ids = new Set([
      ClientOrderId.derive(base),
      ClientOrderId.derive({ ...base, runId: "r2" }),
      ClientOrderId.derive({ ...base, symbol: "AAB" }),
      ClientOrderId.derive({ ...base, side: "SELL" }),
      ClientOrderId.derive({ ...base, modelVersion: "m2" }),
      // symbols that sanitize to the same text still differ through the hash
      ClientOrderId.derive({ ...base, symbol: "BRK/B" }),
      ClientOrderId.derive({ ...base, symbol: "BRK B" })
    ])
    expect(ids.size).toBe(7)
  })
})
