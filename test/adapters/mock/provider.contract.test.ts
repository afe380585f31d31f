import { Effect, Layer } from "effect"
import * as Mock from "../../../adapters/mock/MockExecutionProvider.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { ClientOrderId, RunId, Symbol } from "../../../src/domain/Ids.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"
import { providerContract, ProviderUnderTest } from "../../contract/provider.contract.js"
import { quote } from "../../support/world.js"

// The paper broker's venue decides by the market: a symbol without a price is refused (`missing_price`), a
// volume caps the fill at half of it (the rest keeps working), a limit below the market rests.
const paper = Layer.effect(
  ProviderUnderTest,
  Effect.gen(function*() {
    const feed = yield* PriceFeed.makeMemory()
    const venue = yield* Mock.make({
      cash: 10_000_000,
      slippage: { _tag: "VolumeShare", priceImpact: Dec.ZERO, volumeLimit: Dec.unsafe("0.5") },
      limitOrders: "rest"
    }).pipe(Effect.provideService(PriceFeed, feed.service))
    let n = 0
    return ProviderUnderTest.of({
      provider: venue.provider,
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
  })
)

providerContract("ExecutionProvider contract: paper broker", paper)
