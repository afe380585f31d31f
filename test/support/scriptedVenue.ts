/**
 * A venue the test moves by hand, for the runner's following: every order it receives works (SUBMITTED)
 * until the test fills it (in parts), expires it, or it is canceled — what a real venue does with an order
 * sent before the open or a resting limit. It keeps to the ExecutionProvider contract (idempotent per client
 * order id, every fill so far in each report, unique execution ids).
 */
import { Effect, Ref } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { ExecutionReport, SubmitOrder } from "../../src/domain/Execution.js"
import type { ClientOrderId, ExecutionId } from "../../src/domain/Ids.js"
import type { Fill } from "../../src/domain/Order.js"
import { ExecutionError } from "../../src/ports/errors.js"
import type { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"

interface Working {
  readonly request: SubmitOrder
  readonly report: ExecutionReport
}

export const makeScriptedVenue = (options: { readonly confirmCancels?: boolean } = {}) =>
  Effect.gen(function*() {
    const book = yield* Ref.make(new Map<ClientOrderId, Working>())
    const calls = { submit: 0, status: 0, cancel: 0 }
    /** While set, status() fails as a venue whose connection is lost does. */
    let statusFails = false
    const confirmCancels = options.confirmCancels ?? true

    const update = (id: ClientOrderId, f: (w: Working) => Working) =>
      Ref.update(book, (all) => {
        const w = all.get(id)
        if (w === undefined) throw new Error(`no order ${id}`)
        return new Map(all).set(id, f(w))
      })

    const provider: ExecutionProvider["Type"] = {
      name: "scripted",
      submit: (orders) =>
        Ref.modify(book, (all) => {
          calls.submit++
          const next = new Map(all)
          for (const request of orders) {
            if (!next.has(request.clientOrderId)) {
              next.set(request.clientOrderId, { request, report: { clientOrderId: request.clientOrderId, status: "SUBMITTED", fills: [] } })
            }
          }
          return [orders.map((o) => next.get(o.clientOrderId)!.report), next] as const
        }),
      status: (ids) =>
        statusFails
          ? Effect.fail(new ExecutionError({ provider: "scripted", operation: "status", reason: "connection lost" }))
          : Effect.map(Ref.get(book), (all) => {
            calls.status++
            return ids.flatMap((id) => (all.has(id) ? [all.get(id)!.report] : []))
          }),
      cancel: (id) =>
        Effect.gen(function*() {
          calls.cancel++
          const w = (yield* Ref.get(book)).get(id)
          if (w === undefined) return yield* new ExecutionError({ provider: "scripted", operation: "cancel", reason: `unknown order ${id}` })
          if (w.report.status !== "SUBMITTED" && w.report.status !== "PARTIAL") return w.report
          if (!confirmCancels) return w.report
          const canceled: ExecutionReport = { ...w.report, status: "CANCELED" }
          yield* update(id, (x) => ({ ...x, report: canceled }))
          return canceled
        }),
      account: Effect.succeed({ cash: Dec.unsafe(1_000_000), positions: [] })
    }

    /** The venue fills `quantity` more of the order at `price`. */
    const fill = (id: ClientOrderId, quantity: Dec.DecimalInput, price: Dec.DecimalInput) =>
      update(id, (w) => {
        const n = w.report.fills.length + 1
        const f: Fill = {
          executionId: `${id}-X${n}` as ExecutionId,
          clientOrderId: id,
          symbol: w.request.symbol,
          side: w.request.side,
          quantity: Dec.unsafe(quantity),
          price: Dec.unsafe(price),
          commission: Dec.ZERO,
          time: "2026-01-05T15:00:00.000Z"
        }
        const fills = [...w.report.fills, f]
        const filled = Dec.sum(fills.map((x) => x.quantity))
        return { ...w, report: { clientOrderId: id, status: Dec.gte(filled, w.request.quantity) ? "FILLED" : "PARTIAL", fills } }
      })

    /** The venue ends a DAY order at the session's close. */
    const expire = (id: ClientOrderId) =>
      update(id, (w) => ({ ...w, report: { ...w.report, status: "CANCELED", rejectReason: "expired" } }))

    /** A cancel that was pending is confirmed by the venue. */
    const confirmCancel = (id: ClientOrderId) => update(id, (w) => ({ ...w, report: { ...w.report, status: "CANCELED" } }))

    const requests = Effect.map(Ref.get(book), (all) => [...all.values()].map((w) => w.request))
    /** From now on status() fails (`true`) or answers again (`false`). */
    const failStatus = (fails: boolean) => Effect.sync(() => { statusFails = fails })

    return { provider, fill, expire, confirmCancel, failStatus, requests, calls }
  })
