import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as CsvPriceFeed from "../../../adapters/csv/CsvPriceFeed.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { Symbol } from "../../../src/domain/Ids.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"

let dir = ""
const path = (name: string) => join(dir, name)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "csv-price-feed-"))
  await writeFile(path("prices.csv"), "symbol,price,bid,ask,time\naaa,50,49.99,50.01,2026-11-25T09:30:00-05:00\nBBB,33,,,\n")
  await writeFile(path("bad_prices.csv"), "symbol,price\nAAA,50\nBBB,0\n")
})

afterAll(async () => {
  if (dir !== "") await rm(dir, { recursive: true, force: true })
})

const feed = (file: string) => CsvPriceFeed.layer(path(file)).pipe(Layer.provide(NodeFileSystem.layer))
const buildFailure = (file: string) => Effect.flip(Effect.scoped(Layer.build(feed(file))))

describe("CsvPriceFeed: a PriceFeed over a prices file", () => {
  it.effect("serves the file's quotes by canonical symbol, leaving out symbols it does not have", () =>
    Effect.gen(function*() {
      const prices = yield* PriceFeed
      const quotes = yield* prices.quotes(["AAA" as Symbol, "ZZZ" as Symbol, "BBB" as Symbol])
      expect([...quotes.keys()]).toEqual(["AAA", "BBB"])
      const aaa = quotes.get("AAA" as Symbol)!
      expect([Dec.toString(aaa.price), Dec.toString(aaa.bid!), Dec.toString(aaa.ask!), aaa.time]).toEqual([
        "50",
        "49.99",
        "50.01",
        "2026-11-25T14:30:00.000Z"
      ])
    }).pipe(Effect.provide(feed("prices.csv"))))

  it.effect("fails to build on a bad file, with the file's InvalidInput", () =>
    Effect.map(buildFailure("bad_prices.csv"), (error) =>
      expect([error._tag, error.source, error.row, error.field]).toEqual(["InvalidInput", path("bad_prices.csv"), 3, "price"])))

  it.effect("fails to build on a missing file", () =>
    Effect.map(buildFailure("missing.csv"), (error) => expect([error.field, error.reason]).toEqual(["file", "does not exist"])))
})
