/**
 * What the CLI prints: one JSON document (`--json`) or a report for people — a summary line, the orders,
 * the risk verdict with every reason, and the skips with theirs. Decimals are exact text in both.
 */
import { Option, Schema } from "effect"
import * as Dec from "../../src/domain/Decimal.js"
import type { Fill, TradeOrder } from "../../src/domain/Order.js"
import { FitOutcome } from "../../src/domain/Risk.js"
import { RunParams } from "../../src/domain/Run.js"
import type { AuditEvent, AuditHead, AuditVerification } from "../../src/ports/AuditLog.js"
import type { ReplayReport } from "../../src/Replay.js"
import * as Tca from "../../src/Tca.js"
import type { ReconcileReport, RunReport } from "../../src/TradeRunner.js"
import { each } from "./lines.js"

const text = (d: Dec.Decimal | undefined): string | null => (d === undefined ? null : Dec.toString(d))

const orderDocument = (o: TradeOrder) => ({
  clientOrderId: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  quantity: Dec.toString(o.quantity),
  orderType: o.orderType,
  limitPrice: text(o.limitPrice),
  referencePrice: Dec.toString(o.referencePrice),
  status: o.status,
  filledQuantity: Dec.toString(o.filledQuantity),
  avgFillPrice: text(o.avgFillPrice),
  commission: Dec.toString(o.commission),
  rejectReason: o.rejectReason ?? null
})

const fillDocument = (f: Fill) => ({
  executionId: f.executionId,
  clientOrderId: f.clientOrderId,
  symbol: f.symbol,
  side: f.side,
  quantity: Dec.toString(f.quantity),
  price: Dec.toString(f.price),
  commission: Dec.toString(f.commission),
  time: f.time
})

/**
 * The JSON document of a run, its orders, fills and costs made one by one as they are written
 * (`Lines.prettyJson`; `Lines.materialize` makes it whole).
 */
export const runDocument = (report: RunReport, dryRun = false) => ({
  run: {
    id: report.run.id,
    status: report.run.status,
    error: report.run.error ?? null,
    snapshotId: report.run.snapshotId,
    mode: report.run.mode,
    dryRun,
    attempts: report.run.attempts,
    createdAt: report.run.createdAt,
    finishedAt: report.run.finishedAt ?? null,
    params: Schema.encodeSync(RunParams)(report.run.params)
  },
  orders: each(report.orders, orderDocument),
  fills: each(report.fills, fillDocument),
  risk: report.risk === undefined
    ? null
    : {
      passed: report.risk.passed,
      policy: report.risk.policy,
      violations: report.risk.violations.map((v) => ({
        rule: v.rule,
        symbol: v.symbol ?? null,
        ...(v.sector === undefined ? {} : { sector: v.sector }),
        limit: v.limit,
        actual: v.actual
      })),
      reasons: report.risk.reasons
    },
  skipped: report.skipped.map((s) => ({ symbol: s.symbol, reason: s.reason, ...(s.detail === undefined ? {} : { detail: s.detail }) })),
  tca: tcaDocument(Tca.analyze(report.orders, report.fills)),
  // Under the policy fit: every move that put the decision on its limits, and what the fit could not meet.
  fit: report.run.recorded?.fit === undefined ? null : Schema.encodeSync(FitOutcome)(report.run.recorded.fit)
})

/** Transaction costs as the JSON document gives them: decimals as exact text, bps null when nothing traded. */
const tcaDocument = (costs: Tca.TransactionCosts) => ({
  orders: each(costs.orders, (c) => ({
    clientOrderId: c.clientOrderId,
    symbol: c.symbol,
    side: c.side,
    referencePrice: Dec.toString(c.referencePrice),
    avgFillPrice: Dec.toString(c.avgFillPrice),
    filledQuantity: Dec.toString(c.filledQuantity),
    filledNotional: Dec.toString(c.filledNotional),
    slippageBps: Dec.toString(c.slippageBps),
    slippage: Dec.toString(c.slippage),
    commission: Dec.toString(c.commission),
    implementationShortfall: Dec.toString(c.implementationShortfall)
  })),
  totals: {
    ordersFilled: costs.totals.ordersFilled,
    filledNotional: Dec.toString(costs.totals.filledNotional),
    slippage: Dec.toString(costs.totals.slippage),
    slippageBps: text(costs.totals.slippageBps),
    commission: Dec.toString(costs.totals.commission),
    commissionBps: text(costs.totals.commissionBps),
    implementationShortfall: Dec.toString(costs.totals.implementationShortfall),
    implementationShortfallBps: text(costs.totals.implementationShortfallBps)
  }
})

/** Left-aligned text columns, right-aligned numbers, a line at a time. */
function* tableLines(
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  numeric: ReadonlyArray<boolean>
): Generator<string> {
  // A loop, not `Math.max(...widths)`: spreading one argument per row overflows the stack at ~130,000 rows.
  const widths = header.map((h) => h.length)
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) if (row[i]!.length > widths[i]!) widths[i] = row[i]!.length
  }
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()
  yield line(header)
  for (const row of rows) yield line(row)
}

