/**
 * A stand-in for a live LEAN running the bridge algorithm (`adapters/lean/algorithm`), run as its own process
 * with LEAN's working directory as its cwd. It behaves as LEAN does where the provider depends on it:
 *
 * - LEAN takes commands on its time loop, about once a second (`LEAN_STANDIN_INTERVAL_MS`, default 1000; the
 *   live synchronizer emits a time slice at least every second, and `LocalLeanManager.Update` runs the file
 *   commands once per slice). Each tick it moves its orders on (events written, files published), then lists
 *   `command*.json` in name order, reads and deletes each file and runs the `TradeExecOrderCommand`s and
 *   `TradeExecCancelCommand`s in it;
 * - an order command is answered (`result-command-{Id}.json`) as soon as LEAN has added the order, before its
 *   first event: the orders and events files show the order only from the next tick on, in status New until
 *   then, Submitted at its first event;
 * - LEAN's pre-order checks refuse an order outright (success false, no order, LEAN's reason in `refused`): a
 *   security the algorithm has not added (`NOSEC…`), a security with no price yet (`NOPRICE…`);
 * - a cancel LEAN accepts is `CancelPending` at once and `Canceled` at the brokerage's confirmation (next tick);
 *   one it refuses (order closed, not submitted yet, cancel in progress) answers success false with LEAN's text;
 * - at the session's close (`stand-in-session-close` created by the test) every working DAY order is canceled
 *   by the brokerage, as Interactive Brokers does: a Canceled event with IB's generic message and no cancel
 *   asked; GTC orders keep working;
 * - started with `LEAN_STANDIN_RELOAD_FROM=<earlier algorithm id>`, it is LEAN restarted over an IB account
 *   whose orders stayed open: it reloads them from the earlier run's results under new order ids, with no tag
 *   and their brokerage id (`BrokerageSetupHandler.GetOpenOrders`), and the account's holdings and cash.
 *
 * Files, as the bridge writes them (`LEAN_STANDIN_RESULTS_DIR`, default `<cwd>/trade-exec-results`):
 * `{AlgorithmId}.json` (`orders`: order id → Order with an integer `status`, `submittedTag`, `brokerId`,
 * `timeInForce`, `cancelRequested`; `holdings`; `cash`; `refused`) and `{AlgorithmId}-order-events.json`
 * (SerializedOrderEvents, without the events of status None, which LEAN numbers but never raises), written in
 * place like `File.WriteAllText` (not atomically), decimals in Json.NET's style (`10.0`).
 *
 * What the brokerage does with an order depends on its ticker, so one process can play every scenario:
 * - `REJ…`     taken (success true), then refused for buying power: an Invalid event with LEAN's message
 * - `NOSEC…`, `NOPRICE…`  refused by LEAN's pre-order checks, as above
 * - `PART…`    half fills, the rest keeps working until released, then fills
 * - `SPLIT…`   three fills at different prices; the events are written newest first and each fill twice
 * - `REST…`    accepted and left working, nothing filled, until released: then it fills in full
 * - `HOLD…`    like `REST…`, but the brokerage confirms a cancel only once released
 * - `PENDING…` stays New (the brokerage has not confirmed the submission) until released, then as `REST…`
 * - `GAP…`     Submitted, then an event of status None (Interactive Brokers' "Inactive"), then Filled: the
 *              events file skips an event id
 * - `SLOW…`    the command is taken (read and deleted) at once, but the order is only placed, and the command
 *              answered, once the test releases it
 * - `LAG…`     the orders file says Filled; the fill event is only written once the test releases it
 * - `STALE…`   filled with a stale-price warning, which LEAN before #8668 (2025-04) appended to the order's tag
 *              (current LEAN leaves the tag alone); kept for results written by such a LEAN
 * - others     filled in full, one tick after the command
 *
 * A test releases what an order holds back by creating `stand-in-release-<Tag>` (or, for an order reloaded
 * without a tag, `stand-in-release-broker-<brokerId>`) in LEAN's directory: an explicit handshake, so no test
 * depends on how fast this process runs. Every command it takes is appended to `stand-in-log.jsonl`, with what
 * LEAN answered, so a test can count what LEAN received.
 *
 * Environment: `LEAN_STANDIN_ALGORITHM_ID`, `LEAN_STANDIN_RESULTS_DIR`, `LEAN_STANDIN_CASH`,
 * `LEAN_STANDIN_PRICES` (JSON: ticker → price text; default 100), `LEAN_STANDIN_FEE` (per fill, default 1),
 * `LEAN_STANDIN_INTERVAL_MS`, `LEAN_STANDIN_RELOAD_FROM`.
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
const resultsDir = env["LEAN_STANDIN_RESULTS_DIR"] ?? path.join(process.cwd(), "trade-exec-results")
const prices: Record<string, string> = JSON.parse(env["LEAN_STANDIN_PRICES"] ?? "{}")
const fee = dec(env["LEAN_STANDIN_FEE"] ?? "1")
const intervalMs = Number(env["LEAN_STANDIN_INTERVAL_MS"] ?? "1000")
const reloadFrom = env["LEAN_STANDIN_RELOAD_FROM"]

/** LEAN's `OrderStatus`. */
const Status = { New: 0, Submitted: 1, PartiallyFilled: 2, Filled: 3, Canceled: 5, None: 6, Invalid: 7, CancelPending: 8 } as const
const isClosed = (status: number) => status === Status.Filled || status === Status.Canceled || status === Status.Invalid
const isWorking = (status: number) => status === Status.Submitted || status === Status.PartiallyFilled || status === Status.CancelPending
/** The message Interactive Brokers' status updates carry in LEAN (InteractiveBrokersBrokerage.HandleOrderStatusUpdates). */
const IB_MESSAGE = "Interactive Brokers Order Event"

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
  readonly timeInForce: "Day" | "GoodTilCanceled"
  readonly brokerId: string
  /** LEAN's order tag; LEAN before #8668 appended a Filled event's message to it. */
  tag: string
  readonly submittedTag: string
  readonly time: string
  status: number
  price: D
  nextEventId: number
  /** What the brokerage has filled of it (Interactive Brokers' cumulative quantity). */
  filled: D
  cancelRequested: boolean
  /** What the brokerage does with the order at the next ticks, one step a tick. */
  readonly steps: Array<() => void>
  /** Waiting for the test's release before the brokerage goes on (`PART…` rest, `REST…`, `PENDING…`). */
  onRelease?: (() => void) | undefined
  /** A cancel the brokerage confirms only once released (`HOLD…`). */
  heldCancel?: (() => void) | undefined
}

