/**
 * trade-execution: frozen decisions → orders → pre-trade risk → execution, exact and idempotent.
 *
 * The core (pure): `OrderBuilder`, `RiskEngine`, `Fit`, `RunState`, `OrderState`, `ClientOrderId`, `Replay`.
 * The ports (Effect services with in-memory layers): `TradeRepository`, `AuditLog`, `ExecutionProvider`,
 * `PriceFeed`. The flow: `TradeRunner`. Adapters (SQL, paper broker, LEAN, CSV, CLI) live in `adapters/`.
 */
export * as BuildInput from "./BuildInput.js"
export * as ClientOrderId from "./ClientOrderId.js"
export * as Digest from "./Digest.js"
export * as Decimal from "./domain/Decimal.js"
export * from "./domain/errors.js"
export * from "./domain/Execution.js"
export * from "./domain/Ids.js"
export * from "./domain/Market.js"
export * from "./domain/Order.js"
export * from "./domain/Risk.js"
export * from "./domain/Run.js"
export * from "./domain/Snapshot.js"
export * as ExecutionLedger from "./ExecutionLedger.js"
export * as Fit from "./Fit.js"
export * as OrderBuilder from "./OrderBuilder.js"
export * as OrderState from "./OrderState.js"
export { nowIso } from "./internal/nowIso.js"
export * from "./ports/AuditLog.js"
export * from "./ports/errors.js"
export * from "./ports/ExecutionProvider.js"
export * from "./ports/PriceFeed.js"
export * from "./ports/TradeRepository.js"
export * as Exposure from "./Exposure.js"
export * as Replay from "./Replay.js"
export * as RiskEngine from "./RiskEngine.js"
export * as RunState from "./RunState.js"
export * as Tca from "./Tca.js"
export * from "./TradeRunner.js"
export * from "./TradeWorker.js"