/** Left-aligned text columns, right-aligned numbers. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, numeric: ReadonlyArray<boolean>) =>
  [...tableLines(header, rows, numeric)].join("\n")

/** Money for people: exact, grouped in thousands, two decimals at least. */
export const money = (d: Dec.Decimal): string => {
  const [whole, fraction = ""] = Dec.toString(d).split(".")
  const sign = whole!.startsWith("-") ? "-" : ""
  const digits = whole!.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${sign}${digits}.${fraction.padEnd(2, "0")}`
}

const notional = (o: TradeOrder) => Dec.mul(o.quantity, o.referencePrice)

export const renderRun = (report: RunReport, dryRun = false): string => [...renderRunLines(report, dryRun)].join("\n")

/** The report for people, a line at a time (its orders' table one line an order). */
export function* renderRunLines(report: RunReport, dryRun = false): Generator<string> {
  const { run, orders, fills } = report
  const filledValue = (side: "BUY" | "SELL") =>
    Dec.sum(fills.filter((f) => f.side === side).map((f) => Dec.mul(f.quantity, f.price)))
  const count = (status: string) => orders.filter((o) => o.status === status).length
  const counts = ["FILLED", "PARTIAL", "SUBMITTED", "NEW", "REJECTED", "CANCELED"]
    .map((s) => [s, count(s)] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s.toLowerCase()}`)
  yield `run ${run.id}  ${run.status}${dryRun ? " (dry run)" : ""}  ` +
    `orders ${orders.length}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}  ` +
    `bought ${money(filledValue("BUY"))}  sold ${money(filledValue("SELL"))}  ` +
    `commissions ${money(Dec.sum(fills.map((f) => f.commission)))}`
  if (run.error !== undefined) yield `error: ${run.error}`
  if (orders.length > 0) {
    yield ""
    yield* tableLines(
      ["SYMBOL", "SIDE", "QUANTITY", "REF PRICE", "NOTIONAL", "STATUS", "FILLED", "AVG PRICE"],
      orders.map((o) => [
        o.symbol,
        o.side,
        Dec.toString(o.quantity),
        Dec.toString(o.referencePrice),
        money(notional(o)),
        o.status + (o.rejectReason === undefined ? "" : ` (${o.rejectReason})`),
        Dec.toString(o.filledQuantity),
        o.avgFillPrice === undefined ? "" : Dec.toString(o.avgFillPrice)
      ]),
      [false, false, true, true, true, false, true, true]
    )
  }
  const fit = run.recorded?.fit
  if (fit !== undefined) {
    yield ""
    yield `fitted: ${fit.adjustments.length} move(s) onto the limits`
    for (const a of fit.adjustments) {
      const where = a.symbol === undefined ? a.sector ?? "book" : a.sector === undefined ? a.symbol : `${a.symbol} (${a.sector})`
      const how = a.factor !== undefined ? `  × ${Dec.toString(a.factor)}` : a.lots === true ? "  (after the lots)" : ""
      yield `  ${a.rule}  ${where}  ${Dec.toString(a.from)} → ${Dec.toString(a.to)}${how}`
    }
  }
  if (report.risk !== undefined) {
    const risk = report.risk
    yield ""
    yield `risk: ${risk.passed ? "passed" : "BLOCKED"} (${risk.policy}, ${risk.violations.length} violation(s))`
    for (const v of risk.violations) yield `  ${v.reason}  limit ${v.limit}, actual ${v.actual}`
  }
  if (report.skipped.length > 0) {
    yield ""
    yield `skipped: ${report.skipped.length}`
    for (const s of report.skipped) yield `  ${s.symbol}  ${s.reason}${s.detail === undefined ? "" : `  (${s.detail})`}`
  }
}

export const renderRuns = (runs: ReadonlyArray<RunReport["run"]>): string =>
  runs.length === 0
    ? "no runs"
    : table(
      ["RUN", "STATUS", "CREATED", "SNAPSHOT", "ATTEMPTS", "ERROR"],
      runs.map((r) => [r.id, r.status, r.createdAt, r.snapshotId, String(r.attempts), r.error ?? ""]),
      [false, false, false, false, true, false]
    )

export const runSummary = (r: RunReport["run"]) => ({
  id: r.id,
  status: r.status,
  snapshotId: r.snapshotId,
  mode: r.mode,
  attempts: r.attempts,
  createdAt: r.createdAt,
  finishedAt: r.finishedAt ?? null,
  error: r.error ?? null
})

/** How the chain is hashed, in words. */
const keyedWith = (keyedFrom: number | undefined): string =>
  keyedFrom === undefined ? "sha-256, no key" : `HMAC-SHA-256 with TRADE_EXEC_AUDIT_KEY from event #${keyedFrom}`