const orders = new Map<number, Order>()
const events: Array<Event> = []
const holdings = new Map<string, { quantity: D; averagePrice: D }>()
const refused = new Map<string, string>()
let cash = dec(env["LEAN_STANDIN_CASH"] ?? "1000000")
let lastOrderId = 0
let lastBrokerId = 1000
/** Events LEAN numbered and never raised (status None): no file lists them. */
const unraised = new Set<Event>()
/** Events written newest first and twice, for the orders that ask for a messy file. */
const messy = new Set<number>()
/** Fill events held back until their order's release (`LAG…`). */
const held = new Map<number, ReadonlyArray<Event>>()
/** Commands taken but not run until their release (`SLOW…`). */
const waiting: Array<Record<string, unknown>> = []

const releaseFile = (key: string) => `stand-in-release-${key}`
/** The test's word that what an order holds back may go. */
const released = (order: Order) =>
  (order.submittedTag !== "" && fs.existsSync(releaseFile(order.submittedTag))) || fs.existsSync(releaseFile(`broker-${order.brokerId}`))

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

/** LEAN sets the order's status, then raises the event. */
const raise = (order: Order, status: number, name: string, extra: Partial<Event> = {}) => {
  order.status = status
  const e = event(order, name, extra)
  events.push(e)
  return e
}

const book = (order: Order, quantity: D, price: D) => {
  const position = holdings.get(order.ticker) ?? { quantity: dec("0"), averagePrice: dec("0") }
  const next = add(position.quantity, quantity)
  holdings.set(order.ticker, { quantity: next, averagePrice: isZero(next) ? dec("0") : price })
  cash = sub(sub(cash, mul(quantity, price)), fee)
}

const fill = (order: Order, quantity: D, price: D, message?: string): Event => {
  book(order, quantity, price)
  order.price = price
  order.filled = add(order.filled, quantity)
  const done = order.filled.u !== 0n && isZero(sub(order.filled, order.quantity))
  if (done && message !== undefined) {
    // LEAN before #8668 appended a Filled event's message to the order's tag.
    order.tag = order.tag === "" ? message : `${order.tag} - ${message}`
  }
  return raise(order, done ? Status.Filled : Status.PartiallyFilled, done ? "filled" : "partiallyFilled", {
    fillPrice: price,
    fillQuantity: quantity,
    fee,
    ...(message === undefined ? {} : { message })
  })
}

