/**
 * A run as one self-contained HTML page, for a person who would rather look than read: the run and its
 * settings, target against achieved weight per symbol, sector exposure against the cap, the risk verdict
 * with its violations, adjustments and skips, transaction costs per order and in total, and the audit
 * timeline with whether the chain verifies.
 *
 * Everything is inline (style, script, charts as SVG, the tables' rows as JSON) and the page's content
 * security policy allows no request at all, so it opens offline and can be mailed or archived. Figures
 * are exact decimals, computed by the core (`Tca`, `Exposure`); only the charts plot binary numbers.
 */
import { Effect, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { RunId, Symbol } from "../../src/domain/Ids.js"
import type { TradeOrder } from "../../src/domain/Order.js"
import type { RiskVerdict } from "../../src/domain/Risk.js"
import { RunParams, type TradeRun } from "../../src/domain/Run.js"
import type { DecisionSnapshot } from "../../src/domain/Snapshot.js"
import * as Exposure from "../../src/Exposure.js"
import { AuditLog, type AuditEvent, type AuditVerification } from "../../src/ports/AuditLog.js"
import { TradeRepository } from "../../src/ports/TradeRepository.js"
import * as Tca from "../../src/Tca.js"
import type { RunReport } from "../../src/TradeRunner.js"
import { MOST_POINTS, type Outcome, sectorChart, weightsChart } from "./charts.js"
import { SCRIPT, STYLE } from "./page.js"

/** Everything the page shows, as the stores hold it. */
export interface ReportSources {
  readonly report: RunReport
  readonly snapshot: DecisionSnapshot
  readonly events: ReadonlyArray<AuditEvent>
  readonly verification: AuditVerification
  /** When the page was made, and by what (shown in its footer). */
  readonly generatedAt: string
  readonly generator: string
}

/** Reads a run, its snapshot, its audit events and the chain's verification from the stores. */
export const load = Effect.fn("HtmlReport.load")(function*(runId: RunId) {
  const repo = yield* TradeRepository
  const audit = yield* AuditLog
  const run = yield* repo.getRun(runId)
  const [orders, fills, snapshot, events, verification] = yield* Effect.all([
    repo.listOrders(runId),
    repo.listFills(runId),
    repo.getSnapshot(run.snapshotId),
    audit.list({ runId }),
    audit.verify
  ])
  const report: RunReport = { run, orders, fills, ...(run.risk === undefined ? {} : { risk: run.risk }), skipped: run.recorded?.skipped ?? [] }
  return { report, snapshot, events, verification }
})

// ---------------------------------------------------------------------------------------------------------
// Text

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

/** JSON inside a `<script>` element: nothing in it may close the element. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

const exact = (d: Dec.Decimal | undefined): string => (d === undefined ? "" : Dec.toString(d))

/** Money: exact, grouped in thousands, two decimals at least. */
const money = (d: Dec.Decimal): string => {
  const [whole, fraction = ""] = Dec.toString(d).split(".")
  const sign = whole!.startsWith("-") ? "-" : ""
  return `${sign}${whole!.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction.padEnd(2, "0")}`
}

const HUNDRED = Dec.unsafe(100)

/** A weight as a percentage, exactly (0.0123 → 1.23%). */
const percent = (d: Dec.Decimal | undefined): string => (d === undefined ? "" : `${Dec.toString(Dec.mul(d, HUNDRED))}%`)

const plot = (d: Dec.Decimal): number => Number(Dec.toString(d))

const count = (n: number): string => n.toLocaleString("en-US")

// ---------------------------------------------------------------------------------------------------------
// Tables (filled in the browser from their rows)

interface Column {
  readonly key: string
  readonly label: string
  readonly numeric?: boolean
  readonly filter?: "text" | "choice"
  readonly status?: boolean
  readonly signed?: boolean
  readonly wrap?: boolean
}

const dataTable = (id: string, columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const dataId = `${id}-rows`
  return `<div class="datatable" id="${id}" data-table="${dataId}"></div>\n` +
    `<script type="application/json" id="${dataId}">${scriptJson({ columns, rows })}</script>`
}

// ---------------------------------------------------------------------------------------------------------
// Sections

const facts = (entries: ReadonlyArray<readonly [string, string | undefined]>): string =>
  `<dl class="facts">${
    entries.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")
  }</dl>`

const code = (text: string) => `<code>${escapeHtml(text)}</code>`

/** The provider the run was executed by, as its last execute event names it. */
const providerOf = (events: ReadonlyArray<AuditEvent>): string | undefined => {
  for (let i = events.length - 1; i >= 0; i--) {
    const payload = events[i]!.payload as { readonly provider?: unknown } | null
    if (events[i]!.type === "trade_run.execute" && typeof payload?.provider === "string") return payload.provider
  }
  return undefined
}

const paramsSection = (run: TradeRun, snapshot: DecisionSnapshot, events: ReadonlyArray<AuditEvent>): string => {
  const { positions, securities, risk, riskPolicy, ...settings } = Schema.encodeSync(RunParams)(run.params)
  const recorded = run.recorded
  const limits = risk ?? {}
  const settingRows = Object.entries(settings).map(([k, v]) => [k, code(typeof v === "string" ? v : JSON.stringify(v))] as const)
  const limitRows = Object.entries(limits).map(([k, v]) => [k, code(typeof v === "string" ? v : JSON.stringify(v))] as const)
  return `<section id="run"><h2>The run</h2>
<div class="columns"><div>
${facts([
    ["run", code(run.id)],
    ["status", `<span class="badge ${run.status}">${run.status}</span>`],
    ["error", run.error === undefined ? undefined : `<span class="error">${escapeHtml(run.error)}</span>`],
    ["mode", escapeHtml(run.mode)],
    ["provider", escapeHtml(providerOf(events) ?? "")],
    ["snapshot", code(snapshot.id)],
    ["snapshot digest", code(snapshot.digest)],
    ["snapshot source", snapshot.source === undefined ? undefined : escapeHtml(snapshot.source)],
    ["snapshot items", count(snapshot.items.length)],
    ["frozen", snapshot.frozenAt],
    ["created", run.createdAt],
    ["started", run.startedAt],
    ["orders built", recorded?.builtAt],
    ["finished", run.finishedAt],
    ["attempts", String(run.attempts)]
  ])}
</div><div>
<h3>Parameters</h3>
${
    facts([
      ...settingRows,
      ["positions", positions === undefined ? "from the account" : `${count(positions.length)} given`],
      ["securities", securities === undefined ? undefined : `${count(securities.length)} given`],
      ...(recorded === undefined ? [] : [
        ["portfolio value used", code(money(recorded.settings.portfolioValue))] as const,
        ["cash used", code(money(recorded.settings.cash))] as const
      ])
    ])
  }
<h3>Risk limits</h3>
${facts([["policy", code(riskPolicy ?? "block_run")], ...limitRows])}
${limitRows.length === 0 ? `<p class="muted">No limit was set.</p>` : ""}
</div></div></section>`
}

/** A figure in a card: exact, in a smaller type when it is long (money with many decimals). */
const cardValue = (value: string) => `<div class="value${value.length > 12 ? " long" : ""}">${value}</div>`

type Counted = Record<TradeOrder["status"], number>

const summary = (report: RunReport, costs: Tca.TransactionCosts): string => {
  const by: Counted = { NEW: 0, SUBMITTED: 0, PARTIAL: 0, FILLED: 0, CANCELED: 0, REJECTED: 0 }
  for (const o of report.orders) by[o.status]++
  const bought = Dec.sum(costs.orders.filter((c) => c.side === "BUY").map((c) => c.filledNotional))
  const sold = Dec.sum(costs.orders.filter((c) => c.side === "SELL").map((c) => c.filledNotional))
  const card = (key: string, label: string, value: string) =>
    `<div class="card" data-count="${key}"><div class="label">${label}</div>${cardValue(value)}</div>`
  return `<div class="summary" id="summary">
${card("orders", "orders", count(report.orders.length))}
${card("filled", "filled", count(by.FILLED))}
${card("partial", "partly filled", count(by.PARTIAL))}
${card("rejected", "rejected", count(by.REJECTED))}
${card("canceled", "canceled", count(by.CANCELED))}
${card("open", "not final", count(by.NEW + by.SUBMITTED))}
${card("skipped", "skipped", count(report.skipped.length))}
${card("violations", "risk violations", count(report.risk?.violations.length ?? 0))}
${card("bought", "bought", money(bought))}
${card("sold", "sold", money(sold))}
${card("commission", "commissions", money(costs.totals.commission))}
${card("shortfall", "shortfall (bps)", costs.totals.implementationShortfallBps === undefined ? "–" : exact(costs.totals.implementationShortfallBps))}
</div>`
}

/** How each symbol's order ended (the last order, if a symbol had two). */
const outcomes = (orders: ReadonlyArray<TradeOrder>): Map<Symbol, Outcome> => {
  const result = new Map<Symbol, Outcome>()
  for (const o of orders) {
    result.set(
      o.symbol,
      o.status === "FILLED" ? "filled" : o.status === "REJECTED" ? "rejected" : Dec.isPositive(o.filledQuantity) ? "partial" : "not filled"
    )
  }
  return result
}

const weightsSection = async (report: RunReport, snapshot: DecisionSnapshot, exposure: Exposure.Exposure): Promise<string> => {
  const outcome = outcomes(report.orders)
  const points = exposure.symbols.flatMap((s) =>
    s.decided === undefined ? [] : [{ symbol: s.symbol, decided: plot(s.decided), achieved: plot(s.after), outcome: outcome.get(s.symbol) ?? "no order" as const }]
  )
  const buffer = report.run.recorded?.settings.cashBufferRatio ?? Dec.ZERO
  const chart = points.length === 0 ? `<p class="muted">No symbol could be valued.</p>` : await weightsChart(points, plot(buffer))
  const rows = exposure.symbols.map((s) => [
    s.symbol,
    s.sector ?? "",
    percent(s.decided),
    percent(s.before),
    percent(s.targeted),
    percent(s.after),
    percent(Dec.sub(s.after, s.targeted)),
    outcome.get(s.symbol) ?? "no order"
  ])
  const inDecision = new Set(snapshot.items.map((i) => i.symbol))
  const heldOnly = exposure.symbols.filter((s) => !inDecision.has(s.symbol)).length
  return `<section id="weights"><h2>Target and achieved weight</h2>
<figure id="weights-chart">${chart}<figcaption>${
    points.length > MOST_POINTS
      ? `The ${count(points.length)} symbols of the decision counted in cells of decided weight against the weight their fills reached`
      : "One point per symbol of the decision: its decided weight against the weight its fills reached"
  }, at the reference price. The dashed line is a full fill: the decided weight less the cash buffer (${percent(buffer)}).
Below it, an order that did not fill, was trimmed, or was rounded to lots.</figcaption></figure>
${
    dataTable("weights-table", [
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "sector", label: "Sector", filter: "choice" },
      { key: "decided", label: "Decided", numeric: true },
      { key: "before", label: "Before", numeric: true },
      { key: "targeted", label: "Targeted", numeric: true },
      { key: "after", label: "Achieved", numeric: true },
      { key: "gap", label: "Achieved − targeted", numeric: true, signed: true },
      { key: "outcome", label: "Order", filter: "choice" }
    ], rows)
  }
<p class="muted">Weights are fractions of the portfolio value the run was sized on. Targeted: as if every order had filled as built.
${heldOnly > 0 ? `${count(heldOnly)} held symbol(s) the decision does not mention have no decided weight.` : ""}
${exposure.unpriced.length > 0 ? `Not valued for want of a price: ${escapeHtml(exposure.unpriced.join(", "))}.` : ""}</p>
</section>`
}

const sectorSection = async (exposure: Exposure.Exposure): Promise<string> => {
  const cap = exposure.sectorCap
  if (exposure.sectors.length === 0) {
    return `<section id="sectors"><h2>Sector exposure</h2><p class="muted">No symbol of the run has a sector.</p></section>`
  }
  const chart = await sectorChart(
    exposure.sectors.map((s) => ({ sector: s.sector, before: plot(s.before), targeted: plot(s.targeted), after: plot(s.after), overCap: s.overCap })),
    cap === undefined ? undefined : plot(cap)
  )
  const rows = exposure.sectors.map((s) =>
    `<tr${s.overCap ? ` class="over"` : ""}><td>${escapeHtml(s.sector)}</td><td class="num">${percent(s.before)}</td><td class="num">${percent(s.targeted)}</td>` +
    `<td class="num">${percent(s.after)}</td><td>${s.overCap ? "above the cap" : cap === undefined ? "" : "within"}</td></tr>`
  ).join("\n")
  return `<section id="sectors"><h2>Sector exposure</h2>
<figure id="sector-chart">${chart}<figcaption>Gross exposure (Σ |position value|) of each sector over the portfolio value:
the bar after the run, <b>▮</b> the tick where the run aimed, ○ before it${cap === undefined ? "; no sector cap was set" : `; dashed red: the cap, ${percent(cap)}`}.</figcaption></figure>
<div class="tablewrap"><table id="sector-table"><thead><tr><th>Sector</th><th class="num">Before</th><th class="num">Targeted</th><th class="num">After</th><th>Cap ${cap === undefined ? "(none)" : percent(cap)}</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`
}

/** A move of the policy `fit`, as the page lists it: the rule, what it moved (a name, a sector, the run), from what to what. */
interface Adjustment {
  readonly rule: string
  readonly symbol?: string
  readonly from: string
  readonly to: string
}

const shown = (value: unknown): string =>
  value === undefined || value === null ? "" : Dec.isDecimal(value) ? Dec.toString(value) : typeof value === "string" ? value : JSON.stringify(value)

/** The moves the run's fit recorded (none for a run not fitted); a scale of many names is listed by its sector, or as the run's, with its factor. */
const adjustmentsOf = (run: TradeRun): ReadonlyArray<Adjustment> =>
  (run.recorded?.fit?.adjustments ?? []).map((a) => {
    const where = a.symbol ?? (a.sector === undefined ? undefined : `sector ${a.sector}`)
    const to = a.factor === undefined ? shown(a.to) : `${shown(a.to)} (× ${shown(a.factor)})`
    return { rule: a.rule, ...(where === undefined ? {} : { symbol: where }), from: shown(a.from), to }
  })

const riskSection = (report: RunReport): string => {
  const risk: RiskVerdict | undefined = report.risk
  const verdict = risk === undefined
    ? `<p class="muted">Not judged yet.</p>`
    : `<p id="risk-verdict"><span class="badge ${risk.passed ? "ok" : "bad"}">${risk.passed ? "passed" : "blocked"}</span>
policy ${code(risk.policy)}, ${count(risk.violations.length)} violation(s), ${count(risk.rejected.length)} order(s) rejected, ${count(risk.accepted.length)} accepted</p>`
  const violations = risk === undefined || risk.violations.length === 0 ? "" : `<h3>Violations</h3>\n` + dataTable(
    "violations-table",
    [
      { key: "rule", label: "Rule", filter: "choice" },
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "sector", label: "Sector" },
      { key: "limit", label: "Limit" },
      { key: "actual", label: "Actual" }
    ],
    risk.violations.map((v) => [v.rule, v.symbol ?? "(the run)", v.sector ?? "", v.limit, v.actual])
  )
  const adjustments = adjustmentsOf(report.run)
  const adjusted = adjustments.length === 0
    ? `<h3>Adjustments</h3><p class="muted">None recorded: a policy that adjusts orders instead of dropping them lists here each value it moved.</p>`
    : `<h3>Adjustments</h3>\n` + dataTable(
    "adjustments-table",
    [
      { key: "rule", label: "Rule", filter: "choice" },
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "from", label: "From", numeric: true },
      { key: "to", label: "To", numeric: true }
    ],
    adjustments.map((a) => [a.rule, a.symbol ?? "(the run)", a.from, a.to])
  )
  const skips = report.skipped.length === 0 ? `<h3>Skips</h3><p class="muted">Every symbol got an order.</p>` : `<h3>Skips</h3>\n` + dataTable(
    "skips-table",
    [
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "reason", label: "Reason", filter: "choice" },
      { key: "detail", label: "Detail", wrap: true }
    ],
    report.skipped.map((s) => [s.symbol, s.reason, s.detail ?? ""])
  )
  return `<section id="risk"><h2>Risk verdict, adjustments and skips</h2>\n${verdict}\n${violations}\n${adjusted}\n${skips}</section>`
}

