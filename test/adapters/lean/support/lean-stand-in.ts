/**
 * A stand-in for a live LEAN algorithm, run as its own process with LEAN's working directory as its cwd. It
 * speaks the file protocol the provider relies on, in LEAN's formats:
 *
 * - polls `command*.json` in name order, reads and deletes each file, runs the `OrderCommand`s and
 *   `CancelOrderCommand`s in it, and writes `result-command-{Id}.json` (a `CommandResultPacket`, PascalCase as
 *   Json.NET writes it by default);
 * - keeps `{AlgorithmId}.json` (`orders`: order id → Order with an integer `status` and, as the bridge
 *   algorithm writes it, `submittedTag`; `holdings`; `cash`) and
 *   `{AlgorithmId}-order-events.json` (SerializedOrderEvents), writing them in place like LEAN's
 *   `File.WriteAllText` (not atomically), decimals in Json.NET's style (`10.0`).
 *
 * What happens to an order depends on its ticker, so one process can play every scenario:
 * - `REJ…`   Invalid, with a message; the command answers success false
 * - `NOSEC…` the command fails before any order exists (success false, no order)
 * - `PART…`  half fills, the rest keeps working (PartiallyFilled)
 * - `SPLIT…` three fills at different prices; the events are written newest first and each fill twice
 * - `REST…`  accepted and left working, nothing filled
 * - `SLOW…`  the command is taken (read and deleted) at once, but the order is only placed, and the command
 *            answered, once the test releases it
 * - `LAG…`   the orders file says Filled at once; the fill events are only written once the test releases them
 * - `STALE…` filled in full with a stale-price warning, which LEAN appends to the order's tag
 * - others   filled in full at once
 *
 * Environment: `LEAN_STANDIN_ALGORITHM_ID`, `LEAN_STANDIN_RESULTS_DIR` (default: cwd), `LEAN_STANDIN_CASH`,
 * `LEAN_STANDIN_PRICES` (JSON: ticker → price text; default 100), `LEAN_STANDIN_FEE` (per fill, default 1),
 * `LEAN_STANDIN_POLL_MS`.
 * A test releases what a `SLOW…` or `LAG…` order holds back by creating `stand-in-release-<Tag>` in LEAN's
 * directory: an explicit handshake, so no test depends on how fast this process runs.
 * Every command it takes is appended to `stand-in-log.jsonl`, so a test can count what LEAN received.
 * This file is a process edge: it uses no Effect and shares no parsing code with the provider.
 */
import * as fs from "node:fs"
import * as path from "node:path"

// A tiny exact decimal (an integer and a scale), so the stand-in does not borrow the library's arithmetic.
interface D {
  readonly u: bigint
  readonly s: number
}
const dec = (text: string): D => {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim())
  if (m === null) throw new Error(`stand-in: not a plain decimal: ${text}`)
  const frac = m[3] ?? ""
  const u = BigInt(`${m[2]}${frac}`)
  return { u: m[1] === "-" ? -u : u, s: frac.length }
}
const align = (a: D, b: D): [bigint, bigint, number] => {
  const s = Math.max(a.s, b.s)
  return [a.u * 10n ** BigInt(s - a.s), b.u * 10n ** BigInt(s - b.s), s]
}
const add = (a: D, b: D): D => {
  const [x, y, s] = align(a, b)
  return { u: x + y, s }
}
const sub = (a: D, b: D): D => add(a, { u: -b.u, s: b.s })
const mul = (a: D, b: D): D => ({ u: a.u * b.u, s: a.s + b.s })
const neg = (a: D): D => ({ u: -a.u, s: a.s })
const abs = (a: D): D => (a.u < 0n ? neg(a) : a)
const half = (a: D): D => ({ u: a.u * 5n, s: a.s + 1 })
const quarter = (a: D): D => ({ u: a.u * 25n, s: a.s + 2 })
const isZero = (a: D) => a.u === 0n
/** Json.NET writes a decimal with its digits and at least one decimal place. */
const num = (a: D): string => {
  const negative = a.u < 0n
  const digits = (negative ? -a.u : a.u).toString().padStart(a.s + 1, "0")
  const int = digits.slice(0, digits.length - a.s)
  const frac = a.s === 0 ? "0" : digits.slice(digits.length - a.s)
  return `${negative ? "-" : ""}${int}.${frac}`
}