const priceOf = (ticker: string, limit: D) => (isZero(limit) ? dec(prices[ticker] ?? "100") : limit)

const fillRest = (order: Order) => fill(order, sub(order.quantity, order.filled), priceOf(order.ticker, order.limitPrice))

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
  id: int(o.id),
  tag: o.tag === "" ? undefined : o.tag,
  submittedTag: o.submittedTag === "" ? undefined : o.submittedTag,
  status: int(o.status),
  quantity: raw(o.quantity),
  type: int(isZero(o.limitPrice) ? 0 : 1),
  symbol: { value: o.ticker, id: `${o.ticker} 2T` },
  price: raw(o.price),
  time: o.time,
  brokerId: [o.brokerId],
  timeInForce: o.timeInForce,
  cancelRequested: o.cancelRequested
})

const resultsFile = (id: string) => path.join(resultsDir, `${id}.json`)

const publish = () => {
  const results: Out = {
    orders: Object.fromEntries([...orders.values()].map((o) => [String(o.id), serializeOrder(o)])),
    holdings: Object.fromEntries(
      [...holdings].map(([ticker, h]) => [
        ticker,
        {
          symbol: { value: ticker },
          averagePrice: isZero(h.quantity) ? undefined : raw(h.averagePrice),
          quantity: isZero(h.quantity) ? undefined : raw(h.quantity),
          marketPrice: raw(dec(prices[ticker] ?? "100"))
        }
      ])
    ),
    cash: { USD: { symbol: "USD", amount: raw(cash), conversionRate: raw(dec("1")) } },
    accountCurrency: "USD",
    refused: Object.fromEntries(refused)
  }
  const heldBack = new Set([...held.values()].flat())
  const visible = events.filter((e) => !heldBack.has(e) && !unraised.has(e))
  const scrambled = visible.filter((e) => messy.has(e.orderId)).reverse().flatMap((e) => (isZero(e.fillQuantity) ? [e] : [e, e]))
  const listed = [...scrambled, ...visible.filter((e) => !messy.has(e.orderId))]
  // Written in place, as LEAN's File.WriteAllText does: a reader may catch a file half written.
  fs.writeFileSync(resultsFile(algorithmId), write(results))
  fs.writeFileSync(path.join(resultsDir, `${algorithmId}-order-events.json`), write(listed.map(serializeEvent)))
}

const log = (entry: object) => fs.appendFileSync("stand-in-log.jsonl", `${JSON.stringify(entry)}\n`)

/** The `CommandResultPacket` LEAN writes once the command has run. */
const answer = (commandId: unknown, name: string, success: boolean) => {
  if (typeof commandId !== "string" || commandId === "") return
  fs.writeFileSync(`result-command-${commandId}.json`, JSON.stringify({ Type: "CommandResult", Channel: "", CommandName: name, Success: success }))
}

/** The bridge records LEAN's reason, publishes, and LEAN then answers the command. */
const refuse = (commandId: unknown, name: string, reason: string) => {
  refused.set(String(commandId), reason)
  publish()
  answer(commandId, name, false)
  return false
}

/** What the brokerage does with an order, by its ticker, from the tick after LEAN added it. */
const scriptFor = (order: Order): Array<() => void> => {
  const { ticker, quantity } = order
  const price = priceOf(ticker, order.limitPrice)
  const submitted = () => raise(order, Status.Submitted, "submitted")
  if (ticker.startsWith("REJ")) {
    return [() => {
      const value = num(abs(mul(quantity, price)))
      raise(order, Status.Invalid, "invalid", {
        message: `Order Error: ids: [${order.id}], Insufficient buying power to complete orders (Value:[${value}]), ` +
          `Reason: Id: ${order.id}, Initial Margin: ${value}, Free Margin: 0.`
      })
    }]
  }
  if (ticker.startsWith("PENDING")) {
    return [() => {
      order.onRelease = () => {
        submitted()
        order.onRelease = () => fillRest(order)
      }
    }]
  }
  if (ticker.startsWith("REST") || ticker.startsWith("HOLD")) {
    return [() => {
      submitted()
      order.onRelease = () => fillRest(order)
    }]
  }
  if (ticker.startsWith("PART")) {
    return [() => {
      submitted()
      fill(order, half(quantity), price)
      order.onRelease = () => fillRest(order)
    }]
  }
  if (ticker.startsWith("SPLIT")) {
    return [() => {
      messy.add(order.id)
      submitted()
      // The first two prices are beyond a double: 100.0000000000000001 would come back as 100.
      fill(order, quarter(quantity), add(price, dec("0.0000000000000001")))
      fill(order, quarter(quantity), add(price, dec("0.0123456789012345678")))
      fill(order, half(quantity), price)
    }]
  }
  if (ticker.startsWith("GAP")) {
    return [
      submitted,
      // Interactive Brokers reports the order Inactive: LEAN sets status None and numbers the event, but never
      // raises it (BrokerageTransactionHandler.HandleOrderEvents skips status None).
      () => unraised.add(raise(order, Status.None, "none", { message: IB_MESSAGE })),
      () => fillRest(order)
    ]
  }
  if (ticker.startsWith("LAG")) {
    return [() => {
      submitted()
      held.set(order.id, [fillRest(order)])
    }]
  }
  const stale = ticker.startsWith("STALE") ? `Warning: fill at stale price of ${num(price)} (${ticker})` : undefined
  return [() => {
    submitted()
    fill(order, quantity, price, stale)
  }]
}

