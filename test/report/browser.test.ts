/**
 * The HTML report in a real browser: the report of a run made through the CLI shows its run id, its counts,
 * one bar per sector in the exposure chart and tables that filter, sort and page; it logs no error and makes
 * no request beyond the file itself. A 5,000-name run's report opens the same way.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { Browser, Page } from "playwright-core"
import { describeBrowser, launch } from "../support/browser.js"
import { build, cli, workspace } from "../support/cli.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** A page opened on a file, with every console error, page error and request it made. */
const open = async (browser: Browser, file: string) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const errors: Array<string> = []
  const requests: Array<string> = []
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()))
  page.on("pageerror", (e) => errors.push(String(e)))
  page.on("request", (r) => requests.push(r.url()))
  const started = Date.now()
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
  return { page, errors, requests, loadedIn: Date.now() - started }
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents()

/** The demo's run (package.json's command, on a fresh database of its own) and its report. */
const examplesReport = async () => {
  const command: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.demo.split(" && ")[1]
  const dir = workspace()
  const db = join(dir, "demo.db")
  const run = await cli(root, command.split(" ").slice(2), { TRADE_EXEC_DB: db })
  expect(run.code, run.stderr).toBe(0)
  const runId = /^run (run_\w+)/.exec(run.stdout)![1]!
  const file = join(dir, "report.html")
  const report = await cli(dir, ["report", runId, "--html", file, "--db", db])
  expect(report.code, report.stderr).toBe(0)
  return { runId, file, document: (await cli(dir, ["show", runId, "--json", "--db", db])).json() }
}

describeBrowser("the HTML report in Chromium", () => {
  let browser: Browser
  beforeAll(async () => {
    build()
    browser = await launch()
  }, 120_000)
  afterAll(() => browser?.close())

  it("shows the examples' run: its id, counts, a bar per sector, a filter that narrows the orders; no error, no request", async () => {
    const { runId, file, document } = await examplesReport()
    const { page, errors, requests } = await open(browser, file)

    expect(await page.locator("#run-id").textContent()).toBe(runId)
    const count = (key: string) => page.locator(`#summary [data-count="${key}"] .value`).textContent()
    const statuses = document.orders.map((o: any) => o.status)
    expect(await count("orders")).toBe(String(document.orders.length))
    expect(await count("filled")).toBe(String(statuses.filter((s: string) => s === "FILLED").length))
    expect(await count("rejected")).toBe(String(statuses.filter((s: string) => s === "REJECTED").length))
    expect(await count("skipped")).toBe(String(document.skipped.length))

    // One bar per sector of the decision, each named once, as the table beside the chart lists them.
    const decided = readFileSync(join(root, "examples", "decision_items.csv"), "utf8").trim().split("\n").slice(1)
      .map((line) => /"([^"]+)"\s*$/.exec(line)![1]!)
    const sectors = [...new Set(decided)].sort()
    const bars = (await page.locator("#sector-chart [aria-roledescription='bar']").evaluateAll((marks) => marks.map((m) => m.getAttribute("aria-label")!)))
      .map((label) => label.split(":")[0])
    expect(bars).toEqual(sectors)
    expect(await texts(page, "#sector-table tbody td:first-child")).toEqual(sectors)
    // One point per symbol of the decision that has a price, in the weights chart.
    const unpriced = document.skipped.filter((s: any) => s.reason === "missing_price").length
    expect(await page.locator("#weights-chart [aria-roledescription='circle']").count()).toBe(decided.length - unpriced)

    // The orders table: filtered by symbol, side and status.
    const orders = page.locator("#orders-table")
    const symbols = () => texts(page, "#orders-table tbody td:first-child")
    expect(await symbols()).toHaveLength(100)
    await orders.locator("input[data-filter='symbol']").fill("ab")
    const matching = document.orders.filter((o: any) => o.symbol.includes("AB")).map((o: any) => o.symbol)
    expect(matching.length).toBeGreaterThan(0)
    expect(await symbols()).toEqual(matching)
    await orders.locator("input[data-filter='symbol']").fill("")
    await orders.locator("select[data-filter='side']").selectOption("SELL")
    const sells = document.orders.filter((o: any) => o.side === "SELL")
    expect(await symbols()).toEqual(sells.map((o: any) => o.symbol))
    expect(new Set(await texts(page, "#orders-table tbody td:nth-child(2)"))).toEqual(new Set(["SELL"]))
    await orders.locator("select[data-filter='side']").selectOption("")
    await orders.locator("select[data-filter='status']").selectOption("REJECTED")
    expect(await symbols()).toEqual(document.orders.filter((o: any) => o.status === "REJECTED").map((o: any) => o.symbol))

    expect(await page.locator("#audit-verification").textContent()).toContain("chain verified")
    expect(errors).toEqual([])
    expect(requests).toEqual([pathToFileURL(file).href])
  }, 120_000)

  it("opens a 5,000-name run's report with its charts, and pages and sorts its orders", async () => {
    const n = 5000
    const sectors = ["Energy", "Financials", "Health Care", "Industrials", "Utilities"]
    const names = Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, "0")}`)
    const dir = workspace({
      "items.csv": ["symbol,weight,sector", ...names.map((s, i) => `${s},${(10 + (i % 20)) / 100000},${sectors[i % sectors.length]}`)].join("\n"),
      "prices.csv": ["symbol,price", ...names.map((s, i) => `${s},${10 + (i % 90)}.${String(i % 100).padStart(2, "0")}`)].join("\n")
    })
    const run = await cli(dir, ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000000", "--slippage-bps", "3", "--json"])
    expect(run.code, run.stderr).toBe(0)
    const runId = run.json().run.id
    expect((await cli(dir, ["report", runId, "--html", "report.html"])).code).toBe(0)

    const file = join(dir, "report.html")
    const { page, errors, requests, loadedIn } = await open(browser, file)
    console.info(`the report of ${n} names (${Math.round(readFileSync(file).length / 1024)} KiB) loaded in ${loadedIn} ms`)
    expect(await page.locator("#summary [data-count='orders'] .value").textContent()).toBe("5,000")
    // So many symbols are counted in cells: the counts add up to every symbol.
    const cells = await page.locator("#weights-chart [aria-roledescription='rect mark']").evaluateAll((marks) => marks.map((m) => m.getAttribute("aria-label")!))
    expect(cells.length).toBeGreaterThan(0)
    expect(cells.reduce((sum, label) => sum + Number(/^(\d+) symbol/.exec(label)![1]), 0)).toBe(n)
    expect(await page.locator("#sector-chart [aria-roledescription='bar']").count()).toBe(sectors.length)

    const orders = page.locator("#orders-table")
    expect(await orders.locator(".pager span").textContent()).toBe("rows 1–100 of 5,000")
    await orders.locator(".pager button", { hasText: "next" }).click()
    expect(await orders.locator(".pager span").textContent()).toBe("rows 101–200 of 5,000")
    expect(await page.locator("#orders-table tbody td:first-child").first().textContent()).toBe("S00100")
    // Sorted by quantity, largest first: the largest order is the cheapest name's.
    await orders.locator("th button", { hasText: "Quantity" }).click()
    await orders.locator("th button", { hasText: "Quantity" }).click()
    const quantities = (await texts(page, "#orders-table tbody td:nth-child(3)")).map(Number)
    expect(quantities).toEqual([...quantities].sort((a, b) => b - a))
    expect(quantities[0]).toBe(Math.max(...run.json().orders.map((o: any) => Number(o.quantity))))

    expect(errors).toEqual([])
    expect(requests).toEqual([pathToFileURL(file).href])
  }, 180_000)
})
