/**
 * The layers a command runs on, over the database named by `--db`: the paper broker with its book in that
 * database, a price feed, and the TradeRunner (its lease length and owner from the environment).
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { type ConfigError, Duration, Effect, Layer } from "effect"
import type { ExecutionError } from "../../src/ports/errors.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import { bySymbol } from "../../src/ports/Venue.js"
import { ExecutionProvider } from "../../src/ports/ExecutionProvider.js"
import { PriceFeed } from "../../src/ports/PriceFeed.js"
import { type RunProgress, TradeRunner } from "../../src/TradeRunner.js"
import type * as Commission from "../mock/Commission.js"
import type { MockConfig } from "../mock/MockExecutionProvider.js"
import { InvalidInput } from "../../src/domain/errors.js"
import { redactUrl } from "../sql/layers.js"
import * as SqlPaperBook from "../sql/SqlPaperBook.js"
import * as Lean from "../lean/LeanExecutionProvider.js"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { CliEnvironment } from "./environment.js"

export interface Venue {
  /** `paper`: the paper broker, its book in the database; `lean`: LEAN, configured from the environment. */
  readonly provider: "paper" | "lean"
  /** LEAN's configuration, read from the environment before anything is written. */
  readonly lean: Lean.LeanConfig | undefined
  readonly commission: Commission.Commission
  readonly slippageBps: Dec.Decimal | undefined
  /** Cash of a paper account opened for the first time. */
  readonly seedCash: Dec.Decimal
}

/** Cash for a new paper account: `TRADE_EXEC_PAPER_CASH`, else the given default. */
export const paperSeed = (fallback: Dec.Decimal) => Effect.map(CliEnvironment, (env) => env.paperCash ?? fallback)

/**
 * `--positions` on the paper broker. A new paper account opens holding them (with the run's cash); an
 * existing one follows its own fills, so it must already hold exactly them: otherwise the run is refused
 * before anything is written, naming the first symbol (in symbol order) where they differ.
 */
export const openPaperAccount = (venue: Venue, positions: ReadonlyMap<Symbol, Dec.Decimal>, file: string, db: string) =>
  Effect.gen(function*() {
    const { account, opened } = yield* SqlPaperBook.open({
      cash: venue.seedCash,
      positions: [...positions].map(([symbol, quantity]) => ({ symbol, quantity }))
    })
    if (opened) return
    const held = new Map(account.positions.map((p) => [p.symbol, p.quantity]))
    for (const symbol of [...new Set([...positions.keys(), ...held.keys()])].sort(bySymbol)) {
      const given = positions.get(symbol) ?? Dec.ZERO
      const holds = held.get(symbol) ?? Dec.ZERO
      if (Dec.eq(given, holds)) continue
      return yield* new InvalidInput({
        source: file,
        field: symbol,
        reason: `${Dec.toString(given)} here, but the paper account in ${redactUrl(db)} holds ${Dec.toString(holds)}. ` +
          "A paper account follows its own fills: leave out --positions to trade from it, or give a new --db"
      })
    }
  })

/** Draws progress on a terminal; silent when stderr is not one. */
export const terminalProgress = (progress: RunProgress): Effect.Effect<void> =>
  Effect.sync(() => {
    if (!process.stderr.isTTY) return
    const line = progress.phase === "built"
      ? `built ${progress.orders} orders`
      : progress.phase === "submitting"
      ? `submitted ${progress.done}/${progress.total} orders`
      : `${progress.working} orders working`
    const end = progress.phase === "submitting" && progress.done === progress.total ? "\n" : ""
    process.stderr.write(`\r\x1b[2K${line}${end}`)
  })

/**
 * The runner over the storage in context, with the paper broker (its book in the same database) or, for
 * commands that only read, an in-memory venue that never writes.
 */
export const runnerLayer = <R>(venue: Venue | undefined, feed: Layer.Layer<PriceFeed, InvalidInput, R>) => {
  const broker: Layer.Layer<ExecutionProvider, InvalidInput | ConfigError.ConfigError | ExecutionError, SqlClient | R> = venue === undefined
    ? ExecutionProvider.layerMemory()
    : venue.lean !== undefined
    ? Lean.layer(venue.lean).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
    : SqlPaperBook.layer({
      cash: venue.seedCash,
      commission: venue.commission,
      ...(venue.slippageBps === undefined ? {} : { slippage: { _tag: "FixedBps", bps: venue.slippageBps } })
    } satisfies MockConfig).pipe(Layer.provide(feed))
  // The lease and the checks as the environment set them, read and checked before the command began.
  const runner = Layer.unwrapEffect(Effect.map(CliEnvironment, (env) =>
    TradeRunner.layer({
      onProgress: terminalProgress,
      leaseSeconds: env.leaseSeconds,
      workerId: env.leaseOwner,
      followInterval: Duration.millis(Math.round(env.checkSeconds * 1000))
    })))
  return runner.pipe(Layer.provideMerge(Layer.merge(broker, feed)))
}
