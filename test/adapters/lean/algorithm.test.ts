import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { placeholders, render, required, TEMPLATE, write } from "../../../adapters/lean/algorithm/render-config.js"
import * as Commands from "../../../adapters/lean/LeanCommands.js"
import { DEFAULT_RESULTS_DIR } from "../../../adapters/lean/LeanExecutionProvider.js"
import { SUBMITTED_TAG_FIELD } from "../../../adapters/lean/LeanResults.js"
import * as Dec from "../../../src/domain/Decimal.js"
import { order } from "./support/standIn.js"

const template = fs.readFileSync(TEMPLATE, "utf8")
const algorithm = fs.readFileSync(path.join(path.dirname(TEMPLATE), "TradeExecBridgeAlgorithm.cs"), "utf8")

/** LEAN reads its config with Json.NET, which allows // comments; JSON.parse does not. */
const withoutComments = (text: string) => text.replace(/^\s*\/\/.*$/gm, "")

const filled = (overrides: Record<string, string> = {}) => {
  const env = Object.fromEntries(placeholders(template).map((name) => [name, `value-of-${name}`]))
  const rendered = render(template, { ...env, LEAN_PAPER_CASH_BALANCE: "100000", ...overrides })
  if (rendered._tag !== "Rendered") throw new Error(`cannot render: ${JSON.stringify(rendered)}`)
  return JSON.parse(withoutComments(rendered.text)) as {
    readonly environment: string
    readonly "algorithm-type-name": string
    readonly "ib-password": string
    readonly "live-cash-balance": unknown
    readonly parameters: Record<string, string>
    readonly environments: Record<string, Record<string, unknown>>
  }
}

/** The public properties of a C# class of the algorithm, by name. */
const propertiesOf = (className: string) => {
  const start = algorithm.indexOf(`class ${className}`)
  const body = algorithm.slice(start, algorithm.indexOf("public override bool? Run", start))
  return [...body.matchAll(/public [\w?<>]+ (\w+) \{ get; set; \}/g)].map((m) => m[1]!)
}

