/**
 * The paper broker as the provider contract suites see it: a feed the test moves, and one broker per
 * book given (the first answers as `provider`, all of them as the `callers` racing on one venue).
 */
import { Context, Effect, Layer, type Scope } from "effect"
import * as Mock from "../../adapters/mock/MockExecutionProvider.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { ClientOrderId, RunId, Symbol } from "../../src/domain/Ids.js"
import type { VenueBook } from "../../src/ports/Venue.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { MarketUnderTest, ProviderUnderTest } from "../contract/provider.contract.js"
import { quote } from "./world.js"

// Symbols are new across the fixtures of a test file: two fixtures may share one database.
let n = 0

/**
 * A symbol without a price is refused (`missing_price`), a volume caps a fill at half of it (the rest
 * keeps working), a limit 10 away from the market rests until the market moves past it. `books`: where
 * each broker keeps its book (undefined: in memory, one broker only).
 */
export const paperUnderTest = <E, R>(
  books: Effect.Effect<ReadonlyArray<VenueBook | undefined>, E, R>
): Layer.Layer<ProviderUnderTest | MarketUnderTest, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(Effect.gen(function*() {
    const feed = yield* PriceFeed.makeMemory()
    const config: Mock.MockConfig = {
      cash: 10_000_000,
      slippage: { _tag: "VolumeShare", priceImpact: Dec.ZERO, volumeLimit: Dec.unsafe("0.5") }
    }
    const venues = yield* Effect.forEach(yield* books, (book) =>
      Mock.make(config, book).pipe(Effect.provideService(PriceFeed, feed.service), Effect.orDie))
    let moves = 0
    const provider = venues[0]!.provider
    const underTest = ProviderUnderTest.of({
      provider,
      order: (kind, side, quantity) =>
        Effect.gen(function*() {
          const symbol = `${kind.toUpperCase()}${++n}` as Symbol
          const q = Dec.unsafe(quantity)
          if (kind === "fills" || kind === "resting") yield* feed.set([quote(symbol, 100)])
          if (kind === "partial") yield* feed.set([quote(symbol, 100, { volume: q })])
          return {
            runId: "run-contract" as RunId,
            clientOrderId: `${symbol}-${side[0]}-paper` as ClientOrderId,
            symbol,
            side,
            quantity: q,
            orderType: kind === "resting" ? "LMT" : "MKT",
            ...(kind === "resting" ? { limitPrice: Dec.unsafe(side === "BUY" ? 90 : 110) } : {}),
            referencePrice: Dec.unsafe(100)
          }
        })
    })
    const market = MarketUnderTest.of({
      reach: (o) => feed.set([quote(o.symbol, o.side === "BUY" ? 89 : 111)]),
      // A later quote (its time tells it apart) with volume enough for the rest.
      renew: (o) =>
        feed.set([quote(o.symbol, 100, { volume: Dec.mul(o.quantity, Dec.unsafe(10)), time: `2026-01-05T15:00:${String(++moves % 60).padStart(2, "0")}Z` })]),
      callers: venues.length === 1 ? [provider, provider, provider, provider] : venues.map((v) => v.provider)
    })
    return Context.make(ProviderUnderTest, underTest).pipe(Context.add(MarketUnderTest, market))
  }))
