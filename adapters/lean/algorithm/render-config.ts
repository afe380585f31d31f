/**
 * Fills the LEAN config template (`config.json` beside this file) from the environment and writes it where LEAN
 * reads it:
 *
 *   LEAN_ENVIRONMENT=live-paper IB_ACCOUNT=… IB_TWS_DIR=~/Jts IB_VERSION=1019 … \
 *     npx tsx adapters/lean/algorithm/render-config.ts <output.json>
 *
 * Every `${NAME}` in the template must be set (`${NAME:-default}` falls back to its default); the script names
 * all that are missing and writes nothing.
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

export const render = (template: string, env: Readonly<Record<string, string | undefined>>): Rendered => {
  const missing = required(template).filter((name) => given(env, name) === undefined)
  if (missing.length > 0) return { _tag: "Missing", names: missing }
  return {
    _tag: "Rendered",
    text: template.replace(PLACEHOLDER, (_, name: string, fallback: string | undefined) =>
      JSON.stringify(given(env, name) ?? fallback ?? "").slice(1, -1))
  }
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
    return 1
  }
  fs.writeFileSync(output, rendered.text, { mode: 0o600 })
  process.stdout.write(`wrote ${output}\n`)
  return 0
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
