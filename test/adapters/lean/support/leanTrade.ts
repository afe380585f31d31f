/**
 * The whole trade-execution stack over LEAN for the process-level tests: a SQLite file for the runs, orders,
 * fills and audit trail (so a killed process leaves its state behind, as in production), a fixed price feed,
 * the LEAN provider and a TradeRunner. Used by the parent test and by `lean-trade-process.ts`.
 */
import { Duration, Layer, Schedule } from "effect"
import * as Lean from "../../../../adapters/lean/LeanExecutionProvider.js"
import { SqliteLive } from "../../../../adapters/sql/layers.js"
import { PriceFeed } from "../../../../src/ports/PriceFeed.js"
import { TradeRunner } from "../../../../src/TradeRunner.js"
import { quote } from "../../../support/world.js"
import { ALGORITHM_ID, Platform } from "./standIn.js"

export interface LeanTradeOptions {
  readonly database: string
  readonly leanDir: string
  readonly prices: Readonly<Record<string, string>>
  readonly workerId: string
  readonly leaseSeconds: number
}

export const storage = (database: string) => SqliteLive({ filename: database })

export const leanTrade = (options: LeanTradeOptions) => {
  const services = Layer.mergeAll(
    storage(options.database),
    PriceFeed.layerMemory(Object.entries(options.prices).map(([symbol, price]) => quote(symbol, price))),
    Lean.layer({
      leanDir: options.leanDir,
      algorithmId: ALGORITHM_ID,
      acknowledgeTimeout: Duration.seconds(15),
      settleTimeout: Duration.seconds(2),
      pollSchedule: Schedule.spaced(Duration.millis(20))
    }).pipe(Layer.provide(Platform))
  )
  return Layer.provideMerge(
    TradeRunner.layer({ workerId: options.workerId, leaseSeconds: options.leaseSeconds, providerTimeout: Duration.seconds(20) }),
    services
  )
}
