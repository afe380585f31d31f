/**
 * The paper broker: an `ExecutionProvider` that fills against the price feed with slippage, a
 * participation cap and commissions, keeps a paper account that follows its own fills (in memory, or in
 * the database with `adapters/sql/SqlPaperBook` so it outlives the process), and gives
 * deterministic execution ids (`<client order id>-F1`, `-F2`, ...), so the same run replayed yields the
 * same ids.
 *
 * Reference price: the feed's, then the decision snapshot's, then a configured fallback; none → a new
 * order is REJECTED with `missing_price`. Limit orders fill only at the limit or better; one that is not
 * marketable rests (SUBMITTED), or with `limitOrders: "cancel"` is canceled at once (`limit_not_marketable`).
 *
 * A working order (resting, or partly filled up to the participation cap) meets the market again each time
 * `status` is asked about it: judged against the feed's quote of then, as a new order would be, for what it
 * has left. One quote fills an order once: asked again while the quote stands, the order stays as it is.
 * The paper broker has no trading session, so a DAY order works until it fills or is canceled, as GTC.
 */
import { Config, Effect, Layer, Option } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as Dec from "../../src/domain/Decimal.js"
import { InvalidInput } from "../../src/domain/errors.js"
import type { SubmitOrder } from "../../src/domain/Execution.js"
import type { Position, Quote } from "../../src/domain/Market.js"
import { ExecutionError } from "../../src/ports/errors.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import {
  type FillDecision,
  makeVenue,
  memoryBook,
  type OrderSoFar,
  type Venue,
  type VenueBook
} from "../../src/ports/Venue.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import * as Commission from "./Commission.js"
import * as Slippage from "./Slippage.js"

export interface MockConfig {
  /** The paper account at the start. Default: no cash, no positions. */
  readonly cash?: Dec.DecimalInput
  readonly positions?: ReadonlyArray<Position>
  /** The price of last resort for a symbol neither the feed nor the snapshot prices. */
  readonly fallbackPrice?: Dec.DecimalInput
  /** Default `None`. A model that could price a fill at zero or below is refused (`InvalidInput`). */
  readonly slippage?: Slippage.Slippage
  /** What happens to the part of an order over the participation cap. Default `partial` (left working). */
  readonly onParticipationCap?: "partial" | "cancel"
  /** Default `Zero`. */
  readonly commission?: Commission.Commission
  /** A limit order that cannot fill when it arrives: `rest` (default, left working) or `cancel` (like IOC). */
  readonly limitOrders?: "rest" | "cancel"
  /** Fill prices are rounded to this many decimals, against the order. Default 6. */
  readonly priceDecimals?: number
}

const WAIT: FillDecision = { _tag: "Execute", fills: [], remainder: "working" }

/** A decimal as an element of an observation: its text between quotes (nothing in it is escaped), or null. */
const observed = (d: Dec.Decimal | undefined): string => (d === undefined ? "null" : `"${Dec.toString(d)}"`)

/**
 * Names one look at the market: the same quote seen twice is the same observation. The JSON array of the
 * quote's price, bid, ask, volume (as text) and time, written out directly: a paper book keeps it with each
 * order that traded (`last_traded_on`), so its text must stay what `JSON.stringify` made of that array.
 */
const observationOf = (quote: Quote | undefined, reference: Dec.Decimal): string =>
  quote === undefined
    ? `price ${Dec.toString(reference)}`
    : `[${observed(quote.price)},${observed(quote.bid)},${observed(quote.ask)},${observed(quote.volume)},${
      quote.time === undefined ? "null" : JSON.stringify(quote.time)
    }]`

export const make = (config: MockConfig = {}, book?: VenueBook): Effect.Effect<Venue, InvalidInput, PriceFeed> =>
  Effect.gen(function*() {
    const feed = yield* PriceFeed
    const slippage = config.slippage ?? { _tag: "None" }
    const impossible = Slippage.problem(slippage)
    if (impossible !== undefined) {
      return yield* new InvalidInput({
        source: "paper broker",
        field: slippage._tag === "FixedBps" ? "slippage.bps" : "slippage",
        ...(slippage._tag === "FixedBps" ? { value: Dec.toString(slippage.bps) } : {}),
        reason: impossible
      })
    }
    const commission = config.commission ?? { _tag: "Zero" }
    const fallback = config.fallbackPrice === undefined ? undefined : Dec.unsafe(config.fallbackPrice)
    const priceDecimals = config.priceDecimals ?? 6

    const judge = (order: OrderSoFar, quote: Quote | undefined): FillDecision => {
      const { request } = order
      const reference = quote?.price ?? request.snapshotPrice ?? fallback
      if (reference === undefined) return { _tag: "Reject", reason: "missing_price" }
      const observation = observationOf(quote, reference)
      if (order.lastTradedOn === observation) return WAIT
      const limit = request.limitPrice
      const notMarketable = limit !== undefined &&
        (request.side === "BUY" ? Dec.gt(reference, limit) : Dec.lt(reference, limit))
      if (notMarketable) {
        // `cancel` is the order's fate on arrival only; an order already working keeps working.
        return config.limitOrders === "cancel" && order.status === undefined
          ? { _tag: "Execute", fills: [], remainder: "canceled", cancelReason: "limit_not_marketable" }
          : WAIT
      }
      const left = Dec.sub(request.quantity, Dec.sum(order.fills.map((f) => f.quantity)))
      const fill = Slippage.execute(slippage, { side: request.side, quantity: left }, reference, quote?.volume, priceDecimals)
      // Slippage never takes a limit order past its limit.
      const price = limit === undefined
        ? fill.price
        : request.side === "BUY"
        ? Dec.min(fill.price, limit)
        : Dec.max(fill.price, limit)
      const [fee] = Commission.forFills(commission, [{ quantity: fill.quantity, price }], order.fills)
      return {
        _tag: "Execute",
        fills: [{ quantity: fill.quantity, price, commission: fee! }],
        remainder: config.onParticipationCap === "cancel" ? "canceled" : "working",
        cancelReason: "participation_cap",
        observation
      }
    }

    // One look at the market per batch, not per order.
    const market = (orders: ReadonlyArray<SubmitOrder>, operation: string) =>
      feed.quotes([...new Set(orders.map((o) => o.symbol))]).pipe(
        Effect.mapError((e) => new ExecutionError({ provider: "paper", operation, reason: e.message })),
        Effect.map((quotes) => (order: OrderSoFar) => judge(order, quotes.get(order.request.symbol)))
      )

    return yield* makeVenue({
      name: "paper",
      book: book ?? memoryBook({
        cash: config.cash === undefined ? Dec.ZERO : Dec.unsafe(config.cash),
        positions: config.positions ?? []
      }),
      market
    })
  })

export const layer = (config: MockConfig = {}): Layer.Layer<ExecutionProvider, InvalidInput, PriceFeed> =>
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
export const layerConfig: Layer.Layer<ExecutionProvider, ConfigError | InvalidInput, PriceFeed> = Layer.effect(
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
      Config.validate({
        message: "TRADE_EXEC_PAPER_SLIPPAGE_BPS must be a decimal number, at least 0 and below 10000 (at 10000 bps a sell would fill at a price of zero or less)",
        validation: (s) => Option.exists(Dec.parse(s), (bps) => Slippage.problem({ _tag: "FixedBps", bps }) === undefined)
      })
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
