/**
 * The CLI explains itself: every option and argument of every command has a description of its own, every
 * command's help has an example, enumerated flags list their values, and `--version` is the package's.
 * The walk goes through every command the CLI has, so a flag added later without a description fails here.
 */
import { HelpDoc } from "@effect/cli"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { root } from "../../adapters/cli/commands.js"
import { build, cli, workspace } from "../support/cli.js"

interface Described {
  readonly command: string
  readonly name: string
  readonly description: string
  readonly choice: boolean
}

/** @effect/cli keeps these as tagged values; a kind this walk does not know fails it rather than being skipped. */
type Node = { readonly _tag: string; readonly [key: string]: any }

const text = (doc: HelpDoc.HelpDoc) => HelpDoc.toAnsiText(doc).replace(/\x1b\[[0-9;]*m/g, "").trim()

/**
 * How the walk reads @effect/cli's tree of options, and its tree of arguments: the prefix of a name, the tags
 * that join two parts (`left`, `right`), and the tags that wrap one part, with the member holding it.
 */
interface Tree {
  readonly prefix: string
  readonly pairs: ReadonlyArray<string>
  readonly wrappers: Readonly<Record<string, string>>
}

const trees: Record<"option" | "argument", Tree> = {
  option: {
    prefix: "--",
    pairs: ["Both", "OrElse"],
    wrappers: { Map: "options", WithDefault: "options", WithFallback: "options", KeyValueMap: "argumentOption", Variadic: "argumentOption" }
  },
  argument: {
    prefix: "",
    pairs: ["Both"],
    wrappers: { Map: "args", WithDefault: "args", WithFallbackConfig: "args", Variadic: "args" }
  }
}

const parameters = (kind: keyof typeof trees, command: string, node: Node, out: Array<Described>): void => {
  const tree = trees[kind]
  const wrapped = tree.wrappers[node._tag]
  if (node._tag === "Empty") return
  if (node._tag === "Single") {
    out.push({ command, name: `${tree.prefix}${node.name}`, description: text(node.description), choice: node.primitiveType._tag === "Choice" })
  } else if (tree.pairs.includes(node._tag)) {
    parameters(kind, command, node.left, out)
    parameters(kind, command, node.right, out)
  } else if (wrapped !== undefined) {
    parameters(kind, command, node[wrapped], out)
  } else {
    throw new Error(`an ${kind} of ${command} is a ${node._tag}, which this walk does not know`)
  }
}

/** Every command, with its own description and its options and arguments. */
const commands = (node: Node, out: Array<{ name: string; description: string; parameters: Array<Described> }>): void => {
  switch (node._tag) {
    case "Standard": {
      const described: Array<Described> = []
      parameters("option", node.name, node.options, described)
      parameters("argument", node.name, node.args, described)
      out.push({ name: node.name, description: text(node.description), parameters: described })
      return
    }
    case "Map":
      commands(node.command, out)
      return
    case "Subcommands":
      commands(node.parent, out)
      for (const child of node.children) commands(child, out)
      return
    default:
      throw new Error(`a command is a ${node._tag}, which this walk does not know`)
  }
}

const every: Array<{ name: string; description: string; parameters: Array<Described> }> = []
commands((root as unknown as { descriptor: Node }).descriptor, every)

/** Flags whose values are a fixed list: help must list them, and a value outside it is refused by the parser. */
const ENUMERATED = ["--order-type", "--commission", "--risk-policy", "--time-in-force", "--provider"]

describe("trade-exec --help", () => {
  it("walks every command", () => {
    expect(every.map((c) => c.name)).toEqual(expect.arrayContaining(["trade-exec", "run", "execute", "show", "runs", "audit", "replay", "worker", "report"]))
  })

  it.each(every.map((c) => [c.name, c] as const))("%s: every option and argument has a description of its own", (_, command) => {
    const missing = command.parameters.filter((p) => p.description.length < 12).map((p) => p.name)
    expect(missing, `${command.name}: options without a description`).toEqual([])
    // No two share one text: each says what it is, not a placeholder.
    const texts = command.parameters.map((p) => p.description)
    expect(new Set(texts).size).toBe(texts.length)
  })

  it.each(every.map((c) => [c.name, c] as const))("%s: the help describes the command and shows an example", (_, command) => {
    expect(command.description).toMatch(/^\S.{10,}/)
    expect(command.description).toMatch(/Examples?:\s+\$ trade-exec /)
  })

  it("lists the values of every enumerated flag", () => {
    const enumerated = every.flatMap((c) => c.parameters).filter((p) => ENUMERATED.includes(p.name))
    expect(enumerated.map((p) => p.name)).toEqual(expect.arrayContaining(["--order-type", "--commission"]))
    expect(enumerated.filter((p) => !p.choice).map((p) => p.name)).toEqual([])
  })

  describe("the built command", () => {
    beforeAll(() => build(), 120_000)

    it("prints the package's version", async () => {
      const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
      const result = await cli(workspace(), ["--version"])
      expect(result.code).toBe(0)
      expect(result.stdout.trim()).toBe(version)
    })

    it("shows each option's description and the example in a command's help", async () => {
      const result = await cli(workspace(), ["run", "--help"])
      expect(result.code).toBe(0)
      const help = result.stdout.replace(/\x1b\[[0-9;]*m/g, "")
      expect(help).toContain("--order-type MKT | LMT")
      expect(help).toContain("--commission ib-fixed | ib-tiered | none")
      expect(help).toContain("--portfolio-value DECIMAL")
      expect(help).toContain("the fraction of the portfolio value kept in cash")
      expect(help).toContain("$ trade-exec run --items examples/decision_items.csv")
    })

    it.each(every.filter((c) => c.name !== "trade-exec").map((c) => [c.name, c] as const))(
      "%s: its printed help gives each option's own description, never @effect/cli's generic \"A user-defined piece of text.\"",
      async (name, command) => {
        const result = await cli(workspace(), [name, "--help"])
        expect(result.code).toBe(0)
        const help = result.stdout.replace(/\x1b\[[0-9;]*m/g, "")
        expect(help).not.toContain("user-defined piece of text")
        for (const p of command.parameters) expect(help, `${name} ${p.name}`).toContain(p.description.slice(0, 40))
      }
    )

    it.each(every.filter((c) => c.name !== "trade-exec").map((c) => [c.name] as const))(
      "%s: its usage names what each value is, never a bare \"text\"",
      async (name) => {
        const result = await cli(workspace(), [name, "--help"])
        expect(result.code).toBe(0)
        const usage = result.stdout.replace(/\x1b\[[0-9;]*m/g, "").split("\n").find((line) => line.startsWith(`$ ${name}`))
        expect(usage, result.stdout).toBeDefined()
        expect(usage!.match(/--[a-z-]+ text\b/g) ?? []).toEqual([])
      }
    )
  })
})
