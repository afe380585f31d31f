/**
 * The commands we hand to LEAN and the files they travel in.
 *
 * LEAN's `FileCommandHandler` (Common/Commands/FileCommandHandler.cs) lists `command*.json` in LEAN's working
 * directory in name order, reads each file, deletes it, runs the command and writes its `CommandResultPacket` to
 * `result-command-{Id}.json`. A file whose `$type` names no .NET type (ours name none) becomes a
 * `CallbackCommand` (`TryGetCallbackCommand`, LEAN #8330, 2024-09), which `QCAlgorithm.RunCommand` hands to
 * the command class the algorithm registered under that name with `AddCommand<T>()`: the bridge algorithm
 * (`algorithm/TradeExecBridgeAlgorithm.cs`) registers these two.
 *
 * - `TradeExecOrderCommand` — `Ticker`, `SecurityType`, `Market`, `OrderType`, `Quantity` (signed: negative
 *   sells), `LimitPrice`, `TimeInForce` (`Day` | `GoodTilCanceled`), `Tag`. LEAN's own `OrderCommand` cannot
 *   carry a time in force (it submits with `algorithm.DefaultOrderProperties`), hence a command of our own.
 * - `TradeExecCancelCommand` — `OrderId`. LEAN's own `CancelOrderCommand` answers success whenever a cancel
 *   request was set on the ticket, even one refused because the order had already closed
 *   (Engine/TransactionHandlers/BrokerageTransactionHandler.cs `CancelOrder`); ours answers with the request's
 *   own response.
 *
 * Both answer success false when LEAN refuses them, and the bridge writes LEAN's reason into its results
 * (`refused`, by command id). The command `Id` of an order is the client order id, so the file names and the
 * result packet name the order, and our `Tag` on LEAN's order is the same id. Decimals are written as exact
 * JSON numbers; Json.NET reads a `decimal` property from the number's text, so nothing is rounded on the way in.
 */
import type { SubmitOrder } from "../../src/domain/Execution.js"
import type { ClientOrderId } from "../../src/domain/Ids.js"
import { signedQuantity } from "../../src/domain/Order.js"
import * as Json from "./ExactJson.js"

/** The names the bridge algorithm registers its commands under (`AddCommand<T>()` keys them by class name). */
export const ORDER_COMMAND_TYPE = "TradeExecOrderCommand"
export const CANCEL_COMMAND_TYPE = "TradeExecCancelCommand"
/** LEAN's own order command, which earlier versions of this provider wrote: a file of it may still be waiting. */
const LEAN_ORDER_COMMAND_TYPE = "QuantConnect.Commands.OrderCommand"

/** What LEAN needs to know besides the order: where the ticker trades. */
export interface Instrument {
  /** LEAN's `Market` name, e.g. `usa`. */
  readonly market: string
  /** LEAN's `SecurityType` name, e.g. `Equity`. */
  readonly securityType: string
}

/** Files LEAN picks up: it matches `command*.json`. */
export const isCommandFile = (name: string): boolean => name.startsWith("command") && name.endsWith(".json")

export const orderCommandFile = (id: ClientOrderId): string => `command-${id}.json`

/** The result packet LEAN writes for a command id. */
export const resultFile = (commandId: string): string => `result-command-${commandId}.json`

/**
 * A name for writing a file before renaming it into place: LEAN never matches it (it starts with a dot). A
 * `writer` mark makes it that writer's own, so two writers never write, rename or remove each other's file.
 */
export const temporaryFile = (name: string, writer?: string): string =>
  writer === undefined ? `.${name}.tmp` : `.${name}.${writer}.tmp`

const leanOrderType = (order: SubmitOrder): "Market" | "Limit" => (order.orderType === "LMT" ? "Limit" : "Market")

/** LEAN's `TimeInForce.Day` and `TimeInForce.GoodTilCanceled`; DAY when the order does not say. */
export const leanTimeInForce = (order: SubmitOrder): "Day" | "GoodTilCanceled" =>
  order.timeInForce === "GTC" ? "GoodTilCanceled" : "Day"

export const orderCommand = (order: SubmitOrder, instrument: Instrument): string =>
  Json.stringify({
    $type: ORDER_COMMAND_TYPE,
    Id: order.clientOrderId,
    Ticker: order.symbol,
    Market: instrument.market,
    SecurityType: instrument.securityType,
    OrderType: leanOrderType(order),
    Quantity: signedQuantity(order.side, order.quantity),
    LimitPrice: order.limitPrice ?? new Json.JsonNumber("0"),
    TimeInForce: leanTimeInForce(order),
    Tag: order.clientOrderId
  })

export const cancelCommand = (commandId: string, leanOrderId: number): string =>
  Json.stringify({
    $type: CANCEL_COMMAND_TYPE,
    Id: commandId,
    OrderId: new Json.JsonNumber(String(leanOrderId))
  })

/** The tags of the order commands in a command file (one command or an array of them). */
export const tagsOfCommandFile = (content: string): ReadonlyArray<string> => {
  const parsed = Json.parse(content)
  if (parsed._tag === "Left") return []
  const commands = Array.isArray(parsed.right) ? (parsed.right as ReadonlyArray<Json.JsonValue>) : [parsed.right]
  const tags: Array<string> = []
  for (const command of commands) {
    if (!Json.isObject(command)) continue
    const type = Json.field(command, "$type")
    const tag = Json.field(command, "Tag")
    const isOrder = type === ORDER_COMMAND_TYPE || (typeof type === "string" && type.startsWith(LEAN_ORDER_COMMAND_TYPE))
    if (isOrder && typeof tag === "string") {
      tags.push(tag)
    }
  }
  return tags
}
