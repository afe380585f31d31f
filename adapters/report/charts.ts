/**
 * The report's charts: Vega-Lite specifications rendered to SVG here, when the report is written, so the
 * page carries finished drawings and no charting code, opens without computing anything, and fetches
 * nothing. Each mark carries an `aria-label` with its values (Vega-Lite's default), which is what a screen
 * reader reads and what the browser tests look for.
 *
 * Charts plot numbers (binary floating point is fine for a picture); the tables beside them show the exact
 * decimals.
 */
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

const CONFIG = {
  font: FONT,
  background: "white",
  view: { stroke: null },
  axis: { labelFontSize: 11, labelLimit: 240, titleFontSize: 12, titleFontWeight: 600, gridColor: "#e5e7eb", domainColor: "#9ca3af", tickColor: "#9ca3af" },
  legend: { labelFontSize: 11, titleFontSize: 12 }
} as const

const percent = (x: number) => `${(x * 100).toFixed(2)}%`

/** Renders a Vega-Lite specification to an SVG document (without the XML prolog). */
export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** How an order for a symbol ended, as the weights chart colours it. */
export const OUTCOMES = ["filled", "partial", "not filled", "rejected", "no order"] as const
export type Outcome = (typeof OUTCOMES)[number]
const OUTCOME_COLORS: Record<Outcome, string> = {
  filled: "#2563eb",
  partial: "#f59e0b",
  "not filled": "#6b7280",
  rejected: "#dc2626",
  "no order": "#a3a3a3"
}

export interface WeightPoint {
  readonly symbol: string
  readonly decided: number
  readonly achieved: number
  readonly outcome: Outcome
}

/** Above this many symbols the weights chart counts symbols in cells instead of drawing one point each. */
export const MOST_POINTS = 2000

/**
 * Decided weight (x) against achieved weight (y), one point a symbol of the decision; past `MOST_POINTS`
 * symbols, a grid of cells shaded by how many symbols fall in each, so that the page stays small and quick
 * to open however large the run (50,000 points would be megabytes of SVG that mostly cover each other).
 * The dashed line is where a symbol lands when its order filled in full: the decided weight less the cash
 * buffer.
 */
export const weightsChart = (points: ReadonlyArray<WeightPoint>, cashBufferRatio: number): Promise<string> => {
  const xs = points.map((p) => p.decided)
  const lo = Math.min(0, ...xs)
  const hi = Math.max(0, ...xs)
  const kept = 1 - cashBufferRatio
  const present = OUTCOMES.filter((o) => points.some((p) => p.outcome === o))
  return renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: "Decided target weight against achieved weight, one point per symbol",
    width: 560,
    height: 360,
    config: CONFIG,
    layer: [
      {
        data: { values: [{ decided: lo, achieved: lo * kept }, { decided: hi, achieved: hi * kept }] },
        mark: { type: "line", stroke: "#9ca3af", strokeDash: [4, 4], strokeWidth: 1, aria: false },
        encoding: {
          x: { field: "decided", type: "quantitative" },
          y: { field: "achieved", type: "quantitative" }
        }
      },
      points.length > MOST_POINTS ? binned(points) : {
        data: {
          values: points.map((p) => ({ ...p, label: `${p.symbol}: decided ${percent(p.decided)}, achieved ${percent(p.achieved)}, ${p.outcome}` }))
        },
        mark: { type: "circle", size: points.length > 1000 ? 14 : 36, opacity: 0.75 },
        encoding: {
          x: { field: "decided", type: "quantitative", title: "decided target weight", axis: { format: ".3~%" } },
          y: { field: "achieved", type: "quantitative", title: "achieved weight (after fills)", axis: { format: ".3~%" } },
          color: {
            field: "outcome",
            type: "nominal",
            title: "order",
            scale: { domain: [...present], range: present.map((o) => OUTCOME_COLORS[o]) }
          },
          description: { field: "label", type: "nominal" }
        }
      }
    ]
  })
}

/** The symbols counted in a 40 × 40 grid of decided against achieved weight. */
const binned = (points: ReadonlyArray<WeightPoint>) => ({
  data: { values: points.map((p) => ({ decided: p.decided, achieved: p.achieved })) },
  transform: [
    { bin: { maxbins: 40 }, field: "decided", as: "decided_bin" },
    { bin: { maxbins: 40 }, field: "achieved", as: "achieved_bin" },
    { aggregate: [{ op: "count" as const, as: "symbols" }], groupby: ["decided_bin", "decided_bin_end", "achieved_bin", "achieved_bin_end"] },
    { calculate: "datum.symbols + ' symbol(s): decided ' + format(datum.decided_bin, '.4~%') + ' to ' + format(datum.decided_bin_end, '.4~%') + ', achieved ' + format(datum.achieved_bin, '.4~%') + ' to ' + format(datum.achieved_bin_end, '.4~%')", as: "label" }
  ],
  mark: { type: "rect" as const },
  encoding: {
    x: { field: "decided_bin", bin: { binned: true }, type: "quantitative" as const, title: "decided target weight", axis: { format: ".3~%" } },
    x2: { field: "decided_bin_end" },
    y: { field: "achieved_bin", bin: { binned: true }, type: "quantitative" as const, title: "achieved weight (after fills)", axis: { format: ".3~%" } },
    y2: { field: "achieved_bin_end" },
    color: { field: "symbols", type: "quantitative" as const, title: "symbols", scale: { scheme: "blues" } },
    description: { field: "label", type: "nominal" as const }
  }
})

export interface SectorBar {
  readonly sector: string
  readonly before: number
  readonly targeted: number
  readonly after: number
  readonly overCap: boolean
}

/**
 * One row a sector: a bar for the exposure after the run (red above the cap), a black tick where the run
 * aimed, a hollow circle where it started, and the cap as a dashed red line.
 */
export const sectorChart = (sectors: ReadonlyArray<SectorBar>, cap: number | undefined): Promise<string> => {
  const values = sectors.map((s) => ({
    ...s,
    status: s.overCap ? "above the cap" : "within",
    label: `${s.sector}: after ${percent(s.after)}, targeted ${percent(s.targeted)}, before ${percent(s.before)}${s.overCap ? ", above the cap" : ""}`
  }))
  const y = { field: "sector", type: "nominal", title: null, sort: null } as const
  return renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    description: "Gross exposure per sector before, targeted and after the run, against the sector cap",
    width: 720,
    height: { step: 24 },
    config: CONFIG,
    data: { values },
    layer: [
      {
        mark: { type: "bar", height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: "after", type: "quantitative", title: "gross exposure / portfolio value", axis: { format: ".0%" } },
          color: {
            field: "status",
            type: "nominal",
            title: "after the run",
            scale: { domain: ["within", "above the cap"], range: ["#60a5fa", "#dc2626"] }
          },
          description: { field: "label", type: "nominal" }
        }
      },
      {
        mark: { type: "tick", color: "#111827", thickness: 2, aria: false },
        encoding: { y, x: { field: "targeted", type: "quantitative" } }
      },
      {
        mark: { type: "point", shape: "circle", color: "#111827", filled: false, size: 40, aria: false },
        encoding: { y, x: { field: "before", type: "quantitative" } }
      },
      ...(cap === undefined ? [] : [{
        data: { values: [{ cap }] },
        mark: { type: "rule" as const, color: "#dc2626", strokeDash: [5, 3], strokeWidth: 1.5, aria: false },
        encoding: { x: { field: "cap", type: "quantitative" as const } }
      }])
    ]
  } as TopLevelSpec)
}