const newOrder = (fields: Omit<Order, "id" | "status" | "price" | "nextEventId" | "filled" | "cancelRequested" | "steps">): Order => {
  const order: Order = {
    ...fields,
    id: ++lastOrderId,
    status: Status.New,
    price: dec("0"),
    nextEventId: 1,
    filled: dec("0"),
    cancelRequested: false,
    steps: []
  }
  orders.set(order.id, order)
  return order
}

/** `TradeExecOrderCommand`: LEAN's pre-order checks, then the order added (New); the brokerage goes on from the next tick. */
const placeOrder = (command: Record<string, unknown>) => {
  const id = command["Id"]
  const name = "TradeExecOrderCommand"
  const ticker = String(command["Ticker"])
  const timeInForce = command["TimeInForce"]
  if (timeInForce !== "Day" && timeInForce !== "GoodTilCanceled") {
    return refuse(id, name, `TimeInForce must be Day or GoodTilCanceled, not '${String(timeInForce)}'`)
  }
  if (ticker.startsWith("NOSEC")) {
    return refuse(id, name, `You haven't requested ${ticker} data. Add this with AddSecurity() in the Initialize() method.`)
  }
  if (ticker.startsWith("NOPRICE")) {
    return refuse(
      id,
      name,
      `${ticker}: The security does not have an accurate price as it has not yet received a bar of data. Before placing a trade ` +
        "(or using SetHoldings) warm up your algorithm with SetWarmup, or use slice.Contains(symbol) to confirm the Slice object has " +
        "price before using the data. Data does not necessarily all arrive at the same time so your algorithm should confirm the data " +
        "is ready before using it. In live trading this can mean you do not have an active subscription to the asset class you're " +
        "trying to trade. If using custom data make sure you've set the 'Value' property."
    )
  }
  const order = newOrder({
    ticker,
    quantity: dec(String(command["Quantity"])),
    limitPrice: dec(String(command["LimitPrice"] ?? "0")),
    timeInForce,
    brokerId: String(++lastBrokerId),
    tag: String(command["Tag"] ?? ""),
    submittedTag: String(command["Tag"] ?? ""),
    time: new Date().toISOString()
  })
  order.steps.push(...scriptFor(order))
  answer(id, name, true)
  return true
}

/** `TradeExecCancelCommand`: answered with the cancel request's own response (BrokerageTransactionHandler.CancelOrder). */
const cancelOrder = (command: Record<string, unknown>) => {
  const id = command["Id"]
  const name = "TradeExecCancelCommand"
  const orderId = Number(command["OrderId"])
  const order = orders.get(orderId)
  if (order === undefined) return refuse(id, name, `Unable to locate order with id ${orderId}.`)
  if (order.status === Status.CancelPending) return refuse(id, name, "Cancellation is already in progress.")
  if (order.status === Status.New) {
    return refuse(id, name, `Unable to update or cancel order with id ${orderId} and status New because the submit confirmation has not been received yet.`)
  }
  if (isClosed(order.status)) {
    const status = Object.entries(Status).find(([, value]) => value === order.status)![0]
    return refuse(id, name, `Unable to update order with id ${orderId} because it already has ${status} status.`)
  }
  order.cancelRequested = true
  raise(order, Status.CancelPending, "cancelPending")
  publish()
  const confirm = () => {
    if (order.status === Status.CancelPending) raise(order, Status.Canceled, "canceled", { message: IB_MESSAGE })
  }
  order.onRelease = undefined
  if (order.ticker.startsWith("HOLD")) order.heldCancel = confirm
  else order.steps.push(confirm)
  answer(id, name, true)
  return true
}