const costsSection = (report: RunReport, costs: Tca.TransactionCosts): string => {
  const t = costs.totals
  const byId = new Map(costs.orders.map((c) => [c.clientOrderId, c]))
  const rows = report.orders.map((o) => {
    const c = byId.get(o.clientOrderId)
    return [
      o.symbol,
      o.side,
      exact(o.quantity),
      o.orderType,
      exact(o.limitPrice),
      exact(o.referencePrice),
      o.status,
      o.rejectReason ?? "",
      exact(o.filledQuantity),
      exact(c?.avgFillPrice),
      exact(c?.slippageBps),
      c === undefined ? "" : money(c.slippage),
      c === undefined ? "" : money(c.commission),
      c === undefined ? "" : money(c.implementationShortfall),
      o.clientOrderId
    ]
  })
  const bps = (d: Dec.Decimal | undefined) => (d === undefined ? "–" : `${exact(d)} bps`)
  return `<section id="costs"><h2>Orders and transaction costs</h2>
<div class="summary" id="cost-totals">
<div class="card"><div class="label">traded notional</div>${cardValue(money(t.filledNotional))}</div>
<div class="card"><div class="label">slippage</div>${cardValue(money(t.slippage))}<div class="label">${bps(t.slippageBps)}</div></div>
<div class="card"><div class="label">commission</div>${cardValue(money(t.commission))}<div class="label">${bps(t.commissionBps)}</div></div>
<div class="card"><div class="label">implementation shortfall</div>${cardValue(money(t.implementationShortfall))}<div class="label">${bps(t.implementationShortfallBps)}</div></div>
<div class="card"><div class="label">orders with fills</div><div class="value">${count(t.ordersFilled)}</div></div>
</div>
<p class="muted">Slippage against the reference price the order was built at, positive when it cost (a buy above it, a sell below it);
implementation shortfall = side × (average fill − reference) × filled + commission. Totals in basis points are of the traded notional.</p>
${
    dataTable("orders-table", [
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "side", label: "Side", filter: "choice" },
      { key: "quantity", label: "Quantity", numeric: true },
      { key: "type", label: "Type" },
      { key: "limit", label: "Limit", numeric: true },
      { key: "reference", label: "Reference", numeric: true },
      { key: "status", label: "Status", filter: "choice", status: true },
      { key: "reason", label: "Reason" },
      { key: "filled", label: "Filled", numeric: true },
      { key: "avg", label: "Avg price", numeric: true },
      { key: "slippageBps", label: "Slippage bps", numeric: true, signed: true },
      { key: "slippage", label: "Slippage", numeric: true, signed: true },
      { key: "commission", label: "Commission", numeric: true },
      { key: "shortfall", label: "Shortfall", numeric: true, signed: true },
      { key: "clientOrderId", label: "Client order id" }
    ], rows)
  }
</section>`
}

