/**
 * What a live LEAN algorithm writes about its orders, in LEAN's own formats, read exactly.
 *
 * - `{AlgorithmId}.json` — a LEAN `Result`: `orders` maps an order id to a serialized `QuantConnect.Orders.Order`
 *   (`id`, `tag`, `quantity`, `status` as the integer of `OrderStatus`, `brokerId`), `holdings` maps a ticker to
 *   a `Holding` and `cash` / `cashBook` maps a currency to a `Cash` (`amount`). LEAN's `LiveTradingResultHandler`
 *   stores this file itself (`StoreStatusFile`), but only every ten minutes, so the algorithm shipped in
 *   `algorithm/` writes the same shape on every order event. It adds to each order `submittedTag` (the tag it was
 *   submitted with), `timeInForce` (`Day`, `GoodTilCanceled`) and `cancelRequested` (a cancel LEAN accepted was
 *   asked for it), and to the file `refused` (command id → LEAN's reason for refusing that command).
 * - `{AlgorithmId}-order-events.json` — an array of `SerializedOrderEvent` (Common/Orders/Serialization):
 *   `orderId`, `orderEventId` (unique per order), `symbolValue`, `time` (unix seconds), `status` as a camel-case
 *   string, `fillPrice`, `fillQuantity` (signed), `orderFeeAmount`, `direction`, `message`, `quantity`. LEAN's live
 *   handler also writes dated files `{AlgorithmId}-{yyyy-MM-dd}-order-events.json`; both are read.
 *
 * Anything that does not parse is reported, never skipped silently: a half-written file (LEAN writes with
 * `File.WriteAllText`, not atomically) is retried by the caller.
 */
import { Either, Option, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import * as Json from "./ExactJson.js"

/** LEAN's `QuantConnect.Orders.OrderStatus`, by its integer value. */
export const LeanOrderStatus = {
  New: 0,
  Submitted: 1,
  PartiallyFilled: 2,
  Filled: 3,
  Canceled: 5,
  None: 6,
  Invalid: 7,
  CancelPending: 8,
  UpdateSubmitted: 9
} as const

const STATUS_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(LeanOrderStatus).map(([name, value]) => [name.toLowerCase(), value])
)

/**
 * The field in which the bridge algorithm writes the tag an order was submitted with
 * (`OrderTicket.SubmitRequest.Tag`): LEAN's own `tag` changes after submission.
 */
export const SUBMITTED_TAG_FIELD = "submittedTag"

export interface LeanOrder {
  readonly id: number
  /** The order's tag as LEAN keeps it now: LEAN appends to it (a fill's message) or replaces it (a cancel's tag). */
  readonly tag: string
  /** The tag the order was submitted with, where the writer records it (the bridge algorithm does). */
  readonly submittedTag: Option.Option<string>
  /** Signed, as LEAN keeps it: negative sells. */
  readonly quantity: Option.Option<Dec.Decimal>
  readonly status: number
  readonly symbol: Option.Option<string>
  /** The brokerage's ids of the order (Interactive Brokers' order id): they survive a LEAN restart, LEAN's do not. */
  readonly brokerIds: ReadonlyArray<string>
  /** `Day`, `GoodTilCanceled`, …, where the writer records it. */
  readonly timeInForce: Option.Option<string>
  /** Whether a cancel LEAN accepted was asked for the order, where the writer records it. */
  readonly cancelRequested: Option.Option<boolean>
}

export interface LeanOrderEvent {
  readonly orderId: number
  readonly orderEventId: number
  readonly status: Option.Option<number>
  readonly symbol: Option.Option<string>
  /** Unix seconds, as LEAN writes them. */
  readonly time: Option.Option<Dec.Decimal>
  readonly fillPrice: Dec.Decimal
  /** Signed: negative for a sell. */
  readonly fillQuantity: Dec.Decimal
  readonly fee: Dec.Decimal
  readonly direction: Option.Option<"buy" | "sell">
  readonly message: Option.Option<string>
}

export interface LeanHolding {
  readonly ticker: string
  readonly quantity: Dec.Decimal
  readonly averagePrice: Option.Option<Dec.Decimal>
}