// JSON out: values are written as raw text where they are numbers.
class Raw {
  constructor(readonly text: string) {}
}
type Out = null | boolean | string | Raw | ReadonlyArray<Out> | { readonly [k: string]: Out | undefined }
const write = (v: Out): string => {
  if (v instanceof Raw) return v.text
  if (v === null || typeof v !== "object") return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(write).join(",")}]`
  return `{${
    Object.entries(v as { readonly [k: string]: Out | undefined })
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${write(x as Out)}`)
      .join(",")
  }}`
}
const raw = (a: D) => new Raw(num(a))
const int = (n: number) => new Raw(String(n))

/** JSON in, with numbers kept as text: every number outside a string is quoted before JSON.parse. */
const readJson = (text: string): unknown =>
  JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, (m, s) => (s === undefined ? `"${m}"` : s)))

const env = process.env
const algorithmId = env["LEAN_STANDIN_ALGORITHM_ID"] ?? "standin"
const resultsDir = env["LEAN_STANDIN_RESULTS_DIR"] ?? process.cwd()
const prices: Record<string, string> = JSON.parse(env["LEAN_STANDIN_PRICES"] ?? "{}")
const fee = dec(env["LEAN_STANDIN_FEE"] ?? "1")
const pollMs = Number(env["LEAN_STANDIN_POLL_MS"] ?? "10")

interface Event {
  readonly orderId: number
  readonly orderEventId: number
  readonly symbol: string
  readonly time: string
  readonly status: string
  readonly fillPrice: D
  readonly fillQuantity: D
  readonly fee?: D
  readonly message?: string
  readonly quantity: D
  readonly limitPrice?: D
}
interface Order {
  readonly id: number
  readonly ticker: string
  readonly quantity: D
  readonly limitPrice: D
  /** Changes after submission, as LEAN's does: a Filled event's message is appended to it. */
  tag: string
  readonly submittedTag: string
  readonly time: string
  status: number
  price: D
  nextEventId: number
}

const orders = new Map<number, Order>()
const events: Array<Event> = []
const holdings = new Map<string, { quantity: D; averagePrice: D }>()
let cash = dec(env["LEAN_STANDIN_CASH"] ?? "1000000")
let lastOrderId = 0
/** Events written newest first and twice, for the orders that ask for a messy file. */
const messy = new Set<number>()
/** Orders whose fill events are held back until their release, by order id. */
const held = new Map<number, ReadonlyArray<Event>>()
/** Commands taken but not run until their release (`SLOW…`). */
const waiting: Array<Record<string, unknown>> = []

/** The test's word that what a `SLOW…` or `LAG…` order holds back may go. */
const released = (tag: unknown) => fs.existsSync(`stand-in-release-${String(tag)}`)

const unixSeconds = () => (Date.now() / 1000).toFixed(3)

const event = (order: Order, status: string, extra: Partial<Event> = {}): Event => ({
  orderId: order.id,
  orderEventId: order.nextEventId++,
  symbol: order.ticker,
  time: unixSeconds(),
  status,
  fillPrice: dec("0"),
  fillQuantity: dec("0"),
  quantity: order.quantity,
  ...(isZero(order.limitPrice) ? {} : { limitPrice: order.limitPrice }),
  ...extra
})

const book = (order: Order, quantity: D, price: D) => {
  const position = holdings.get(order.ticker) ?? { quantity: dec("0"), averagePrice: dec("0") }
  const next = add(position.quantity, quantity)
  holdings.set(order.ticker, { quantity: next, averagePrice: isZero(next) ? dec("0") : price })
  cash = sub(sub(cash, mul(quantity, price)), fee)
}

const fill = (order: Order, quantity: D, price: D, status: "partiallyFilled" | "filled", message?: string): Event => {
  book(order, quantity, price)
  order.price = price
  if (status === "filled" && message !== undefined) {
    // BrokerageTransactionHandler.HandleOrderEvent appends a Filled event's message to the order's tag.
    order.tag = order.tag === "" ? message : `${order.tag} - ${message}`
  }
  return event(order, status, { fillPrice: price, fillQuantity: quantity, fee, ...(message === undefined ? {} : { message }) })
}