describe("the LEAN side of the bridge", () => {
  it("configures live-paper and live-interactive for the bridge algorithm", () => {
    const config = filled({ LEAN_ENVIRONMENT: "live-interactive" })
    expect(config.environment).toBe("live-interactive")
    expect(config["algorithm-type-name"]).toBe("TradeExecBridgeAlgorithm")
    expect(Object.keys(config.environments).sort()).toEqual(["live-interactive", "live-paper"])
    expect(config.environments["live-paper"]).toMatchObject({
      "live-mode": true,
      "live-mode-brokerage": "PaperBrokerage",
      "transaction-handler": "QuantConnect.Lean.Engine.TransactionHandlers.BacktestingTransactionHandler"
    })
    expect(config.environments["live-interactive"]).toMatchObject({
      "live-mode": true,
      "live-mode-brokerage": "InteractiveBrokersBrokerage",
      "transaction-handler": "QuantConnect.Lean.Engine.TransactionHandlers.BrokerageTransactionHandler"
    })
  })

  it("keeps Interactive Brokers credentials out of the template: they are placeholders for the environment", () => {
    for (const key of ["ib-account", "ib-user-name", "ib-password"]) {
      expect(template).toMatch(new RegExp(`"${key}": "\\$\\{[A-Z_]+\\}"`))
    }
    expect(required(template)).toEqual(expect.arrayContaining(["IB_ACCOUNT", "IB_USER_NAME", "IB_PASSWORD"]))
  })

  it("tells LEAN where IB Gateway is installed and which version it is: LEAN starts the Gateway itself", () => {
    const config = filled({ IB_TWS_DIR: "/opt/ibgateway", IB_VERSION: "1019" }) as unknown as Record<string, unknown>
    expect([config["ib-tws-dir"], config["ib-version"]]).toEqual(["/opt/ibgateway", "1019"])
    expect(required(template)).toEqual(expect.arrayContaining(["IB_TWS_DIR", "IB_VERSION"]))
    // No placeholder hides in a comment, where LEAN would never see it filled.
    expect(placeholders(withoutComments(template))).toEqual(placeholders(template))
  })

  it("renders the template from the environment, escaping values for JSON, and names every variable missing", () => {
    expect(filled({ IB_PASSWORD: `p"a\\ss` })["ib-password"]).toBe(`p"a\\ss`)
    const defaults = render(template, Object.fromEntries(required(template).map((name) => [name, "x"])))
    expect(defaults._tag === "Rendered" && JSON.parse(withoutComments(defaults.text))["ib-trading-mode"]).toBe("paper")
    expect(defaults._tag === "Rendered" && JSON.parse(withoutComments(defaults.text))["live-cash-balance"]).toEqual([{ Amount: 100000, Currency: "USD" }])
    const rendered = render(template, { LEAN_ENVIRONMENT: "live-paper", IB_ACCOUNT: "" })
    expect(rendered._tag).toBe("Missing")
    if (rendered._tag === "Missing") {
      expect(rendered.names).toContain("IB_ACCOUNT")
      expect(rendered.names).toContain("TRADE_EXEC_LEAN_ALGORITHM_ID")
      expect(rendered.names).not.toContain("LEAN_ENVIRONMENT")
    }
  })

  it("gives LEAN its paper cash as the list of cash amounts it reads, and refuses an amount that is not a number", () => {
    // LEAN deserializes live-cash-balance as List<CashAmount>: a bare "100000" stops it at start.
    expect(filled({ LEAN_PAPER_CASH_BALANCE: "250000.50" })["live-cash-balance"]).toEqual([{ Amount: 250000.5, Currency: "USD" }])
    for (const bad of ["100,000", "1e6", "-5", "lots"]) {
      const rendered = render(template, { ...Object.fromEntries(required(template).map((name) => [name, "x"])), LEAN_PAPER_CASH_BALANCE: bad })
      expect(rendered).toEqual({ _tag: "Invalid", problems: [{ name: "LEAN_PAPER_CASH_BALANCE", reason: expect.stringContaining(JSON.stringify(bad)) }] })
    }
  })

  it("gives LEAN the last of the algorithm ids the provider lists after a restart, and refuses one that is not an id", () => {
    expect(filled({ TRADE_EXEC_LEAN_ALGORITHM_ID: "te-20261124, te-20261125" }).parameters["trade-exec-algorithm-id"]).toBe("te-20261125")
    const rendered = render(template, { ...Object.fromEntries(required(template).map((name) => [name, "x"])), TRADE_EXEC_LEAN_ALGORITHM_ID: "te-a,../b" })
    expect(rendered).toEqual({ _tag: "Invalid", problems: [{ name: "TRADE_EXEC_LEAN_ALGORITHM_ID", reason: expect.stringContaining(`"../b"`) }] })
  })

  it("creates LEAN's results folder beside the config it writes, which LEAN logs into from its first line", () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "render-config-"))
    try {
      const defaults = render(template, Object.fromEntries(required(template).map((name) => [name, "x"])))
      if (defaults._tag !== "Rendered") throw new Error("cannot render")
      expect(write(path.join(dir, "config.json"), defaults.text)).toBe(path.join(dir, "results"))
      expect(fs.statSync(path.join(dir, "results")).isDirectory()).toBe(true)
      const elsewhere = render(template, { ...Object.fromEntries(required(template).map((name) => [name, "x"])), LEAN_RESULTS_FOLDER: "out/lean results" })
      if (elsewhere._tag !== "Rendered") throw new Error("cannot render")
      expect(write(path.join(dir, "config.json"), elsewhere.text)).toBe(path.join(dir, "out", "lean results"))
      expect(fs.statSync(path.join(dir, "out", "lean results")).isDirectory()).toBe(true)
      expect(fs.statSync(path.join(dir, "config.json")).mode & 0o777).toBe(0o600)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("writes results where the provider reads them unless both are told otherwise", () => {
    expect(algorithm).toContain(`Path.Combine(Directory.GetCurrentDirectory(), "${DEFAULT_RESULTS_DIR}")`)
    expect(template).toContain(`"trade-exec-results-dir": "\${TRADE_EXEC_LEAN_RESULTS_DIR:-${DEFAULT_RESULTS_DIR}}"`)
  })

  it("registers the commands the provider writes, with a property for every field of them", () => {
    expect(algorithm).toContain(`AddCommand<${Commands.ORDER_COMMAND_TYPE}>();`)
    expect(algorithm).toContain(`AddCommand<${Commands.CANCEL_COMMAND_TYPE}>();`)
    const written = JSON.parse(Commands.orderCommand(order("AAA", "BUY", 1, { limitPrice: Dec.unsafe(9), timeInForce: "GTC" }), { market: "usa", securityType: "Equity" }))
    expect(written["$type"]).toBe(Commands.ORDER_COMMAND_TYPE)
    expect(Object.keys(written).filter((k) => k !== "$type").sort()).toEqual([...propertiesOf(Commands.ORDER_COMMAND_TYPE)].sort())
    const cancel = JSON.parse(Commands.cancelCommand("cancel-x", 7))
    expect(Object.keys(cancel).filter((k) => k !== "$type").sort()).toEqual([...propertiesOf(Commands.CANCEL_COMMAND_TYPE)].sort())
    // The time in force LEAN's API names, for the values the provider writes.
    expect(written["TimeInForce"]).toBe("GoodTilCanceled")
    expect(algorithm).toContain(`case "Day":\n                    timeInForce = QuantConnect.Orders.TimeInForce.Day;`)
    expect(algorithm).toContain(`case "GoodTilCanceled":\n                    timeInForce = QuantConnect.Orders.TimeInForce.GoodTilCanceled;`)
  })

  it("seeds prices before adding the securities: without a price LEAN refuses every order", () => {
    const seeded = algorithm.indexOf("Settings.SeedInitialPrices = true;")
    expect(seeded).toBeGreaterThan(0)
    expect(seeded).toBeLessThan(algorithm.indexOf("AddEquity("))
  })

  it("sets every parameter the algorithm reads, and the algorithm writes the files the provider reads", () => {
    const read = [...algorithm.matchAll(/GetParameter\("([a-z-]+)"/g)].map((m) => m[1]!)
    expect(Object.keys(filled().parameters).sort()).toEqual([...new Set(read)].sort())
    expect(algorithm).toContain(`_bridgeId + ".json"`)
    expect(algorithm).toContain(`_bridgeId + "-order-events.json"`)
    expect(algorithm).toContain("new OrderEventJsonConverter(_bridgeId)")
    // LEAN may replace an order's tag; the provider prefers the tag as submitted, under this field.
    expect(algorithm).toContain(`${SUBMITTED_TAG_FIELD} = ticket?.SubmitRequest?.Tag`)
    for (const field of ["brokerId = order.BrokerId", "timeInForce = TimeInForceName(order.TimeInForce)", "cancelRequested = ", `["refused"] = `]) {
      expect(algorithm).toContain(field)
    }
  })

  it("never lets a failed write out of Publish, where LEAN would stop the live algorithm", () => {
    // No .NET here to run it: the source is checked instead. Every write happens inside Publish's try, whose
    // catch logs through Error(...) and leaves the retry to the next publish.
    const publish = algorithm.slice(algorithm.indexOf("private void Publish()"), algorithm.indexOf("private static void WriteWhole"))
    const guarded = publish.slice(publish.indexOf("try"), publish.indexOf("catch (Exception err)"))
    expect(guarded.match(/WriteWhole\(/g)?.length).toBe(2)
    expect(publish.slice(publish.indexOf("catch (Exception err)"))).toMatch(/^catch \(Exception err\)\s*\{\s*Error\(/)
    expect(algorithm.match(/WriteWhole\(_/g)?.length).toBe(2)
  })
})
