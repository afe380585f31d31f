import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import * as Reports from "../../../adapters/lean/LeanReports.js"
import { decodeCommandResult, decodeOrderEvents, decodeResults, type LeanOrder } from "../../../adapters/lean/LeanResults.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { ExecutionReport } from "../../../src/domain/Execution.js"
import type { ClientOrderId } from "../../../src/domain/Ids.js"
import * as OrderState from "../../../src/OrderState.js"

const ID = "AAA-B-1" as ClientOrderId
const NOW = "2026-11-25T15:00:00.000Z"

/** One serialized order event, as LEAN's OrderEventJsonConverter writes it. */
const event = (orderEventId: number, status: string, fill: { readonly quantity: string; readonly price: string } | undefined = undefined, extra = "") =>
  `{"id":"algo-1-${orderEventId}","algorithmId":"algo","orderId":1,"orderEventId":${orderEventId},"symbol":"AAA R735QTJ8XC9X",` +
  `"symbolValue":"AAA","symbolPermtick":"AAA","time":1795618800.25,"status":"${status}",` +
  (fill === undefined ? "" : `"orderFeeAmount":1.0,"orderFeeCurrency":"USD",`) +
  `"fillPrice":${fill?.price ?? "0.0"},"fillPriceCurrency":"USD","fillQuantity":${fill?.quantity ?? "0.0"},"direction":"buy",` +
  `"isAssignment":false,"quantity":10.0${extra}}`

/** One order as the bridge writes it; `extra` adds fields (`"timeInForce":"Day"`, …). */
const order = (status: number, quantity = "10.0", extra = ""): LeanOrder => {
  const results = Either.getOrThrow(decodeResults("algo.json", `{"orders":{"1":{"type":0,"id":1,"status":${status},"quantity":${quantity},"tag":"${ID}","symbol":{"value":"AAA","id":"AAA R735QTJ8XC9X","permtick":"AAA"}${extra}}}}`))
  return results.orders[0]!
}

const reportOf = (status: number, events: ReadonlyArray<string>, extra = ""): ExecutionReport =>
  Either.getOrThrow(Reports.report(ID, [{
    algorithmId: "algo",
    order: order(status, "10.0", extra),
    events: Either.getOrThrow(decodeOrderEvents("algo-order-events.json", `[${events.join(",")}]`))
  }], NOW))

const fills = (report: ExecutionReport) =>
  report.fills.map((f) => `${f.executionId} ${f.side} ${Dec.toString(f.quantity)} @ ${Dec.toString(f.price)} fee ${Dec.toString(f.commission)} ${f.time}`)