const run = (command: Record<string, unknown>) => {
  const type = String(command["$type"] ?? "")
  const id = command["Id"]
  if (type === "TradeExecOrderCommand") {
    if (String(command["Ticker"]).startsWith("SLOW")) {
      log({ command: type, id, tag: command["Tag"], ticker: command["Ticker"], held: true })
      waiting.push(command)
      return
    }
    const success = placeOrder(command)
    log({ command: type, id, tag: command["Tag"], ticker: command["Ticker"], timeInForce: command["TimeInForce"], success })
    return
  }
  if (type === "TradeExecCancelCommand") {
    const success = cancelOrder(command)
    log({ command: type, id, orderId: command["OrderId"], success })
    return
  }
  // An unregistered command type: LEAN logs it once and ignores it.
  log({ command: "unknown", type })
}

/** The brokerage's side of the tick: released orders go on, scripted steps run, DAY orders expire at the close. */
const moveOrders = () => {
  for (const command of waiting.filter((c) => fs.existsSync(releaseFile(String(c["Tag"]))))) {
    waiting.splice(waiting.indexOf(command), 1)
    placeOrder(command)
  }
  for (const order of orders.values()) {
    const step = order.steps.shift()
    if (step !== undefined) step()
    if (order.onRelease !== undefined && !isClosed(order.status) && released(order)) {
      const go = order.onRelease
      order.onRelease = undefined
      go()
    }
    if (order.heldCancel !== undefined && released(order)) {
      const go = order.heldCancel
      order.heldCancel = undefined
      go()
    }
    if (held.has(order.id) && released(order)) held.delete(order.id)
  }
  if (fs.existsSync("stand-in-session-close")) {
    fs.rmSync("stand-in-session-close", { force: true })
    for (const order of orders.values()) {
      if (order.timeInForce !== "Day" || !isWorking(order.status) || order.cancelRequested) continue
      order.onRelease = undefined
      raise(order, Status.Canceled, "canceled", { message: IB_MESSAGE })
    }
    log({ session: "closed" })
  }
}

const takeCommands = () => {
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

const tick = () => {
  moveOrders()
  publish()
  takeCommands()
}

/**
 * LEAN restarted: the brokerage's open orders come back under new ids with no tag (the IB brokerage builds them
 * from IB's open orders), keeping IB's order id, time in force and full quantity; holdings and cash are the account's.
 */
const reload = (earlierId: string) => {
  const earlier = readJson(fs.readFileSync(resultsFile(earlierId), "utf8")) as {
    orders: Record<string, { brokerId: ReadonlyArray<string>; status: string; quantity: string; timeInForce: "Day" | "GoodTilCanceled"; symbol: { value: string } }>
    holdings: Record<string, { quantity?: string; averagePrice?: string }>
    cash: { USD: { amount: string } }
  }
  const earlierEvents = readJson(fs.readFileSync(path.join(resultsDir, `${earlierId}-order-events.json`), "utf8")) as ReadonlyArray<{ orderId: string; fillQuantity: string }>
  for (const [key, o] of Object.entries(earlier.orders)) {
    lastBrokerId = Math.max(lastBrokerId, ...o.brokerId.map(Number))
    if (!isWorking(Number(o.status))) continue
    const order = newOrder({
      ticker: o.symbol.value,
      quantity: dec(o.quantity),
      limitPrice: dec("0"),
      timeInForce: o.timeInForce,
      brokerId: o.brokerId[0]!,
      tag: "",
      submittedTag: "",
      time: new Date().toISOString()
    })
    order.status = Status.Submitted
    // What filled before the restart: LEAN's new order has no event of it, but the brokerage counts it (IB's
    // cumulative quantity decides whether a fill leaves the order PartiallyFilled or Filled).
    order.filled = earlierEvents.filter((e) => e.orderId === key).reduce((sum, e) => add(sum, dec(e.fillQuantity)), dec("0"))
    order.onRelease = () => fillRest(order)
  }
  for (const [ticker, h] of Object.entries(earlier.holdings)) {
    holdings.set(ticker, { quantity: dec(h.quantity ?? "0"), averagePrice: dec(h.averagePrice ?? "0") })
  }
  cash = dec(earlier.cash.USD.amount)
}

fs.mkdirSync(resultsDir, { recursive: true })
if (reloadFrom !== undefined && reloadFrom !== "") reload(reloadFrom)
publish()
const timer = setInterval(tick, intervalMs)
process.on("SIGTERM", () => {
  clearInterval(timer)
  process.exit(0)
})
process.stdout.write("ready\n")