const serializeEvent = (e: Event): Out => ({
  id: `${algorithmId}-${e.orderId}-${e.orderEventId}`,
  algorithmId,
  orderId: int(e.orderId),
  orderEventId: int(e.orderEventId),
  symbol: `${e.symbol} 2T`,
  symbolValue: e.symbol,
  symbolPermtick: e.symbol,
  time: new Raw(e.time),
  status: e.status,
  orderFeeAmount: e.fee === undefined ? undefined : raw(e.fee),
  orderFeeCurrency: e.fee === undefined ? undefined : "USD",
  fillPrice: raw(e.fillPrice),
  fillPriceCurrency: "USD",
  fillQuantity: raw(e.fillQuantity),
  direction: e.quantity.u < 0n ? "sell" : "buy",
  message: e.message,
  isAssignment: false,
  quantity: raw(e.quantity),
  limitPrice: e.limitPrice === undefined ? undefined : raw(e.limitPrice)
})

const serializeOrder = (o: Order): Out => ({
  type: int(isZero(o.limitPrice) ? 0 : 1),
  id: int(o.id),
  contingentId: int(0),
  brokerId: [],
  symbol: { value: o.ticker, id: `${o.ticker} 2T`, permtick: o.ticker },
  price: raw(o.price),
  priceCurrency: "USD",
  time: o.time,
  createdTime: o.time,
  quantity: raw(o.quantity),
  status: int(o.status),
  tag: o.tag === "" ? undefined : o.tag,
  submittedTag: o.submittedTag === "" ? undefined : o.submittedTag,
  properties: { timeInForce: {} },
  securityType: int(1),
  direction: int(o.quantity.u < 0n ? 1 : 0),
  value: raw(mul(o.quantity, o.price))
})

const publish = () => {
  const results: Out = {
    orders: Object.fromEntries([...orders.values()].map((o) => [String(o.id), serializeOrder(o)])),
    holdings: Object.fromEntries(
      [...holdings].map(([ticker, h]) => [
        ticker,
        {
          symbol: { value: ticker, id: `${ticker} 2T`, permtick: ticker },
          type: int(1),
          currencySymbol: "$",
          averagePrice: isZero(h.quantity) ? undefined : raw(h.averagePrice),
          quantity: isZero(h.quantity) ? undefined : raw(h.quantity)
        }
      ])
    ),
    cash: { USD: { symbol: "USD", amount: raw(cash), conversionRate: raw(dec("1")), currencySymbol: "$" } }
  }
  const visible = events.filter((e) => ![...held.values()].some((list) => list.includes(e)))
  const scrambled = visible.filter((e) => messy.has(e.orderId)).reverse().flatMap((e) => (isZero(e.fillQuantity) ? [e] : [e, e]))
  const listed = [...scrambled, ...visible.filter((e) => !messy.has(e.orderId))]
  // Written in place, as LEAN's File.WriteAllText does: a reader may catch a file half written.
  fs.writeFileSync(path.join(resultsDir, `${algorithmId}.json`), write(results))
  fs.writeFileSync(path.join(resultsDir, `${algorithmId}-order-events.json`), write(listed.map(serializeEvent)))
}

const answer = (commandId: unknown, name: string, success: boolean) => {
  if (typeof commandId !== "string" || commandId === "") return
  fs.writeFileSync(`result-command-${commandId}.json`, JSON.stringify({ Type: "CommandResult", Channel: "", CommandName: name, Success: success }))
}

const log = (entry: object) => fs.appendFileSync("stand-in-log.jsonl", `${JSON.stringify(entry)}\n`)

const priceOf = (ticker: string, limit: D) => (isZero(limit) ? dec(prices[ticker] ?? "100") : limit)

