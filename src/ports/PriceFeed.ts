/**
 * Where prices come from: the last price (with optional bid, ask, volume and time) of a set of symbols.
 * A symbol the feed does not know is simply absent from the answer.
 */
import { Context, Effect, FiberRef, Layer, Ref } from "effect"
import type { Symbol } from "../domain/Ids.js"
import type { Quote } from "../domain/Market.js"
import { pickKeys } from "../internal/pickKeys.js"
import type { PriceFeedError } from "./errors.js"

/**
 * The quotes the run being executed recorded when it built its orders; the TradeRunner sets it around the
 * sending and following of each run, for `PriceFeed.layerRecorded`.
 */
export const RecordedQuotes: FiberRef.FiberRef<ReadonlyArray<Quote>> = FiberRef.unsafeMake<ReadonlyArray<Quote>>([])

export class PriceFeed extends Context.Tag("trade-execution/PriceFeed")<PriceFeed, {
  readonly quotes: (symbols: ReadonlyArray<Symbol>) => Effect.Effect<ReadonlyMap<Symbol, Quote>, PriceFeedError>
}>() {
  /**
   * An in-memory feed over a fixed set of quotes, with `set` and `remove` so a test or a host can move
   * the market between two calls.
   */
  static readonly makeMemory = (initial: Iterable<Quote> = []) =>
    Effect.gen(function*() {
      const book = yield* Ref.make(new Map<Symbol, Quote>([...initial].map((q) => [q.symbol, q])))
      const service = PriceFeed.of({
        quotes: (symbols) =>
          Effect.map(Ref.get(book), (all) => pickKeys(all, symbols))
      })
      return {
        service,
        set: (quotes: Iterable<Quote>) =>
          Ref.update(book, (all) => {
            const next = new Map(all)
            for (const q of quotes) next.set(q.symbol, q)
            return next
          }),
        remove: (symbols: Iterable<Symbol>) =>
          Ref.update(book, (all) => {
            const next = new Map(all)
            for (const s of symbols) next.delete(s)
            return next
          })
      }
    })

  /** The run's own recorded quotes as the market: execute or follow a run on the prices it was built at. */
  static readonly RecordedQuotes = RecordedQuotes

  static readonly layerRecorded: Layer.Layer<PriceFeed> = Layer.succeed(
    PriceFeed,
    PriceFeed.of({
      quotes: (symbols) =>
        Effect.map(FiberRef.get(RecordedQuotes), (recorded) => {
          const wanted = new Set(symbols)
          return new Map(recorded.filter((q) => wanted.has(q.symbol)).map((q) => [q.symbol, q] as const))
        })
    })
  )

  static readonly layerMemory = (quotes: Iterable<Quote> = []): Layer.Layer<PriceFeed> =>
    Layer.effect(PriceFeed, Effect.map(PriceFeed.makeMemory(quotes), ({ service }) => service))
}
