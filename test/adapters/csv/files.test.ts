import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { readItems, readPositions, readPrices, readSecurities, readText } from "../../../adapters/csv/readers.js"
import * as Dec from "../../../src/domain/Decimal.js"

let dir = ""
const path = (name: string) => join(dir, name)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "csv-readers-"))
  const bom = Buffer.from([0xef, 0xbb, 0xbf])
  await writeFile(path("decision_items.csv"), Buffer.concat([bom, Buffer.from("Symbol,Weight,Sector\r\nAAA,0.2,\"Tech, Large\"\r\nBBB,0.1,Energy\r\n")]))
  await writeFile(path("prices.csv"), "symbol,price,time\nAAA,50,2026-11-25T09:30:00-05:00\nBBB,33,\n")
  await writeFile(path("positions.csv"), "symbol,quantity,avg_cost\nAAA,10,48.5\n")
  await writeFile(path("securities.csv"), "symbol,lot_size,tick_size\nAAA,1,0.01\nBBB,100,0.05\n")
  await writeFile(path("bad_prices.csv"), "symbol,price\nAAA,50\nBBB,0\n")
  await writeFile(path("latin1.csv"), Buffer.concat([Buffer.from("symbol,weight,sector\nAAA,0.1,x\nBBB,0.1,Soci"), Buffer.from([0xe9]), Buffer.from("t\n")]))
  await writeFile(path("utf16.csv"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("symbol,weight\n", "utf16le")]))
  await writeFile(path("empty.csv"), "")
  await mkdir(path("a-directory"))
  const big = ["symbol,weight,price"]
  for (let i = 0; i < 50_000; i++) big.push(`S${i},0.00002,${i + 1}.5`)
  await writeFile(path("big.csv"), big.join("\r\n"))
})

afterAll(async () => {
  if (dir !== "") await rm(dir, { recursive: true, force: true })
})

describe("CSV readers on real files (NodeFileSystem)", () => {
  it.effect("reads an items file with a BOM, CRLF and quoted commas", () =>
    Effect.gen(function*() {
      const items = yield* readItems(path("decision_items.csv"))
      expect(items.map((i) => [i.symbol, Dec.toString(i.weight), i.sector])).toEqual([
        ["AAA", "0.2", "Tech, Large"],
        ["BBB", "0.1", "Energy"]
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("reads prices, positions and securities files", () =>
    Effect.gen(function*() {
      const prices = yield* readPrices(path("prices.csv"))
      expect(prices.map((q) => [q.symbol, Dec.toString(q.price), q.time])).toEqual([
        ["AAA", "50", "2026-11-25T14:30:00.000Z"],
        ["BBB", "33", undefined]
      ])
      const positions = yield* readPositions(path("positions.csv"))
      expect(positions.map((p) => [p.symbol, Dec.toString(p.quantity), p.avgCost && Dec.toString(p.avgCost)])).toEqual([
        ["AAA", "10", "48.5"]
      ])
      const securities = yield* readSecurities(path("securities.csv"))
      expect(securities.map((s) => [s.symbol, s.lotSize && Dec.toString(s.lotSize)])).toEqual([["AAA", "1"], ["BBB", "100"]])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("names the file path as the source of a bad value", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readPrices(path("bad_prices.csv")))
      expect([error.source, error.row, error.field, error.value]).toEqual([path("bad_prices.csv"), 3, "price", "0"])
      expect(error.message).toBe(`${path("bad_prices.csv")} row 3, price: must be greater than zero (got "0")`)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("refuses a missing file as InvalidInput on field 'file', naming the path", () =>
    Effect.gen(function*() {
      const missing = path("no-such-file.csv")
      const error = yield* Effect.flip(readItems(missing))
      expect(error._tag).toBe("InvalidInput")
      expect([error.source, error.row, error.field, error.reason]).toEqual([missing, undefined, "file", "does not exist"])
      expect(error.message).toBe(`${missing}, file: does not exist`)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("refuses a directory given as a file", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readPositions(path("a-directory")))
      expect([error.field, error.reason]).toEqual(["file", "is a directory, not a file"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("refuses text that is not UTF-8, naming the line of the first bad byte", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readItems(path("latin1.csv")))
      expect([error.row, error.field]).toEqual([3, "file"])
      expect(error.reason).toContain("is not UTF-8 text")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("refuses UTF-16 text with a hint", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readText(path("utf16.csv")))
      expect(error.reason).toBe("is UTF-16 text; save it as UTF-8")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("refuses an empty file for want of a header", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readSecurities(path("empty.csv")))
      expect([error.source, error.row, error.field]).toEqual([path("empty.csv"), undefined, "header"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("reads a 50,000-row file", () =>
    Effect.gen(function*() {
      const items = yield* readItems(path("big.csv"))
      expect(items).toHaveLength(50_000)
      expect(Dec.toString(items[49_999]!.price!)).toBe("50000.5")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