const placeOrder = (command: Record<string, unknown>) => {
  const ticker = String(command["Ticker"])
  const quantity = dec(String(command["Quantity"]))
  const limitPrice = dec(String(command["LimitPrice"] ?? "0"))
  const order: Order = {
    id: ++lastOrderId,
    ticker,
    quantity,
    limitPrice,
    tag: String(command["Tag"] ?? ""),
    submittedTag: String(command["Tag"] ?? ""),
    time: new Date().toISOString(),
    status: 0,
    price: dec("0"),
    nextEventId: 1
  }
  orders.set(order.id, order)
  if (ticker.startsWith("REJ")) {
    order.status = 7
    events.push(event(order, "invalid", {
      message: `Order Error: ids: [${order.id}], Insufficient buying power to complete orders (Value:${num(abs(mul(quantity, priceOf(ticker, limitPrice))))}), Reason: Initial margin requirement exceeds free margin.`
    }))
    return false
  }
  order.status = 1
  events.push(event(order, "submitted"))
  const price = priceOf(ticker, limitPrice)
  if (ticker.startsWith("REST")) return true
  if (ticker.startsWith("PART")) {
    events.push(fill(order, half(quantity), price, "partiallyFilled"))
    order.status = 2
    return true
  }
  if (ticker.startsWith("SPLIT")) {
    messy.add(order.id)
    // The first two prices are beyond a double: 100.0000000000000001 would come back as 100.
    events.push(fill(order, quarter(quantity), add(price, dec("0.0000000000000001")), "partiallyFilled"))
    events.push(fill(order, quarter(quantity), add(price, dec("0.0123456789012345678")), "partiallyFilled"))
    events.push(fill(order, half(quantity), price, "filled"))
    order.status = 3
    return true
  }
  const stale = ticker.startsWith("STALE") ? `Warning: fill at stale price of ${num(price)} (${ticker})` : undefined
  const filled = fill(order, quantity, price, "filled", stale)
  events.push(filled)
  order.status = 3
  if (ticker.startsWith("LAG")) held.set(order.id, [filled])
  return true
}

const cancelOrder = (command: Record<string, unknown>) => {
  const order = orders.get(Number(command["OrderId"]))
  if (order === undefined || (order.status !== 1 && order.status !== 2)) return false
  order.status = 5
  events.push(event(order, "canceled", { message: "Canceled by the trade-execution cancel command" }))
  return true
}

const run = (command: Record<string, unknown>) => {
  const type = String(command["$type"] ?? "")
  const id = command["Id"]
  if (type.startsWith("QuantConnect.Commands.OrderCommand")) {
    const ticker = String(command["Ticker"])
    log({ command: "OrderCommand", id, tag: command["Tag"], ticker })
    if (ticker.startsWith("NOSEC")) return answer(id, "OrderCommand", false)
    if (ticker.startsWith("SLOW")) {
      waiting.push(command)
      return
    }
    const ok = placeOrder(command)
    publish()
    return answer(id, "OrderCommand", ok)
  }
  if (type.startsWith("QuantConnect.Commands.CancelOrderCommand")) {
    log({ command: "CancelOrderCommand", id, orderId: command["OrderId"] })
    const ok = cancelOrder(command)
    publish()
    return answer(id, "CancelOrderCommand", ok)
  }
  log({ command: "unknown", type })
}

/** Runs the held-back commands and writes the held-back events the test has released since the last poll. */
const releaseHeld = () => {
  for (const command of waiting.filter((c) => released(c["Tag"]))) {
    waiting.splice(waiting.indexOf(command), 1)
    const ok = placeOrder(command)
    publish()
    answer(command["Id"], "OrderCommand", ok)
  }
  const lagging = [...held.keys()].filter((id) => released(orders.get(id)?.submittedTag))
  for (const id of lagging) held.delete(id)
  if (lagging.length > 0) publish()
}

const poll = () => {
  releaseHeld()
  for (const name of fs.readdirSync(".").filter((n) => n.startsWith("command") && n.endsWith(".json")).sort()) {
    let content: string
    try {
      content = fs.readFileSync(name, "utf8")
    } catch {
      continue
    }
    fs.rmSync(name, { force: true })
    let parsed: unknown
    try {
      parsed = readJson(content)
    } catch {
      log({ command: "unreadable", file: name })
      continue
    }
    for (const command of Array.isArray(parsed) ? parsed : [parsed]) {
      if (typeof command === "object" && command !== null) run(command as Record<string, unknown>)
    }
  }
}

fs.mkdirSync(resultsDir, { recursive: true })
publish()
const timer = setInterval(poll, pollMs)
process.on("SIGTERM", () => {
  clearInterval(timer)
  process.exit(0)
})
process.stdout.write("ready\n")
