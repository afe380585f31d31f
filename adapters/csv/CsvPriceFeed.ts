/**
 * A `PriceFeed` over a prices file (`symbol, price[, bid, ask, volume, time]`).
 *
 * The file is read and checked once, when the layer is built: a run then prices every order from the
 * same snapshot of the market, and a bad file fails the layer (as `InvalidInput`) before anything runs.
 */
import type { FileSystem } from "@effect/platform"
import { type Context, Effect, Layer } from "effect"
import type { InvalidInput } from "../../src/domain/errors.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { readPrices } from "./readers.js"

/** The feed's service, built from the file at `path`. */
export const make = (path: string): Effect.Effect<Context.Tag.Service<PriceFeed>, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(readPrices(path), (quotes) => Effect.map(PriceFeed.makeMemory(quotes), ({ service }) => service))

export const layer = (path: string): Layer.Layer<PriceFeed, InvalidInput, FileSystem.FileSystem> =>
  Layer.effect(PriceFeed, make(path))