export interface LeanResults {
  readonly orders: ReadonlyArray<LeanOrder>
  readonly holdings: Option.Option<ReadonlyArray<LeanHolding>>
  /** Currency → amount. */
  readonly cash: Option.Option<ReadonlyMap<string, Dec.Decimal>>
  readonly accountCurrency: Option.Option<string>
  /** Command id → LEAN's reason for refusing that command, as the bridge algorithm records it. */
  readonly refused: ReadonlyMap<string, string>
}

/** A file of LEAN's is not what it should be (or not yet: LEAN may be halfway through writing it). */
export class LeanFormatError extends Schema.TaggedError<LeanFormatError>()("LeanFormatError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.file}: ${this.reason}`
  }
}

const bad = (file: string, reason: string) => new LeanFormatError({ file, reason })

const parseFile = (file: string, content: string) =>
  Either.mapLeft(Json.parse(content), (e) => bad(file, e.message))

/** LEAN serializes `Symbol` as an object (`value`, `id`, `permtick`) or, in some writers, a plain string. */
const symbolValue = (value: Json.JsonValue | undefined): Option.Option<string> =>
  typeof value === "string"
    ? Option.some(value)
    : Json.isObject(value)
    ? Json.text(Json.field(value, "value", "Value"))
    : Option.none()

/** An `OrderStatus` written as its integer (orders) or its name (events, Json.NET's StringEnumConverter). */
const orderStatus = (value: Json.JsonValue | undefined): Option.Option<number> =>
  typeof value === "string"
    ? Option.fromNullable(STATUS_BY_NAME.get(value.toLowerCase()))
    : Json.integer(value)

export const decodeResults = (file: string, content: string): Either.Either<LeanResults, LeanFormatError> =>
  Either.gen(function*() {
    const root = yield* parseFile(file, content)
    if (!Json.isObject(root)) return yield* Either.left(bad(file, "not a JSON object"))
    const ordersField = Json.field(root, "orders")
    const orders: Array<LeanOrder> = []
    if (ordersField !== undefined && ordersField !== null) {
      if (!Json.isObject(ordersField)) return yield* Either.left(bad(file, "orders is not a map of order id to order"))
      for (const [key, raw] of Object.entries(ordersField)) {
        if (!Json.isObject(raw)) return yield* Either.left(bad(file, `order ${key} is not an object`))
        const id = Json.integer(Json.field(raw, "id") ?? new Json.JsonNumber(key))
        const status = orderStatus(Json.field(raw, "status"))
        if (Option.isNone(id) || Option.isNone(status)) {
          return yield* Either.left(bad(file, `order ${key} has no integer id or status`))
        }
        orders.push({
          id: id.value,
          // Json.NET leaves out an empty tag (DefaultValueHandling.Ignore on Order.Tag).
          tag: Option.getOrElse(Json.text(Json.field(raw, "tag")), () => ""),
          submittedTag: Json.text(Json.field(raw, SUBMITTED_TAG_FIELD)).pipe(Option.filter((t) => t.length > 0)),
          quantity: Json.decimal(Json.field(raw, "quantity")),
          status: status.value,
          symbol: symbolValue(Json.field(raw, "symbol")),
          brokerIds: brokerIdsOf(Json.field(raw, "brokerId")),
          timeInForce: Json.text(Json.field(raw, "timeInForce")),
          cancelRequested: Option.liftPredicate(Json.field(raw, "cancelRequested"), (v): v is boolean => typeof v === "boolean")
        })
      }
    }
    return {
      orders,
      holdings: decodeHoldings(Json.field(root, "holdings")),
      cash: decodeCash(Json.field(root, "cash", "cashBook", "cashbook")),
      accountCurrency: Json.text(Json.field(root, "accountCurrency")),
      refused: decodeRefused(Json.field(root, "refused"))
    }
  })

/** LEAN writes `BrokerId` as a list of strings; IB's ids are numbers in their own text. */
const brokerIdsOf = (value: Json.JsonValue | undefined): ReadonlyArray<string> =>
  Array.isArray(value)
    ? (value as ReadonlyArray<Json.JsonValue>).flatMap((v) =>
      typeof v === "string" ? [v] : v instanceof Json.JsonNumber ? [v.text] : []
    ).filter((id) => id.length > 0)
    : []

const decodeRefused = (value: Json.JsonValue | undefined): ReadonlyMap<string, string> => {
  const refused = new Map<string, string>()
  if (!Json.isObject(value)) return refused
  for (const [commandId, reason] of Object.entries(value)) {
    if (typeof reason === "string") refused.set(commandId, reason)
  }
  return refused
}