/** One line about an event, for the timeline. */
const eventSummary = (event: AuditEvent): { readonly symbol: string; readonly what: string } => {
  const p = (event.payload ?? {}) as Record<string, unknown>
  switch (event.type) {
    case "trade_order.transition":
      return {
        symbol: shown(p.symbol),
        what: `${shown(p.from)} → ${shown(p.to)}${p.reason === undefined ? "" : ` (${shown(p.reason)})`}` +
          (p.filledQuantity === undefined ? "" : `, filled ${shown(p.filledQuantity)}`)
      }
    case "trade_run.transition":
      return { symbol: "", what: `${shown(p.from)} → ${shown(p.to)}${p.error === undefined ? "" : `: ${shown(p.error)}`}` }
    case "trade_run.orders_built":
      return { symbol: "", what: `${shown(p.orders)} order(s) built, ${Array.isArray(p.skipped) ? p.skipped.length : 0} skipped` }
    case "trade_run.risk":
      return { symbol: "", what: `${p.passed === true ? "passed" : "blocked"} (${shown(p.policy)}), ${Array.isArray(p.reasons) ? p.reasons.length : 0} reason(s)` }
    case "trade_run.execute":
      return { symbol: "", what: `provider ${shown(p.provider)}${p.dryRun === true ? ", dry run" : ""}, orders ${shown(p.counts)}` }
    default: {
      const text = JSON.stringify(event.payload)
      return { symbol: shown(p.symbol), what: text.length > 300 ? `${text.slice(0, 300)}…` : text }
    }
  }
}