describe("LEAN's orders and events as execution reports", () => {
  it("turns each fill event into one fill with LEAN's own event id, exact to the last digit", () => {
    const report = reportOf(3, [
      event(1, "submitted"),
      event(2, "partiallyFilled", { quantity: "4.0", price: "100.0000000000000001" }),
      event(3, "filled", { quantity: "6.0", price: "99.99" })
    ])
    expect(report.status).toBe("FILLED")
    expect(fills(report)).toEqual([
      "algo-1-2 BUY 4 @ 100.0000000000000001 fee 1 2026-11-25T15:00:00.250Z",
      "algo-1-3 BUY 6 @ 99.99 fee 1 2026-11-25T15:00:00.250Z"
    ])
  })

  it("counts a duplicated event once and puts events listed out of order back in order", () => {
    const report = reportOf(3, [
      event(3, "filled", { quantity: "6.0", price: "99.99" }),
      event(2, "partiallyFilled", { quantity: "4.0", price: "100" }),
      event(3, "filled", { quantity: "6.0", price: "99.99" }),
      event(1, "submitted"),
      event(2, "partiallyFilled", { quantity: "4.0", price: "100" })
    ])
    expect(report.status).toBe("FILLED")
    expect(report.fills.map((f) => f.executionId)).toEqual(["algo-1-2", "algo-1-3"])
  })

  it("reports a sell from a negative fill quantity as an unsigned SELL", () => {
    const events = Either.getOrThrow(decodeOrderEvents("e.json", `[${event(1, "filled", { quantity: "-10.0", price: "5" }).replace("\"buy\"", "\"sell\"")}]`))
    const report = Either.getOrThrow(Reports.report(ID, [{ algorithmId: "algo", order: order(3, "-10.0"), events }], NOW))
    expect(fills(report)).toEqual(["algo-1-1 SELL 10 @ 5 fee 1 2026-11-25T15:00:00.250Z"])
    expect(report.status).toBe("FILLED")
  })

  it("does not say FILLED while the fill events behind it are not written yet", () => {
    // The orders file already says Filled (3); the events file still only has the submission.
    expect(reportOf(3, [event(1, "submitted")]).status).toBe("SUBMITTED")
    expect(reportOf(3, [event(1, "submitted"), event(2, "partiallyFilled", { quantity: "4.0", price: "100" })]).status).toBe("PARTIAL")
  })

  it("does not say CANCELED while the orders file is ahead of the events file: the last events may be fills", () => {
    // LEAN sets Canceled (5) on the order before it raises the event; the events file has not caught up.
    expect(reportOf(5, [event(1, "submitted")]).status).toBe("SUBMITTED")
    const partial = reportOf(5, [event(1, "submitted"), event(2, "partiallyFilled", { quantity: "4.0", price: "100" })])
    expect([partial.status, partial.fills.length]).toEqual(["PARTIAL", 1])
    expect(reportOf(5, []).status).toBe("SUBMITTED")
  })

  it("says FILLED and CANCELED only when the newest event says so itself", () => {
    // All fills written, but the event that closes the order is not: still working.
    expect(reportOf(3, [event(1, "submitted"), event(2, "partiallyFilled", { quantity: "10.0", price: "100" })]).status).toBe("PARTIAL")
    expect(reportOf(3, [event(1, "submitted"), event(2, "filled", { quantity: "10.0", price: "100" })]).status).toBe("FILLED")
    expect(reportOf(5, [event(1, "submitted"), event(2, "canceled")]).status).toBe("CANCELED")
  })

  it("says FILLED and CANCELED across an event id LEAN numbered but never raised (status None)", () => {
    // An Interactive Brokers order gone Inactive: LEAN gives the None event an id and never writes it.
    expect(reportOf(3, [event(1, "submitted"), event(3, "filled", { quantity: "10.0", price: "100" })]).status).toBe("FILLED")
    expect(reportOf(5, [event(1, "submitted"), event(3, "canceled")]).status).toBe("CANCELED")
    const canceled = reportOf(5, [event(1, "submitted"), event(2, "partiallyFilled", { quantity: "4.0", price: "100" }), event(4, "canceled", undefined, `,"message":"user asked"`)])
    expect([canceled.status, canceled.rejectReason, canceled.fills.length]).toEqual(["CANCELED", "user asked", 1])
  })

  it("waits for LEAN's order status to agree when the events file is read ahead of the orders file", () => {
    // The bridge writes both on every event; a reader between the two files sees the events one event ahead.
    const ahead = reportOf(1, [event(1, "submitted"), event(2, "filled", { quantity: "10.0", price: "100" })])
    expect([ahead.status, ahead.fills.length]).toEqual(["PARTIAL", 1])
    expect(reportOf(7, [event(1, "submitted"), event(2, "filled", { quantity: "10.0", price: "100" })]).status).toBe("PARTIAL")
  })

  it("keeps an order FILLED though an Invalid event follows, as LEAN does (an update the brokerage refused)", () => {
    const report = reportOf(3, [event(1, "submitted"), event(2, "filled", { quantity: "10.0", price: "100" }), event(3, "invalid", undefined, `,"message":"update refused"`)])
    expect([report.status, report.rejectReason]).toEqual(["FILLED", undefined])
  })

  it("reports a DAY order the venue canceled without being asked as expired, and one the venue canceled otherwise with LEAN's words", () => {
    const canceledByIb = [event(1, "submitted"), event(2, "canceled", undefined, `,"message":"Interactive Brokers Order Event"`)]
    // Interactive Brokers cancels a DAY order at the close without a reason.
    expect(reportOf(5, canceledByIb, `,"timeInForce":"Day","cancelRequested":false`).rejectReason).toBe("expired")
    // Canceled on request: the caller's reason applies, not IB's word-less confirmation.
    expect(reportOf(5, canceledByIb, `,"timeInForce":"Day","cancelRequested":true`).rejectReason).toBeUndefined()
    expect(reportOf(5, canceledByIb, `,"timeInForce":"GoodTilCanceled","cancelRequested":false`).rejectReason).toBe("Interactive Brokers Order Event")
    // LEAN's paper brokerage says so; results without the bridge's fields are read by that alone.
    const paper = reportOf(5, [event(1, "submitted"), event(2, "canceled", undefined, `,"message":"The order has expired."`)])
    expect([paper.status, paper.rejectReason]).toEqual(["CANCELED", "expired"])
    expect(reportOf(5, canceledByIb).rejectReason).toBe("Interactive Brokers Order Event")
  })

  it("reports an Invalid order as REJECTED with LEAN's message", () => {
    const message = "Order Error: ids: [1], Insufficient buying power to complete orders"
    const report = reportOf(7, [event(1, "invalid", undefined, `,"message":"${message}"`)])
    expect([report.status, report.rejectReason, report.fills]).toEqual(["REJECTED", message, []])
    expect(reportOf(7, [event(1, "invalid")]).rejectReason).toBe("LEAN marked the order Invalid")
    // The orders file says Invalid, the event is not written yet.
    expect(reportOf(7, []).status).toBe("SUBMITTED")
  })

  it("reports an Invalid order that had already filled in part as CANCELED, keeping its fills and LEAN's message", () => {
    // PARTIAL → REJECTED is not a transition of ours: the run would fail on it.
    const message = "Brokerage rejected the rest of the order"
    const report = reportOf(7, [
      event(1, "submitted"),
      event(2, "partiallyFilled", { quantity: "4.0", price: "100" }),
      event(3, "invalid", undefined, `,"message":"${message}"`)
    ])
    expect([report.status, report.rejectReason, report.fills.map((f) => f.executionId)]).toEqual(["CANCELED", message, ["algo-1-2"]])
    expect(OrderState.canTransition("PARTIAL", report.status)).toBe(true)
  })

  it("keeps working statuses working: New, Submitted, UpdateSubmitted, CancelPending, None", () => {
    for (const status of [0, 1, 9, 8, 6]) expect(reportOf(status, [event(1, "submitted")]).status).toBe("SUBMITTED")
    expect(reportOf(8, [event(1, "submitted"), event(2, "partiallyFilled", { quantity: "1", price: "1" })]).status).toBe("PARTIAL")
  })

  it("reports every fill of an order LEAN reloaded after a restart, with the newest status, filled when all add up", () => {
    const older = {
      algorithmId: "first",
      order: order(2),
      events: Either.getOrThrow(decodeOrderEvents("e.json", `[${event(1, "submitted")},${event(2, "partiallyFilled", { quantity: "4", price: "100" })}]`))
    }
    // LEAN reloads the open order with the brokerage's full quantity; its events start afresh.
    const newer = (fill: string) => ({
      algorithmId: "second",
      order: order(3),
      events: Either.getOrThrow(decodeOrderEvents("e.json", `[${event(1, "filled", { quantity: fill, price: "101" })}]`))
    })
    const report = Either.getOrThrow(Reports.report(ID, [older, newer("6")], NOW))
    expect(report.status).toBe("FILLED")
    expect(report.fills.map((f) => f.executionId)).toEqual(["first-1-2", "second-1-1"])
    // Two more filled while LEAN was down, which no event of LEAN's tells: not FILLED, whatever LEAN says.
    expect(Either.getOrThrow(Reports.report(ID, [older, newer("4")], NOW)).status).toBe("PARTIAL")
  })

  it("refuses a fill for a ticker that is not a symbol, rather than guessing", () => {
    const events = Either.getOrThrow(decodeOrderEvents("e.json", `[${event(1, "filled", { quantity: "1", price: "1" }).replace("\"symbolValue\":\"AAA\"", "\"symbolValue\":\"?!\"")}]`))
    expect(Either.isLeft(Reports.report(ID, [{ algorithmId: "algo", order: order(3, "1"), events }], NOW))).toBe(true)
  })
})