const decodeHoldings = (value: Json.JsonValue | undefined): Option.Option<ReadonlyArray<LeanHolding>> => {
  if (!Json.isObject(value)) return Option.none()
  const holdings: Array<LeanHolding> = []
  for (const [key, raw] of Object.entries(value)) {
    if (!Json.isObject(raw)) continue
    // Older LEAN writes holdings with one-letter keys (`q` quantity, `a` average price).
    const quantity = Json.decimal(Json.field(raw, "quantity", "q"))
    holdings.push({
      ticker: Option.getOrElse(symbolValue(Json.field(raw, "symbol", "s")), () => key),
      // `Holding.Quantity` is left out when zero (DefaultValueHandling.Ignore).
      quantity: Option.getOrElse(quantity, () => Dec.ZERO),
      averagePrice: Json.decimal(Json.field(raw, "averagePrice", "a"))
    })
  }
  return Option.some(holdings)
}

const decodeCash = (value: Json.JsonValue | undefined): Option.Option<ReadonlyMap<string, Dec.Decimal>> => {
  if (!Json.isObject(value)) return Option.none()
  const cash = new Map<string, Dec.Decimal>()
  for (const [key, raw] of Object.entries(value)) {
    const amount = Json.isObject(raw) ? Json.decimal(Json.field(raw, "amount")) : Json.decimal(raw)
    if (Option.isSome(amount)) cash.set(key, amount.value)
  }
  return Option.some(cash)
}

export const decodeOrderEvents = (file: string, content: string): Either.Either<ReadonlyArray<LeanOrderEvent>, LeanFormatError> =>
  Either.gen(function*() {
    const root = yield* parseFile(file, content)
    if (!Array.isArray(root)) return yield* Either.left(bad(file, "not a JSON array of order events"))
    const events: Array<LeanOrderEvent> = []
    for (const [index, raw] of (root as ReadonlyArray<Json.JsonValue>).entries()) {
      if (!Json.isObject(raw)) return yield* Either.left(bad(file, `event ${index} is not an object`))
      // The dashed names are LEAN's older spelling, still accepted by its own deserializer.
      const orderId = Json.integer(Json.field(raw, "orderId", "order-id"))
      const orderEventId = Json.integer(Json.field(raw, "orderEventId", "order-event-id"))
      if (Option.isNone(orderId) || Option.isNone(orderEventId)) {
        return yield* Either.left(bad(file, `event ${index} has no integer orderId and orderEventId`))
      }
      const direction = Json.text(Json.field(raw, "direction")).pipe(
        Option.map((d) => d.toLowerCase()),
        Option.filter((d): d is "buy" | "sell" => d === "buy" || d === "sell")
      )
      events.push({
        orderId: orderId.value,
        orderEventId: orderEventId.value,
        status: orderStatus(Json.field(raw, "status")),
        symbol: Json.text(Json.field(raw, "symbolValue", "symbol-value")),
        time: Json.decimal(Json.field(raw, "time")),
        fillPrice: Option.getOrElse(Json.decimal(Json.field(raw, "fillPrice", "fill-price")), () => Dec.ZERO),
        fillQuantity: Option.getOrElse(Json.decimal(Json.field(raw, "fillQuantity", "fill-quantity")), () => Dec.ZERO),
        // Left out when LEAN charged nothing (DefaultValueHandling.Ignore).
        fee: Option.getOrElse(Json.decimal(Json.field(raw, "orderFeeAmount", "order-fee-amount")), () => Dec.ZERO),
        direction,
        message: Json.text(Json.field(raw, "message")).pipe(Option.filter((m) => m.length > 0))
      })
    }
    return events
  })

/**
 * The `success` flag of a `CommandResultPacket` (`result-command-{Id}.json`). LEAN declares it `bool?`; a
 * missing or null flag says nothing.
 */
export const decodeCommandResult = (file: string, content: string): Either.Either<Option.Option<boolean>, LeanFormatError> =>
  Either.flatMap(parseFile(file, content), (root) => {
    if (!Json.isObject(root)) return Either.left(bad(file, "not a JSON object"))
    const success = Json.field(root, "success")
    return Either.right(typeof success === "boolean" ? Option.some(success) : Option.none())
  })
