/**
 * A large report printed by the built `trade-exec`: whole when it is read to the end, and a quiet end when
 * its reader stops early (`trade-exec show RUN --json | head`).
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { build, cli, start, workspace } from "../support/cli.js"

beforeAll(() => build(), 120_000)

/** A decision of `n` names, each bought: more text than is written to stdout at once. */
const decision = (n: number) => {
  const symbols = Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, "0")}`)
  return workspace({
    "items.csv": `symbol,weight\n${symbols.map((s) => `${s},${(0.9 / n).toFixed(8)}`).join("\n")}\n`,
    "prices.csv": `symbol,price\n${symbols.map((s, i) => `${s},${10 + (i % 90)}`).join("\n")}\n`
  })
}

describe("printing a large run", () => {
  const n = 5000
  const run = ["run", "--items", "items.csv", "--prices", "prices.csv", "--portfolio-value", "100000000"]

  it("prints the whole JSON document and the whole report", async () => {
    const dir = decision(n)
    const result = await cli(dir, [...run, "--json"])
    expect(result.code, result.stderr).toBe(0)
    const doc = result.json()
    expect(doc.orders).toHaveLength(n)
    expect(doc.fills).toHaveLength(n)
    expect(doc.tca.orders).toHaveLength(n)
    const report = await cli(dir, ["show", doc.run.id])
    expect(report.code, report.stderr).toBe(0)
    expect(report.stdout.split("\n").filter((line) => /^S\d{5} {2}BUY/.test(line))).toHaveLength(n)
  }, 60_000)

  it("ends quietly, with the run's exit code, when its reader stops reading after the first line", async () => {
    const dir = decision(n)
    const started = start(dir, [...run, "--json"])
    started.child.stdout.once("data", () => started.child.stdout.destroy())
    const result = await started.result
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
  }, 60_000)
})
