/**
 * Fills the LEAN config template (`config.json` beside this file) from the environment and writes it where LEAN
 * reads it:
 *
 *   LEAN_ENVIRONMENT=live-paper IB_ACCOUNT=… IB_TWS_DIR=~/Jts IB_VERSION=1019 … \
 *     npx tsx adapters/lean/algorithm/render-config.ts <output.json>
 *
 * Every `${NAME}` in the template must be set (`${NAME:-default}` falls back to its default); the script names
 * all that are missing, and every value it cannot use, and writes nothing. Two values are read, not copied:
 * `TRADE_EXEC_LEAN_ALGORITHM_ID` may list several ids, oldest first, as the provider reads it after a restart,
 * and LEAN's run is the last of them; `LEAN_PAPER_CASH_BALANCE` is written as a JSON number, so it must be one.
 * Values are escaped for the JSON strings they land in, so a password with a quote stays a password. The
 * credentials live in the environment and in the written file only: write it outside the repository (or to a
 * name `.gitignore` covers, such as `config.local.json`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** `${NAME}`, or `${NAME:-default}` for a value that may be left unset. */
const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}/g

export const TEMPLATE = path.join(path.dirname(fileURLToPath(import.meta.url)), "config.json")

/** The variables a template uses, each once, in order of appearance. */
export const placeholders = (template: string): ReadonlyArray<string> => [
  ...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))
]

/** The variables a template cannot do without: those with no default. */
export const required = (template: string): ReadonlyArray<string> => [
  ...new Set([...template.matchAll(PLACEHOLDER)].filter((m) => m[2] === undefined).map((m) => m[1]!))
]

const given = (env: Readonly<Record<string, string | undefined>>, name: string) => {
  const value = env[name]
  return value === undefined || value === "" ? undefined : value
}

export type Rendered =
  | { readonly _tag: "Rendered"; readonly text: string }
  | { readonly _tag: "Missing"; readonly names: ReadonlyArray<string> }
  | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<{ readonly name: string; readonly reason: string }> }

/** The provider's rule for an algorithm id: it names the results files. */
const ALGORITHM_ID = /^[A-Za-z0-9._-]{1,80}$/
const PLAIN_DECIMAL = /^\d{1,15}(\.\d{1,8})?$/

/**
 * The value a variable puts into the template, or why it cannot: the algorithm id of this LEAN run is the last of
 * the list, and the paper cash balance lands where JSON expects a number.
 */
const valueOf = (name: string, value: string): { readonly value: string } | { readonly reason: string } => {
  switch (name) {
    case "TRADE_EXEC_LEAN_ALGORITHM_ID": {
      const ids = value.split(",").map((id) => id.trim()).filter((id) => id.length > 0)
      const bad = ids.find((id) => !ALGORITHM_ID.test(id))
      if (ids.length === 0 || bad !== undefined) {
        return { reason: `${JSON.stringify(bad ?? value)} is not an id of 1-80 characters [A-Za-z0-9._-] (several: separated by commas)` }
      }
      return { value: ids.at(-1)! }
    }
    case "LEAN_PAPER_CASH_BALANCE":
      return PLAIN_DECIMAL.test(value)
        ? { value }
        : { reason: `${JSON.stringify(value)} is not an amount such as 100000 or 2500.50` }
    default:
      return { value }
  }
}

export const render = (template: string, env: Readonly<Record<string, string | undefined>>): Rendered => {
  const missing = required(template).filter((name) => given(env, name) === undefined)
  if (missing.length > 0) return { _tag: "Missing", names: missing }
  const values = new Map<string, string>()
  const problems: Array<{ readonly name: string; readonly reason: string }> = []
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!
    if (values.has(name) || problems.some((p) => p.name === name)) continue
    const checked = valueOf(name, given(env, name) ?? match[2] ?? "")
    if ("reason" in checked) problems.push({ name, reason: checked.reason })
    else values.set(name, checked.value)
  }
  if (problems.length > 0) return { _tag: "Invalid", problems }
  return {
    _tag: "Rendered",
    text: template.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(values.get(name) ?? "").slice(1, -1))
  }
}

/**
 * Writes the rendered config to `output` and creates the folder it names as `results-destination-folder`
 * (relative to the config's directory, LEAN's working directory): LEAN logs into that folder from its first
 * line, and only some versions of LEAN create it themselves.
 */
export const write = (output: string, text: string): string => {
  fs.writeFileSync(output, text, { mode: 0o600 })
  const folder = /"results-destination-folder"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1]
  const results = path.resolve(path.dirname(output), folder === undefined || folder === "" ? "." : (JSON.parse(`"${folder}"`) as string))
  fs.mkdirSync(results, { recursive: true })
  return results
}

const main = (args: ReadonlyArray<string>) => {
  const [output, template = TEMPLATE] = args
  if (output === undefined) {
    process.stderr.write("usage: render-config.ts <output.json> [template]\n")
    return 2
  }
  const rendered = render(fs.readFileSync(template, "utf8"), process.env)
  if (rendered._tag === "Missing") {
    process.stderr.write(`set these environment variables first: ${rendered.names.join(", ")}\n`)
    return 2
  }
  if (rendered._tag === "Invalid") {
    for (const problem of rendered.problems) process.stderr.write(`${problem.name}: ${problem.reason}\n`)
    return 2
  }
  const results = write(output, rendered.text)
  process.stdout.write(`wrote ${output} (LEAN's results folder: ${results})\n`)
  return 0
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
