/**
 * The pre-trade risk verdict, on the prices the orders are sent at. A dry run is judged on the prices the
 * orders were built at; a real execute asks the feed again and, when the market moved since, judges again
 * (both verdicts are in the audit trail). Once orders are out, the verdict that let them go stands.
 * A blocked run ends here with nothing sent; under `drop_orders` the violators end `REJECTED`.
 */
import { Effect } from "effect"
import * as Dec from "../domain/Decimal.js"
import type { Symbol } from "../domain/Ids.js"
import type { Quote } from "../domain/Market.js"
import type { TradeOrder } from "../domain/Order.js"
import type { RiskVerdict } from "../domain/Risk.js"
import type { TradeRun } from "../domain/Run.js"
import type { DecisionSnapshot } from "../domain/Snapshot.js"
import * as Ledger from "../ExecutionLedger.js"
import { nowIso } from "../internal/nowIso.js"
import type { LeaseHolder } from "../ports/TradeRepository.js"
import * as RiskEngine from "../RiskEngine.js"
import { commit, type Flow, inFlight } from "./Flow.js"
import { executeEvent, finish, merge } from "./finish.js"

const evaluate = (run: TradeRun, snapshot: DecisionSnapshot, orders: ReadonlyArray<TradeOrder>, quotes: ReadonlyArray<Quote>, asOf: number) => {
  const recorded = run.recorded!
  const sectors = new Map<Symbol, string>()
  for (const s of recorded.securities) if (s.sector !== undefined) sectors.set(s.symbol, s.sector)
  for (const i of snapshot.items) if (i.sector !== undefined) sectors.set(i.symbol, i.sector)
  return RiskEngine.evaluate({
    orders,
    limits: run.params.risk ?? {},
    ...(run.params.riskPolicy === undefined ? {} : { policy: run.params.riskPolicy }),
    portfolioValue: recorded.settings.portfolioValue,
    cash: recorded.settings.cash,
    positions: recorded.positions,
    quotes,
    sectors,
    asOf,
    ...(recorded.fit === undefined ? {} : { unmet: recorded.fit.unmet })
  })
}

/**
 * The market the orders would be sent into: the feed's quotes now, else (a symbol it no longer prices) the
 * one recorded at build; how many moved since the build; and the orders valued at those prices, which is
 * what the verdict must judge (an order bought at 20 is not the order that was judged at 10).
 */
const currentMarket = (flow: Flow, recorded: ReadonlyArray<Quote>, orders: ReadonlyArray<TradeOrder>) =>
  Effect.gen(function*() {
    const now = yield* flow.feed.quotes(orders.map((o) => o.symbol))
    let moved = 0
    const quotes = recorded.map((q) => {
      const current = now.get(q.symbol)
      if (current === undefined) return q
      if (!Dec.eq(current.price, q.price) || current.time !== q.time) moved++
      return current
    })
    if (moved === 0) return { quotes, moved, orders }
    const repriced = orders.map((o) => {
      const price = now.get(o.symbol)?.price
      return price === undefined || Dec.eq(price, o.referencePrice) ? o : { ...o, referencePrice: price }
    })
    return { quotes, moved, orders: repriced }
  })

export type Judged =
  | { readonly _tag: "Ended" }
  | { readonly _tag: "Cleared"; readonly verdict: RiskVerdict; readonly ledger: Ledger.Ledger; readonly run: TradeRun }

/** Judges the run's orders, records the verdict, and ends the run when it is blocked (or only dry). */
export const judge = Effect.fn("TradeRunner.judge")(function*(
  flow: Flow,
  input: {
    readonly holder: LeaseHolder
    readonly run: TradeRun
    readonly snapshot: DecisionSnapshot
    readonly orders: ReadonlyArray<TradeOrder>
    readonly dryRun: boolean
  }
) {
  const { holder, snapshot, orders, dryRun } = input
  let run = input.run
  const alreadySent = orders.some((o) => o.status !== "NEW")
  let verdict: RiskVerdict
  if (alreadySent && run.risk !== undefined) {
    verdict = run.risk
  } else {
    const recorded = run.recorded!.prices
    const market = dryRun ? { quotes: recorded, moved: 0, orders } : yield* currentMarket(flow, recorded, orders)
    verdict = evaluate(run, snapshot, market.orders, market.quotes, Date.parse(run.params.asOf ?? (yield* nowIso)))
    yield* commit(flow, flow.repo.updateRun(holder, { risk: verdict }), [{
      type: "trade_run.risk",
      runId: run.id,
      payload: {
        dryRun,
        prices: market.moved === 0 ? "as built" : "moved since built",
        pricesMoved: market.moved,
        passed: verdict.passed,
        policy: verdict.policy,
        reasons: verdict.reasons,
        violations: verdict.violations
      }
    }])
    run = { ...run, risk: verdict }
  }

  if (dryRun) {
    yield* flow.audit.append([executeEvent(flow, inFlight(run), orders, { risk: verdict, dryRun })])
    return { _tag: "Ended" } satisfies Judged as Judged
  }

  const rejectedReason = new Map(verdict.rejected.map((r) => [r.clientOrderId, r.reason]))
  if (!verdict.passed) {
    const reasons = verdict.reasons.join(", ")
    const fresh = orders.filter((o) => o.status === "NEW")
    const rejected = yield* Ledger.close(fresh.filter((o) => rejectedReason.has(o.clientOrderId)), "REJECTED", (o) => rejectedReason.get(o.clientOrderId)!)
    const canceled = yield* Ledger.close(fresh.filter((o) => !rejectedReason.has(o.clientOrderId)), "CANCELED", () => "run_blocked")
    yield* finish(flow, {
      holder,
      run: inFlight(run),
      to: "blocked",
      closing: merge(rejected, canceled),
      detail: { error: `blocked by risk: ${reasons}`, risk: verdict, dryRun },
      orders
    })
    return { _tag: "Ended" } satisfies Judged as Judged
  }

  const ledger = Ledger.make(orders, yield* flow.repo.listFills(run.id))
  const dropped = orders.filter((o) => o.status === "NEW" && rejectedReason.has(o.clientOrderId))
  if (dropped.length > 0) {
    const changes = yield* Ledger.close(dropped, "REJECTED", (o) => rejectedReason.get(o.clientOrderId)!)
    yield* commit(flow, flow.repo.updateOrders(holder, changes.updates, []), changes.events)
    Ledger.commit(ledger, changes)
  }
  return { _tag: "Cleared", verdict, ledger, run } satisfies Judged as Judged
})
