/**
 * A real process on the paper broker whose book is in TE_DB, every symbol quoted at TE_PRICE. It opens the
 * book, prints `ready`, and acts once a line comes on stdin, so that processes started together act at
 * the same moment:
 * - TE_ACTION=status: asks `status()` about the orders TE_IDS (comma-separated; an id's symbol is its
 *   first part);
 * - TE_ACTION=submit: submits one market buy of TE_QUANTITY in each symbol of TE_SYMBOLS, its client order
 *   ids tagged TE_TAG.
 * Prints one JSON line: the reports.
 */
import { Effect, Layer, Schema } from "effect"
import { DatabaseLive } from "../../../adapters/sql/layers.js"
import * as SqlPaperBook from "../../../adapters/sql/SqlPaperBook.js"
import * as Dec from "../../../src/domain/Decimal.js"
import type { SubmitOrder } from "../../../src/domain/Execution.js"
import type { ClientOrderId, RunId, Symbol } from "../../../src/domain/Ids.js"
import { Fill } from "../../../src/domain/Order.js"
import { ExecutionProvider } from "../../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../../src/ports/PriceFeed.js"

const env = process.env
const price = Dec.unsafe(env.TE_PRICE!)
const ids = (env.TE_IDS ?? "").split(",").filter((id) => id !== "") as Array<ClientOrderId>
const symbols = env.TE_ACTION === "submit"
  ? env.TE_SYMBOLS!.split(",") as Array<Symbol>
  : ids.map((id) => id.split("-")[0] as Symbol)
const orders: Array<SubmitOrder> = env.TE_ACTION === "submit"
  ? symbols.map((symbol) => ({
    runId: `run-${env.TE_TAG}` as RunId,
    clientOrderId: `${symbol}-B-${env.TE_TAG}` as ClientOrderId,
    symbol,
    side: "BUY",
    quantity: Dec.unsafe(env.TE_QUANTITY!),
    orderType: "MKT",
    referencePrice: price
  }))
  : []
const broker = SqlPaperBook.layer({}).pipe(
  Layer.provide(PriceFeed.layerMemory(symbols.map((symbol) => ({ symbol, price })))),
  Layer.provide(DatabaseLive(env.TE_DB!))
)

const program = Effect.gen(function*() {
  const provider = yield* ExecutionProvider
  process.stdout.write("ready\n")
  yield* Effect.async<void>((resume) => {
    process.stdin.once("data", () => resume(Effect.void))
  })
  const reports = env.TE_ACTION === "submit" ? yield* provider.submit(orders) : yield* provider.status(ids)
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