export const renderAudit = (
  events: ReadonlyArray<AuditEvent> | undefined,
  verification: AuditVerification | undefined,
  head?: AuditHead
): string => {
  const lines = (events ?? []).map((e) => `#${e.seq}  ${e.at}  ${e.type}  ${JSON.stringify(e.payload)}`)
  if (verification !== undefined) {
    if (lines.length > 0) lines.push("")
    lines.push(
      verification.ok
        ? `chain verified: ${verification.events} event(s), head ${verification.events}:${verification.head} (${keyedWith(verification.keyedFrom)})`
        : verification.keyProblem !== undefined
        ? `chain NOT VERIFIED: ${verification.broken!.reason}`
        : `chain BROKEN at event #${verification.broken!.seq}: ${verification.broken!.reason}`
    )
  }
  // The head as `--expect-head` takes it back.
  if (head !== undefined) lines.push(`head ${head.seq}:${head.hash} (${keyedWith(head.keyedFrom)})`)
  return lines.join("\n")
}

export const renderReplay = (replay: ReplayReport): string => {
  const lines = [
    `replay of ${replay.runId} (${replay.status}): ${replay.matches ? "matches" : "DIFFERS"}`,
    `  snapshot unchanged: ${replay.snapshotUnchanged ? "yes" : "NO"}`,
    `  orders rebuilt from the record: ${!replay.replayable ? `not replayable (${replay.reason})` : replay.ordersMatch ? "identical" : `${replay.differences.length} difference(s)`}`,
    `  orders, fills and run agree with the audit trail: ${replay.auditMatches ? "yes" : "NO"}`,
    `  filled quantities equal their fills: ${replay.fillsMatch ? "yes" : "NO"}`
  ]
  if (replay.replayable && (replay.fitted || !replay.fitMatches)) {
    lines.splice(3, 0, `  fit rebuilt from the record: ${replay.fitMatches ? "identical" : `${replay.fitDifferences.length} difference(s)`}`)
  }
  for (const d of replay.differences) lines.push(`  ${d.clientOrderId} ${d.symbol} ${d.field}: persisted ${d.persisted}, rebuilt ${d.rebuilt}`)
  for (const d of [...replay.fitDifferences, ...replay.auditDifferences, ...replay.fillDifferences]) lines.push(`  ${d}`)
  for (const n of replay.notRecorded) lines.push(`  not recorded in the audit trail, not checked: ${n}`)
  return lines.join("\n")
}

/** The command that draws the run as a page, for the line after its report. */
export const reportHint = (runId: string, db: string): string =>
  `report: trade-exec report ${runId} --html ${shellWord(`${runId}.html`)}${dbArgument(db)}`

/** A word as a shell takes it back: quoted when it holds anything but the plainest characters. */
const shellWord = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`)

/** `--prices` as the user would type it again. */
export const pricesArgument = (file: string): string => ` --prices ${shellWord(file)}`

/**
 * The venue's flags as the user would type them again, so that a run followed or resumed later meets the
 * same broker: `--provider lean`, or the paper broker's commission and slippage when they are not its defaults.
 */
export const venueArguments = (venue: {
  readonly provider: string
  readonly commission: string
  readonly slippageBps: Option.Option<string>
}): string =>
  venue.provider !== "paper"
    ? ` --provider ${shellWord(venue.provider)}`
    : (venue.commission === "none" ? "" : ` --commission ${shellWord(venue.commission)}`) +
      Option.match(venue.slippageBps, { onNone: () => "", onSome: (bps) => ` --slippage-bps ${shellWord(bps)}` })

/** The JSON document of `trade-exec reconcile`. */
export const reconcileDocument = (report: ReconcileReport) => ({
  provider: report.provider,
  runs: report.runs,
  breaks: report.breaks.map((b) => ({ symbol: b.symbol, ours: Dec.toString(b.ours), venue: Dec.toString(b.venue) }))
})

/** `trade-exec reconcile` for people: what was settled, then every break or that there is none. */
export const renderReconcile = (report: ReconcileReport): string => {
  const lines = report.runs.map((r) =>
    `${r.runId}  ${r.status}  ${r.changed} order${r.changed === 1 ? "" : "s"} settled, ${r.working} still working` +
    (r.heldBy === undefined ? "" : ` (held by ${r.heldBy}: not settled now)`)
  )
  if (report.runs.length === 0) lines.push("no order in flight")
  if (report.breaks.length === 0) {
    lines.push(`positions agree with the ${report.provider} venue`)
  } else {
    lines.push(`${report.breaks.length} break${report.breaks.length === 1 ? "" : "s"} against the ${report.provider} venue:`)
    lines.push(table(["symbol", "ours", "venue"], report.breaks.map((b) => [b.symbol, Dec.toString(b.ours), Dec.toString(b.venue)]), [false, true, true]))
  }
  return lines.join("\n")
}

/** `--db` as the user would type it again: quoted for a shell, a URL's password left out. */
export const dbArgument = (db: string): string => {
  if (db === "trade-exec.db") return ""
  let shown = db
  if (db.includes("://")) {
    try {
      const url = new URL(db)
      if (url.password !== "") url.password = "PASSWORD"
      shown = url.toString()
    } catch {
      // Not a URL after all: shown as given.
    }
  }
  return ` --db ${shellWord(shown)}`
}
