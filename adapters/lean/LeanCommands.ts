/**
 * The commands we hand to LEAN and the files they travel in.
 *
 * LEAN's `FileCommandHandler` (Common/Commands/FileCommandHandler.cs) lists `command*.json` in LEAN's working
 * directory in name order, deserializes each with `TypeNameHandling.All` (one command or an array), deletes the
 * file, runs the command and writes its `CommandResultPacket` to `result-command-{Id}.json`. Earlier releases
 * are not supported (see README.md): they read only `command.json`, or named the result
 * `command-result-{Id}.json`, which matches `command*.json`, so their own handler took it as a command and
 * deleted it. The `$type` names the command class:
 *
 * - `QuantConnect.Commands.OrderCommand` — `Ticker`, `SecurityType`, `Market`, `OrderType`, `Quantity` (signed:
 *   negative sells), `LimitPrice`, `StopPrice`, `Tag`; it calls `algorithm.SubmitOrderRequest` with a
 *   `SubmitOrderRequest` carrying the tag, and answers `success` = the order response is no error.
 * - `QuantConnect.Commands.CancelOrderCommand` — `OrderId`.
 *
 * The command `Id` is the client order id, so the file names and the result packet name the order, and our
 * `Tag` on LEAN's order is the same id: everything LEAN writes about the order can be found again after a
 * restart. Decimals are written as exact JSON numbers; Json.NET reads a `decimal` property from the number's
 * text, so nothing is rounded on the way in.
 */
import type { ClientOrderId } from "../../src/domain/Ids.js"
import { signedQuantity } from "../../src/domain/Order.js"
import type { SubmitOrder } from "../../src/ports/ExecutionProvider.js"
import * as Json from "./ExactJson.js"

export const ORDER_COMMAND_TYPE = "QuantConnect.Commands.OrderCommand, QuantConnect.Common"
export const CANCEL_COMMAND_TYPE = "QuantConnect.Commands.CancelOrderCommand, QuantConnect.Common"

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
    StopPrice: new Json.JsonNumber("0"),
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
    if (typeof type === "string" && type.startsWith("QuantConnect.Commands.OrderCommand") && typeof tag === "string") {
      tags.push(tag)
    }
  }
  return tags
}