const auditSection = (events: ReadonlyArray<AuditEvent>, verification: AuditVerification): string => {
  const verdict = verification.ok
    ? `<span class="badge ok">chain verified</span> ${count(verification.events)} event(s) in the database's chain, head ${code(verification.head.slice(0, 16))}…`
    : `<span class="badge bad">chain BROKEN</span> at event #${verification.broken?.seq}: ${escapeHtml(verification.broken?.reason ?? "")}`
  const rows = events.map((e) => {
    const { symbol, what } = eventSummary(e)
    return [String(e.seq), e.at, e.type, symbol, what]
  })
  return `<section id="audit"><h2>Audit timeline</h2>
<p id="audit-verification">${verdict}</p>
${
    dataTable("audit-table", [
      { key: "seq", label: "Seq", numeric: true },
      { key: "at", label: "Time" },
      { key: "type", label: "Event", filter: "choice" },
      { key: "symbol", label: "Symbol", filter: "text" },
      { key: "what", label: "What", wrap: true }
    ], rows)
  }
</section>`
}

// ---------------------------------------------------------------------------------------------------------

/** The page. */
export const render = (sources: ReportSources): Effect.Effect<string> =>
  Effect.promise(async () => {
    const { report, snapshot, events, verification } = sources
    const { run } = report
    const recorded = run.recorded
    const costs = Tca.analyze(report.orders, report.fills)
    const exposure = Exposure.analyze({
      portfolioValue: recorded?.settings.portfolioValue ?? run.params.portfolioValue ?? Dec.ONE,
      items: snapshot.items,
      positions: recorded?.positions ?? run.params.positions ?? [],
      prices: recorded?.prices ?? [],
      securities: recorded?.securities ?? run.params.securities ?? [],
      orders: report.orders,
      ...(run.params.risk?.maxSectorWeight === undefined ? {} : { sectorCap: run.params.risk.maxSectorWeight })
    })
    const body = [
      paramsSection(run, snapshot, events),
      await weightsSection(report, snapshot, exposure),
      await sectorSection(exposure),
      riskSection(report),
      costsSection(report, costs),
      auditSection(events, verification)
    ].join("\n")
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run ${escapeHtml(run.id)} — ${run.status}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>Run <code id="run-id">${escapeHtml(run.id)}</code> <span class="badge ${run.status}" id="run-status">${run.status}</span></h1>
${run.error === undefined ? "" : `<p class="error">${escapeHtml(run.error)}</p>`}
${summary(report, costs)}
<nav><a href="#run">Run</a><a href="#weights">Weights</a><a href="#sectors">Sectors</a><a href="#risk">Risk</a><a href="#costs">Orders and costs</a><a href="#audit">Audit</a></nav>
</header>
<main>
${body}
</main>
<footer>Made ${escapeHtml(sources.generatedAt)} by ${escapeHtml(sources.generator)}. Decimals are exact; charts are drawn from the same figures.</footer>
<script>${SCRIPT}</script>
</body></html>
`
  })
