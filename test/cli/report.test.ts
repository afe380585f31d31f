/**
 * `trade-exec` end to end for what a person looks at after a run: the transaction costs in the JSON
 * document, the report command and the line that names it, the moment a run is judged at (`--as-of`), a
 * run whose every order was dropped, and the demo of package.json, which must fill most of its orders on
 * any day.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build, cli, workspace } from "../support/cli.js"

beforeAll(() => build(), 120_000)

const root = fileURLToPath(new URL("../..", import.meta.url))
const ITEMS = "symbol,weight,sector\nAAA,0.2,Tech\nBBB,0.1,Health\n"
const PRICES = "symbol,price,volume,time\nAAA,50,1000000,2026-11-25T20:59:58Z\nBBB,33,1000000,2026-11-25T20:59:58Z\n"
const RUN = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "10000", "--cash-buffer", "0.1"]
const origin = (files: Record<string, string> = {}) => workspace({ "items.csv": ITEMS, "prices.csv": PRICES, ...files })

describe("trade-exec transaction costs", () => {
  it("gives show --json a tca object: per order slippage (positive = cost), commission and shortfall, and totals in bps", async () => {
    const dir = origin()
    const { run } = (await cli(dir, [...RUN, "--commission", "ib-fixed", "--slippage-bps", "2", "--json"])).json()
    const shown = await cli(dir, ["show", run.id, "--json"])
    expect(shown.code, shown.stderr).toBe(0)
    const { tca, orders } = shown.json()
    // AAA BUY 36 @ 50 filled at 50.01 (2 bps), commission 1.00 (the minimum); BBB BUY 27 @ 33 at 33.0066.
    expect(tca.orders).toEqual([
      {
        clientOrderId: orders[0].clientOrderId,
        symbol: "AAA",
        side: "BUY",
        referencePrice: "50",
        avgFillPrice: "50.01",
        filledQuantity: "36",
        filledNotional: "1800.36",
        slippageBps: "2",
        slippage: "0.36",
        commission: "1",
        implementationShortfall: "1.36"
      },
      {
        clientOrderId: orders[1].clientOrderId,
        symbol: "BBB",
        side: "BUY",
        referencePrice: "33",
        avgFillPrice: "33.0066",
        filledQuantity: "27",
        filledNotional: "891.1782",
        slippageBps: "2",
        slippage: "0.1782",
        commission: "1",
        implementationShortfall: "1.1782"
      }
    ])
    // 2.5382 over 2691.5382 traded, in bps
    expect(tca.totals).toEqual({
      ordersFilled: 2,
      filledNotional: "2691.5382",
      slippage: "0.5382",
      slippageBps: "1.9996",
      commission: "2",
      commissionBps: "7.4307",
      implementationShortfall: "2.5382",
      implementationShortfallBps: "9.4303"
    })
  })
})

describe("trade-exec report", () => {
  it("names the report command after a run, and that command writes one HTML page of the run", async () => {
    const dir = origin()
    const result = await cli(dir, [...RUN, "--db", "runs.db"])
    expect(result.code, result.stderr).toBe(0)
    const runId = /^run (run_\w+)/.exec(result.stdout)![1]!
    const line = result.stdout.trimEnd().split("\n").at(-1)!
    expect(line).toBe(`report: trade-exec report ${runId} --html ${runId}.html --db runs.db`)

    const report = await cli(dir, line.replace(/^report: trade-exec /, "").split(" "))
    expect(report.code, report.stderr).toBe(0)
    expect(report.stdout).toContain(`wrote ${runId}.html: run ${runId} (done), 2 orders`)
    const html = readFileSync(join(dir, `${runId}.html`), "utf8")
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain(`<code id="run-id">${runId}</code>`)
    // Self-contained: no element loads anything, and the page's policy allows no request.
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i)
    expect(html).toContain(`content="default-src 'none';`)
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([])
  })

  it("refuses an unknown run id and a file it cannot write, naming them, and leaves no file", async () => {
    const dir = origin()
    const { run } = (await cli(dir, [...RUN, "--json"])).json()
    const unknown = await cli(dir, ["report", "run_nope", "--html", "r.html"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("run_nope")
    const unwritable = await cli(dir, ["report", run.id, "--html", "no/such/dir/r.html"])
    expect(unwritable.code).toBe(2)
    expect(unwritable.stderr).toContain("--html")
    expect(unwritable.stderr).toContain("no/such/dir/r.html")
    expect(existsSync(join(dir, "r.html"))).toBe(false)
  })
})

describe("trade-exec run --as-of", () => {
  const STALE = JSON.stringify({ max_price_age_seconds: 86400 })

  it("judges price staleness at the moment given, whatever the day, and records it in the run", async () => {
    const dir = origin({ "risk.json": STALE })
    const fresh = await cli(dir, [...RUN, "--risk", "risk.json", "--as-of", "2026-11-25T16:00:00-05:00", "--json"])
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(fresh.json().run.params.asOf).toBe("2026-11-25T21:00:00.000Z")
    expect(fresh.json().orders.map((o: any) => o.status)).toEqual(["FILLED", "FILLED"])

    // A later moment, on a database of its own (the first run's fills would leave nothing to trade).
    const later = await cli(origin({ "risk.json": STALE }), [...RUN, "--risk", "risk.json", "--as-of", "2026-11-27T00:00:00Z", "--json"])
    expect(later.code).toBe(3)
    expect(later.json().risk.reasons).toEqual(["price_staleness:AAA", "price_staleness:BBB"])
  })

  it.each([["yesterday"], ["2026-11-25T21:00:00"], ["2026-11-25"]])("refuses --as-of %s, naming the flag, and writes nothing", async (value) => {
    const dir = origin()
    const result = await cli(dir, [...RUN, "--as-of", value])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--as-of")
    expect(result.stderr).toContain(value)
    expect(existsSync(join(dir, "trade-exec.db"))).toBe(false)
  })
})

describe("a drop_orders run whose every order was dropped", () => {
  it("ends blocked with exit 3, every order rejected with its reason, nothing sent", async () => {
    const dir = origin({ "risk.json": JSON.stringify({ policy: "drop_orders", max_order_notional: 100 }) })
    const result = await cli(dir, [...RUN, "--risk", "risk.json", "--json"])
    expect(result.code).toBe(3)
    const doc = result.json()
    expect(doc.run.status).toBe("blocked")
    expect(doc.run.error).toBe("blocked by risk: max_order_notional:AAA, max_order_notional:BBB")
    expect(doc.risk).toMatchObject({ passed: false, policy: "drop_orders" })
    expect(doc.orders.map((o: any) => [o.symbol, o.status, o.rejectReason])).toEqual([
      ["AAA", "REJECTED", "max_order_notional:AAA"],
      ["BBB", "REJECTED", "max_order_notional:BBB"]
    ])
    expect(doc.fills).toEqual([])
  })
})

describe("npm run demo", () => {
  it("runs its exact command on a fresh database and fills most orders, on any day", async () => {
    const demo: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.demo
    const [buildStep, command] = demo.split(" && ")
    expect(buildStep).toBe("npm run build --silent")
    const words = command!.split(" ")
    expect(words.slice(0, 2)).toEqual(["node", "bin/trade-exec.js"])
    // The demo's own files, from the repository's root; the database is a fresh file of this test.
    const db = join(workspace(), "demo.db")
    const result = await cli(root, words.slice(2), { TRADE_EXEC_DB: db })
    expect(result.code, result.stderr).toBe(0)
    const runId = /^run (run_\w+) {2}done/.exec(result.stdout)?.[1]
    expect(runId, result.stdout.slice(0, 300)).toBeDefined()
    expect(result.stdout).toContain(`report: trade-exec report ${runId} --html ${runId}.html --db ${db}`)

    const { orders } = (await cli(root, ["show", runId!, "--json", "--db", db])).json()
    const filled = orders.filter((o: any) => o.status === "FILLED").length
    expect(orders.length).toBeGreaterThan(200)
    expect(filled / orders.length).toBeGreaterThan(0.9)
  })
})
