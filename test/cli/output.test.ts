/**
 * The report for people, at the size of the largest runs: every order on its own line, in aligned columns.
 */
import { describe, expect, it } from "@effect/vitest"
import { renderRun } from "../../adapters/cli/output.js"
import * as ClientOrderId from "../../src/ClientOrderId.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, SnapshotId, Symbol } from "../../src/domain/Ids.js"
import type { TradeOrder } from "../../src/domain/Order.js"
import type { RunReport } from "../../src/TradeRunner.js"

const AT = "2026-11-25T14:30:00.000Z"

const reportOf = (n: number): RunReport => {
  const runId = "run_large" as RunId
  const orders = Array.from({ length: n }, (_, i): TradeOrder => {
    const symbol = `S${String(i).padStart(6, "0")}` as Symbol
    const quantity = Dec.unsafe(1 + (i % 1000))
    return {
      clientOrderId: ClientOrderId.derive({ runId, symbol, side: "BUY", modelVersion: "m" }),
      symbol,
      side: "BUY",
      quantity,
      orderType: "MKT",
      referencePrice: Dec.unsafe("12.5"),
      currentQuantity: Dec.ZERO,
      targetQuantity: quantity,
      targetWeight: Dec.unsafe("0.000005"),
      runId,
      status: "NEW",
      filledQuantity: Dec.ZERO,
      commission: Dec.ZERO,
      createdAt: AT,
      updatedAt: AT
    }
  })
  return {
    run: {
      id: runId,
      snapshotId: "snap_large" as SnapshotId,
      status: "queued",
      mode: "paper",
      params: { portfolioValue: Dec.unsafe("1e9") },
      attempts: 0,
      createdAt: AT,
      updatedAt: AT
    },
    orders,
    fills: [],
    skipped: []
  }
}

describe("the report for people", () => {
  it("renders a run of 200,000 orders, one aligned line each", () => {
    // The column widths were a spread of one argument per order: past ~130,000 orders the stack overflowed.
    const lines = renderRun(reportOf(200_000)).split("\n")
    const header = lines.indexOf("SYMBOL   SIDE  QUANTITY  REF PRICE   NOTIONAL  STATUS  FILLED  AVG PRICE")
    expect(header, lines.slice(0, 4).join("\n")).toBeGreaterThan(0)
    const rows = lines.slice(header + 1)
    expect(rows).toHaveLength(200_000)
    expect(rows[0]).toBe("S000000  BUY          1       12.5      12.50  NEW          0")
    expect(rows[999]).toBe("S000999  BUY       1000       12.5  12,500.00  NEW          0")
  })
})
