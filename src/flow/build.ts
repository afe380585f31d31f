/**
 * Building a run's orders, once: the snapshot verified against its frozen digest, the market and the
 * account read, the orders built and persisted together with everything they were built from, so that every
 * later execute reuses them and a replay can rebuild them.
 */
import { Effect, Either } from "effect"
import * as Dec from "../domain/Decimal.js"
import { InvalidInput } from "../domain/errors.js"
import type { Symbol } from "../domain/Ids.js"
import type { Position, Quote } from "../domain/Market.js"
import { type TradeOrder, tradeOrder } from "../domain/Order.js"
import type { RunRecord, TradeRun } from "../domain/Run.js"
import type { DecisionSnapshot } from "../domain/Snapshot.js"
import { nowIso } from "../internal/nowIso.js"
import { yieldToHost } from "../internal/yieldToHost.js"
import * as OrderBuilder from "../OrderBuilder.js"
import { AccountTradedSince, SnapshotChanged, SnapshotNotReady } from "../ports/errors.js"
import { type LeaseHolder, snapshotDigest } from "../ports/TradeRepository.js"
import { commit, type Flow, timed } from "./Flow.js"

/** The run's snapshot, refused when it is not frozen, did not succeed, or changed since it was frozen. */
export const loadSnapshot = Effect.fn("TradeRunner.loadSnapshot")(function*(flow: Flow, run: TradeRun) {
  const snapshot = yield* flow.repo.getSnapshot(run.snapshotId)
  if (snapshot.status !== "success" || snapshot.frozenAt === undefined) {
    return yield* new SnapshotNotReady({
      snapshotId: snapshot.id,
      status: snapshot.status,
      frozen: snapshot.frozenAt !== undefined
    })
  }
  const actual = snapshotDigest(snapshot.items)
  if (actual !== snapshot.digest) {
    return yield* new SnapshotChanged({ snapshotId: snapshot.id, frozenDigest: snapshot.digest, actualDigest: actual })
  }
  return snapshot
})

/** Reads the market and the account, builds the orders, and persists them with what they came from. */
export const buildOrders = Effect.fn("TradeRunner.buildOrders")(function*(
  flow: Flow,
  input: { readonly holder: LeaseHolder; readonly run: TradeRun; readonly snapshot: DecisionSnapshot }
) {
  const { holder, run, snapshot } = input
  const { params } = run
  const account = params.portfolioValue === undefined || params.positions === undefined
    ? yield* timed(flow, "account", [], flow.provider.account)
    : undefined
  const positions: ReadonlyArray<Position> = params.positions ?? account?.positions ?? []
  const symbols = [...new Set<Symbol>([...snapshot.items.map((i) => i.symbol), ...positions.map((p) => p.symbol)])]
  const quotes = yield* flow.feed.quotes(symbols)
  const itemPrice = new Map(snapshot.items.flatMap((i) => (i.price === undefined ? [] : [[i.symbol, i.price] as const])))
  const portfolioValue = params.portfolioValue ?? (yield* accountValue(account!, positions, quotes, itemPrice))
  // Cash the provider reports goes with the positions it reports; otherwise the builder derives it.
  const cash = params.cash ?? (params.positions === undefined ? account?.cash : undefined)
  // The run's builder settings carry the builder's own names; the rest is data, risk or the venue's.
  const {
    positions: _p,
    securities: _s,
    risk: _r,
    riskPolicy: _rp,
    cash: _c,
    portfolioValue: _v,
    timeInForce: _t,
    cancelAfter: _a,
    ...settings
  } = params
  const built = yield* OrderBuilder.build({
    ...settings,
    runId: run.id,
    items: snapshot.items,
    prices: [...quotes.values()],
    positions,
    securities: params.securities ?? [],
    portfolioValue,
    ...(cash === undefined ? {} : { cash }),
    sources: {
      items: `snapshot ${snapshot.id}`,
      prices: `price feed`,
      positions: params.positions === undefined ? `${flow.provider.name} account` : `run ${run.id} positions`,
      securities: `run ${run.id} securities`,
      params: `run ${run.id} params`
    }
  }, OrderBuilder.riskOf(params))
  yield* yieldToHost
  const now = yield* nowIso
  const fresh = { runId: run.id, status: "NEW", filledQuantity: Dec.ZERO, commission: Dec.ZERO, createdAt: now, updatedAt: now } as const
  const orders: Array<TradeOrder> = built.orders.map((draft) => tradeOrder(draft, fresh))
  const recorded: RunRecord = {
    settings: built.plan.settings,
    prices: [...quotes.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)),
    positions: [...built.plan.positions].map(([symbol, quantity]) => ({ symbol, quantity })),
    securities: [...built.plan.securities.values()],
    skipped: built.skipped,
    ...(built.fit === undefined ? {} : { fit: built.fit }),
    builtAt: now
  }
  yield* commit(flow, flow.repo.saveOrders(holder, orders, recorded), [{
    type: "trade_run.orders_built",
    runId: run.id,
    payload: {
      orders: orders.length,
      skipped: built.skipped,
      trimmed: built.trimmed,
      settings: built.plan.settings,
      prices: quotes.size,
      ...(built.fit === undefined ? {} : { fit: built.fit })
    }
  }])
  yield* flow.progress({ runId: run.id, phase: "built", orders: orders.length })
  return { run: { ...run, recorded } satisfies TradeRun, orders }
})

/**
 * Orders built earlier and not sent yet (a dry run's, executed now) were sized from the account as it was
 * when they were built. Once another run has traded on the account since, sending them would buy or sell
 * again what that run already did: refused before anything is sent (the run then fails, nothing sent).
 */
export const checkAccountUnchanged = Effect.fn("TradeRunner.checkAccountUnchanged")(function*(
  flow: Flow,
  run: TradeRun,
  orders: ReadonlyArray<TradeOrder>
) {
  const builtAt = run.recorded?.builtAt
  if (builtAt === undefined || orders.some((o) => o.status !== "NEW")) return
  const traded = yield* flow.repo.tradedSince(run.id, builtAt)
  if (traded !== undefined) return yield* new AccountTradedSince({ runId: run.id, builtAt, tradedRunId: traded })
})

/**
 * Cash plus the market value of the positions, each at its feed price, else its snapshot price, else its
 * average cost. A position with none of these cannot be valued, and guessing would size every order wrong.
 */
const accountValue = (
  account: { readonly cash: Dec.Decimal },
  positions: ReadonlyArray<Position>,
  quotes: ReadonlyMap<Symbol, Quote>,
  itemPrice: ReadonlyMap<Symbol, Dec.Decimal>
): Either.Either<Dec.Decimal, InvalidInput> => {
  let value = account.cash
  for (const p of positions) {
    const price = quotes.get(p.symbol)?.price ?? itemPrice.get(p.symbol) ?? p.avgCost
    if (price === undefined) {
      return Either.left(new InvalidInput({
        source: "account",
        field: "portfolioValue",
        value: p.symbol,
        reason: `cannot be derived: no price for the held symbol ${p.symbol}; give the portfolio value explicitly`
      }))
    }
    value = Dec.add(value, Dec.mul(p.quantity, price))
  }
  return Either.right(value)
}
