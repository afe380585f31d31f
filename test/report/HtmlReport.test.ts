/**
 * The page as text, from a run executed on the in-memory world: what the browser tests cannot see from
 * outside (the moves the policy fit records) and what must never be in it (anything that loads from
 * elsewhere, markup from a run's data).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as HtmlReport from "../../adapters/report/HtmlReport.js"
import * as Dec from "../../src/domain/Decimal.js"
import type { Symbol } from "../../src/domain/Ids.js"
import type { RunRecord } from "../../src/domain/Run.js"
import { item, makeWorld, quote } from "../support/world.js"

const pageOf = (adjusted: (recorded: RunRecord) => unknown) =>
  Effect.gen(function*() {
    const world = yield* makeWorld({ quotes: [quote("AAA", 50), quote("BBB", 25)], mock: { cash: 10000 } })
    const run = yield* world.queueRun(
      [item("AAA", "0.2", { sector: "Tech <b>&</b>" }), item("BBB", "0.1", { sector: "Health" })],
      // AAA is held at its target already (no order), 20% of the portfolio in a sector capped at 15%.
      { portfolioValue: Dec.unsafe(10000), positions: [{ symbol: "AAA" as Symbol, quantity: Dec.unsafe(40) }], risk: { maxSectorWeight: Dec.unsafe("0.15") } }
    )
    yield* world.runner.execute(run.id)
    const sources = yield* HtmlReport.load(run.id).pipe(Effect.provide(world.services))
    const recorded = adjusted(sources.report.run.recorded!) as RunRecord
    return yield* HtmlReport.render({
      ...sources,
      report: { ...sources.report, run: { ...sources.report.run, recorded } },
      generatedAt: "2026-11-25T21:00:00.000Z",
      generator: "test"
    })
  })

describe("HtmlReport", () => {
  it.effect("lists the adjustments a run record carries, and says when it has none", () =>
    Effect.gen(function*() {
      const none = yield* pageOf((r) => r)
      expect(none).toContain("<h3>Adjustments</h3><p class=\"muted\">None recorded")
      const page = yield* pageOf((r) => ({
        ...r,
        fit: {
          adjustments: [
            { rule: "max_name_weight", symbol: "AAA", from: Dec.unsafe("0.4"), to: Dec.unsafe("0.3") },
            { rule: "max_sector_weight", sector: "Tech", from: Dec.unsafe("0.2"), to: Dec.unsafe("0.15"), factor: Dec.unsafe("0.75") },
            { rule: "max_gross_exposure", from: Dec.unsafe("0.3"), to: Dec.unsafe("0.25"), factor: Dec.unsafe("0.8") }
          ],
          unmet: []
        }
      }))
      const rows = JSON.parse(/<script type="application\/json" id="adjustments-table-rows">(.*?)<\/script>/s.exec(page)![1]!).rows
      expect(rows).toEqual([
        ["max_name_weight", "AAA", "0.4", "0.3"],
        ["max_sector_weight", "sector Tech", "0.2", "0.15 (× 0.75)"],
        ["max_gross_exposure", "(the run)", "0.3", "0.25 (× 0.8)"]
      ])
    }))

  it.effect("loads nothing from elsewhere and escapes the run's own text", () =>
    Effect.gen(function*() {
      const page = yield* pageOf((r) => r)
      expect(page).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i)
      expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/)
      expect(page).not.toContain("<b>&</b>")
      expect(page).toContain("Tech &lt;b&gt;&amp;&lt;/b&gt;")
      // The sector over its cap is marked in the table beside the chart.
      expect(page).toMatch(/<tr class="over"><td>Tech &lt;b&gt;&amp;&lt;\/b&gt;<\/td>/)
    }))
})
