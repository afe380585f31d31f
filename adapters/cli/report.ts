/**
 * `trade-exec report RUN_ID --html FILE`: the run as one self-contained HTML page (adapters/report).
 * The file is written whole or not at all: to a temporary name beside it, then renamed.
 */
import { type Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { renameSync, rmSync, writeFileSync } from "node:fs"
import { InvalidInput } from "../../src/domain/errors.js"
import type { RunId } from "../../src/domain/Ids.js"
import { nowIso } from "../../src/internal/nowIso.js"
import { DatabaseLive, READ_EXISTING } from "../sql/layers.js"
import { described } from "./help.js"
import { COMMAND_LINE } from "./input.js"
import { VERSION } from "./version.js"

const writeWhole = (file: string, text: string) =>
  Effect.try({
    try: () => {
      const temporary = `${file}.${process.pid}.tmp`
      try {
        writeFileSync(temporary, text)
        renameSync(temporary, file)
      } catch (error) {
        rmSync(temporary, { force: true })
        throw error
      }
    },
    catch: (error) =>
      new InvalidInput({
        source: COMMAND_LINE,
        field: "--html",
        value: file,
        reason: `cannot be written: ${(error as NodeJS.ErrnoException).code ?? String(error)}`
      })
  })

export const reportCommand = (shared: { readonly runId: Args.Args<string>; readonly db: Options.Options<string> }) =>
  Command.make(
    "report",
    {
      runId: shared.runId,
      html: Options.file("html").pipe(
        Options.withDescription("the HTML file to write (replaced whole if it exists); it fetches nothing when opened")
      ),
      db: shared.db
    },
    (flags) =>
      Effect.gen(function*() {
        // The page's charts are drawn with Vega and Vega-Lite, a good part of the CLI's code: loaded by this
        // command only, so no other command pays for reading them at start.
        const HtmlReport = yield* Effect.promise(() => import("../report/HtmlReport.js"))
        const sources = yield* HtmlReport.load(flags.runId as RunId).pipe(Effect.provide(DatabaseLive(flags.db, READ_EXISTING)))
        const html = yield* HtmlReport.render({ ...sources, generatedAt: yield* nowIso, generator: `trade-exec ${VERSION}` })
        yield* writeWhole(flags.html, html)
        yield* Console.log(
          `wrote ${flags.html}: run ${sources.report.run.id} (${sources.report.run.status}), ${sources.report.orders.length} orders, ` +
            `${Math.ceil(Buffer.byteLength(html) / 1024)} KiB`
        )
      })
  ).pipe(Command.withDescription(described(
    "draw a run as one self-contained HTML page: weights, sector exposure, risk, transaction costs, audit timeline",
    "trade-exec report run_0mxcoxssja2b0266c55da --html run.html"
  )))
