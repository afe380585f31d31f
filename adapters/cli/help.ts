/** What the CLI says about itself: a command's help with an example, and enumerated flags that name themselves when refused. */
import { HelpDoc, Options } from "@effect/cli"
import * as Span from "@effect/cli/HelpDoc/Span"
import { Effect } from "effect"

/** A command's help: what it does, then an example a person can copy. */
export const described = (summary: string, ...examples: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(summary),
    HelpDoc.p(Span.strong(examples.length > 1 ? "Examples:" : "Example:")),
    ...examples.map((example) => HelpDoc.p(Span.code(`  $ ${example}`)))
  ])

/** The enumerated flags and their values, as `choice` declared them. */
const choices = new Map<string, ReadonlyArray<string>>()

/**
 * `Options.choice`, remembered: help lists the values and the parser refuses any other, but its message
 * ("Expected one of the following cases: …") does not say which flag was wrong; `choiceProblem` does.
 */
export const choice = <const A extends string>(name: string, values: ReadonlyArray<A>) => {
  choices.set(`--${name}`, values)
  return Options.choice(name, values)
}

/** The first enumerated flag in `argv` whose value is not one of its values, said as the other input errors are. */
export const choiceProblem = (argv: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const [flag, attached] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined]
    const values = choices.get(flag)
    const value = attached ?? argv[i + 1]
    if (values === undefined || value === undefined || values.includes(value)) continue
    return `command line, ${flag}: must be ${values.slice(0, -1).join(", ")} or ${values.at(-1)} (got "${value}")`
  }
  return undefined
}

/**
 * @effect/cli (0.77) prints a text value's generic help, "A user-defined piece of text.", as a paragraph
 * above every text option's and argument's own description, and offers no way to leave it out. It says
 * nothing the value's name (DECIMAL, DURATION, RUN_ID) and the description do not, so help drops it.
 */
const GENERIC_TEXT_HELP = /^[ \t]*A user-defined piece of text(?: that is confidential)?\.\n\n/gm
/** The words both forms of the paragraph begin with. */
const GENERIC_TEXT = "A user-defined piece of text"

/**
 * `effect` with its help printed without @effect/cli's generic paragraph for text values. Everything a
 * command prints passes here, a run's report too (34 MB of JSON at 50,000 names): text without the
 * paragraph's words is passed on as it is, found by a plain search rather than the multi-line expression.
 */
export const withoutGenericHelp = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...args: ReadonlyArray<unknown>) =>
        console.log(...args.map((a) => (typeof a === "string" && a.includes(GENERIC_TEXT) ? a.replace(GENERIC_TEXT_HELP, "") : a)))
    }))
