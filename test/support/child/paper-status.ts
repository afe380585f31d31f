/**
 * A real process asking the paper broker (its book in TE_DB) about orders TE_IDS (comma-separated) with
 * every one of their symbols quoted at TE_PRICE. It opens the database, prints `ready`, and asks once a
 * line comes on stdin, so that processes started together ask at the same moment. Prints one JSON line:
 * the reports.
 */
import { Effect, Layer, Schema } from "effect"
import { DatabaseLive } from "../../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { ClientOrderId, Symbol } from "../../../src/domain/Ids.js"
import { Fill } from "../../../src/domain/Order.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"

const env = process.env
const ids = env.TE_IDS!.split(",") as Array<ClientOrderId>
// The orders' symbols are their ids' first part.
const quotes = ids.map((id) => ({ symbol: id.split("-")[0] as Symbol, price: Dec.unsafe(env.TE_PRICE!) }))
const broker = SqlPaperBook.layer({}).pipe(Layer.provide(PriceFeed.layerMemory(quotes)), Layer.provide(DatabaseLive(env.TE_DB!)))

const program = Effect.gen(function*() {
  const provider = yield* ExecutionProvider
  process.stdout.write("ready\n")
  yield* Effect.async<void>((resume) => {
    process.stdin.once("data", () => resume(Effect.void))
  })
  const reports = yield* provider.status(ids)
  return reports.map((r) => ({ ...r, fills: r.fills.map((f) => Schema.encodeSync(Fill)(f)) }))
})

Effect.runPromise(program.pipe(Effect.provide(broker))).then(
  (reports) => {
    process.stdout.write(`${JSON.stringify({ reports })}\n`)
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