describe("LEAN's result files", () => {
  it("reads orders, holdings and the cash book, in camelCase or Json.NET's default PascalCase", () => {
    const camel = Either.getOrThrow(decodeResults("a.json", `{"orders":{"7":{"id":7,"status":2,"quantity":-5.5,"tag":"T"}},"holdings":{"AAA":{"symbol":{"value":"AAA"},"quantity":10.0,"averagePrice":12.3456789012345678}},"cash":{"USD":{"symbol":"USD","amount":1000.000000000000000001}}}`))
    const pascal = Either.getOrThrow(decodeResults("a.json", `{"Orders":{"7":{"Id":7,"Status":2,"Quantity":-5.5,"Tag":"T"}},"Holdings":{"AAA":{"Symbol":{"Value":"AAA"},"Quantity":10.0,"AveragePrice":12.3456789012345678}},"CashBook":{"USD":{"Symbol":"USD","Amount":1000.000000000000000001}}}`))
    for (const results of [camel, pascal]) {
      expect(results.orders.map((o) => [o.id, o.tag, o.status, Option.map(o.quantity, Dec.toString)])).toEqual([[7, "T", 2, Option.some("-5.5")]])
      expect(Option.getOrThrow(results.holdings).map((h) => [h.ticker, Dec.toString(h.quantity), Option.map(h.averagePrice, Dec.toString)])).toEqual([
        ["AAA", "10", Option.some("12.3456789012345678")]
      ])
      const usd = Option.flatMap(results.cash, (cash) => Option.fromNullable(cash.get("USD")))
      expect(Option.map(usd, Dec.toString)).toEqual(Option.some("1000.000000000000000001"))
    }
  })

  it("reads older LEAN's one-letter holding keys and dashed event names", () => {
    const results = Either.getOrThrow(decodeResults("a.json", `{"holdings":{"BBB":{"q":-3,"a":7.25}}}`))
    expect(Option.getOrThrow(results.holdings).map((h) => [h.ticker, Dec.toString(h.quantity)])).toEqual([["BBB", "-3"]])
    const [old] = Either.getOrThrow(decodeOrderEvents("e.json", `[{"order-id":4,"order-event-id":2,"status":"filled","fill-quantity":2.5,"fill-price":3,"order-fee-amount":0.5}]`))
    expect([old?.orderId, old?.orderEventId, Option.getOrNull(old!.status), Dec.toString(old!.fillQuantity), Dec.toString(old!.fee)]).toEqual([4, 2, 3, "2.5", "0.5"])
  })

  it("names the file and the problem when a file is not what LEAN writes", () => {
    const broken = decodeResults("algo.json", `{"orders":{"1":{"id":1,"status":3,"tag":"T"`)
    expect(Either.getLeft(broken).pipe(Option.map((e) => e.message), Option.getOrNull)).toMatch(/^algo\.json: invalid JSON/)
    const noStatus = decodeResults("algo.json", `{"orders":{"1":{"id":1,"tag":"T"}}}`)
    expect(Either.getLeft(noStatus).pipe(Option.map((e) => e.message), Option.getOrNull)).toBe("algo.json: order 1 has no integer id or status")
    expect(Either.isLeft(decodeOrderEvents("e.json", `{"orderId":1}`))).toBe(true)
  })

  it("reads a command result's success flag in either casing, and says nothing for a null flag", () => {
    expect(decodeCommandResult("r.json", `{"Type":"CommandResult","CommandName":"OrderCommand","Success":false}`)).toEqual(Either.right(Option.some(false)))
    expect(decodeCommandResult("r.json", `{"success":true}`)).toEqual(Either.right(Option.some(true)))
    expect(decodeCommandResult("r.json", `{"Success":null}`)).toEqual(Either.right(Option.none()))
  })
})
