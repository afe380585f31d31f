/**
 * The paper broker: an `ExecutionProvider` that fills against the price feed with slippage, a
 * participation cap and commissions, keeps a paper account that follows its own fills (in memory, or in
 * the database with `adapters/sql/SqlPaperBook` so it outlives the process), and gives
 * deterministic execution ids (`<client order id>-F1`), so the same run replayed yields the same ids.
 *
 * Reference price: the feed's, then the decision snapshot's, then a configured fallback; none → the order
 * is REJECTED with `missing_price`. Limit orders fill only at the limit or better; one that is not
 * marketable is canceled (`limit_not_marketable`) or, with `limitOrders: "rest"`, left working.
 */
import { Config, Effect, Layer, Option } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as Dec from "../../src/domain/Decimal.js"
import type { Position, Quote } from "../../src/domain/Market.js"
import { ExecutionError } from "../../src/ports/errors.js"
import { ExecutionProvider, type SubmitOrder } from "../../src/ports/ExecutionProvider.js"
import { type FillDecision, makeVenue, memoryBook, type Venue, type VenueBook } from "../../src/ports/internal/venue.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import * as Commission from "./Commission.js"
import * as Slippage from "./Slippage.js"

export interface MockConfig {
  /** The paper account at the start. Default: no cash, no positions. */
  readonly cash?: Dec.DecimalInput
  readonly positions?: ReadonlyArray<Position>
  /** The price of last resort for a symbol neither the feed nor the snapshot prices. */
  readonly fallbackPrice?: Dec.DecimalInput
  /** Default `None`. */
  readonly slippage?: Slippage.Slippage
  /** What happens to the part of an order over the participation cap. Default `partial` (left working). */
  readonly onParticipationCap?: "partial" | "cancel"
  /** Default `Zero`. */
  readonly commission?: Commission.Commission
  /** A limit order that cannot fill now: `cancel` (default, like IOC) or `rest` (left working). */
  readonly limitOrders?: "cancel" | "rest"
  /** Fill prices are rounded to this many decimals, against the order. Default 6. */
  readonly priceDecimals?: number
}

export const make = (config: MockConfig = {}, book?: VenueBook): Effect.Effect<Venue, never, PriceFeed> =>
  Effect.gen(function*() {
    const feed = yield* PriceFeed
    const slippage = config.slippage ?? { _tag: "None" }
    const commission = config.commission ?? { _tag: "Zero" }
    const fallback = config.fallbackPrice === undefined ? undefined : Dec.unsafe(config.fallbackPrice)
    const priceDecimals = config.priceDecimals ?? 6

    const decideOne = (order: SubmitOrder, quote: Quote | undefined): FillDecision => {
      const reference = quote?.price ?? order.snapshotPrice ?? fallback
      if (reference === undefined) return { _tag: "Reject", reason: "missing_price" }
      const notMarketable = order.limitPrice !== undefined &&
        (order.side === "BUY" ? Dec.gt(reference, order.limitPrice) : Dec.lt(reference, order.limitPrice))
      if (notMarketable) {
        return {
          _tag: "Execute",
          fills: [],
          remainder: config.limitOrders === "rest" ? "working" : "canceled",
          cancelReason: "limit_not_marketable"
        }
      }
      const fill = Slippage.execute(slippage, order, reference, quote?.volume, priceDecimals)
      // Slippage never takes a limit order past its limit.
      const price = order.limitPrice === undefined
        ? fill.price
        : order.side === "BUY"
        ? Dec.min(fill.price, order.limitPrice)
        : Dec.max(fill.price, order.limitPrice)
      const [fee] = Commission.forFills(commission, [{ quantity: fill.quantity, price }])
      return {
        _tag: "Execute",
        fills: [{ quantity: fill.quantity, price, commission: fee! }],
        remainder: config.onParticipationCap === "cancel" ? "canceled" : "working",
        cancelReason: "participation_cap"
      }
    }

    // One look at the market per batch, not per order.
    const decide = (orders: ReadonlyArray<SubmitOrder>) =>
      feed.quotes(orders.map((o) => o.symbol)).pipe(
        Effect.mapError((e) => new ExecutionError({ provider: "paper", operation: "submit", reason: e.message })),
        Effect.map((quotes) => orders.map((order) => decideOne(order, quotes.get(order.symbol))))
      )

    return yield* makeVenue({
      name: "paper",
      book: book ?? memoryBook({
        cash: config.cash === undefined ? Dec.ZERO : Dec.unsafe(config.cash),
        positions: config.positions ?? []
      }),
      decide
    })
  })

export const layer = (config: MockConfig = {}): Layer.Layer<ExecutionProvider, never, PriceFeed> =>
  Layer.effect(ExecutionProvider, Effect.map(make(config), (venue) => venue.provider))

/** A commission schedule by its CLI / environment name. */
export const commissionFromName = (name: string): Commission.Commission | undefined =>
  name === "ib-fixed"
    ? { _tag: "IbFixed" }
    : name === "ib-tiered"
    ? { _tag: "IbTiered" }
    : name === "none" || name === "zero"
    ? { _tag: "Zero" }
    : undefined

/**
 * The paper broker configured from the environment: `TRADE_EXEC_PAPER_CASH`,
 * `TRADE_EXEC_PAPER_COMMISSION` (`ib-fixed`, `ib-tiered`, `none`), `TRADE_EXEC_PAPER_SLIPPAGE_BPS`.
 */
export const layerConfig: Layer.Layer<ExecutionProvider, ConfigError, PriceFeed> = Layer.effect(
  ExecutionProvider,
  Effect.gen(function*() {
    const cash = yield* Config.option(Config.string("TRADE_EXEC_PAPER_CASH").pipe(
      Config.validate({ message: "TRADE_EXEC_PAPER_CASH must be a decimal number", validation: (s) => Option.isSome(Dec.parse(s)) })
    ))
    const commission = yield* Config.string("TRADE_EXEC_PAPER_COMMISSION").pipe(
      Config.validate({
        message: "TRADE_EXEC_PAPER_COMMISSION must be ib-fixed, ib-tiered or none",
        validation: (s) => commissionFromName(s) !== undefined
      }),
      Config.withDefault("none")
    )
    const slippageBps = yield* Config.option(Config.string("TRADE_EXEC_PAPER_SLIPPAGE_BPS").pipe(
      Config.validate({ message: "TRADE_EXEC_PAPER_SLIPPAGE_BPS must be a decimal number", validation: (s) => Option.isSome(Dec.parse(s)) })
    ))
    const venue = yield* make({
      ...Option.match(cash, { onNone: () => ({}), onSome: (c) => ({ cash: c }) }),
      commission: commissionFromName(commission)!,
      ...Option.match(slippageBps, {
        onNone: () => ({}),
        onSome: (bps) => ({ slippage: { _tag: "FixedBps", bps: Dec.unsafe(bps) } as const })
      })
    })
    return venue.provider
  })
)
