/**
 * Test plumbing for the LEAN provider: a temporary LEAN directory, the stand-in LEAN process running in it
 * (`lean-stand-in.ts`), and a provider pointed at it with short timeouts.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import * as Lean from "../../../../adapters/lean/LeanExecutionProvider.js"
import type { SubmitOrder } from "../../../../src/ports/ExecutionProvider.js"
import * as Dec from "../../../../src/domain/Decimal.js"
import type { ClientOrderId, RunId, Symbol } from "../../../../src/domain/Ids.js"

export const ALGORITHM_ID = "trade-exec-test"

const here = path.dirname(fileURLToPath(import.meta.url))
export const STAND_IN_SCRIPT = path.join(here, "lean-stand-in.ts")
/** tsx as an absolute module URL: the child runs with LEAN's directory as its cwd. */
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

export const Platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/** A fresh LEAN working directory, removed when the scope closes. */
export const leanDirectory: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "lean-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export interface StandInOptions {
  readonly cash?: string
  readonly prices?: Readonly<Record<string, string>>
}

const waitForReady = (child: ChildProcess) =>
  Effect.async<void, Error>((resume) => {
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("ready")) resume(Effect.void)
    }
    const onExit = (code: number | null) => resume(Effect.fail(new Error(`stand-in LEAN exited with ${code} before it was ready`)))
    child.stdout?.on("data", onData)
    child.once("exit", onExit)
    return Effect.sync(() => {
      child.stdout?.off("data", onData)
      child.off("exit", onExit)
    })
  }).pipe(Effect.timeoutFail({ duration: Duration.seconds(20), onTimeout: () => new Error("stand-in LEAN did not start") }), Effect.orDie)

/** Starts the stand-in LEAN in `leanDir`; it is stopped when the scope closes. */
export const startStandIn = (leanDir: string, options: StandInOptions = {}): Effect.Effect<void, never, Scope.Scope> =>
  Effect.asVoid(Effect.acquireRelease(
    Effect.suspend(() => {
      const child = spawn(process.execPath, ["--import", TSX, STAND_IN_SCRIPT], {
        cwd: leanDir,
        env: {
          ...process.env,
          LEAN_STANDIN_ALGORITHM_ID: ALGORITHM_ID,
          LEAN_STANDIN_CASH: options.cash ?? "1000000",
          LEAN_STANDIN_PRICES: JSON.stringify(options.prices ?? {})
        },
        stdio: ["ignore", "pipe", "inherit"]
      })
      return Effect.as(waitForReady(child), child)
    }),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  ))

/** A LEAN directory with the stand-in running in it, shared by the tests of a file. */
export class StandInLean extends Context.Tag("test/StandInLean")<StandInLean, { readonly dir: string }>() {}

export const standInLean = (options: StandInOptions = {}): Layer.Layer<StandInLean> =>
  Layer.scoped(
    StandInLean,
    Effect.gen(function*() {
      const dir = yield* leanDirectory
      yield* startStandIn(dir, options)
      return { dir }
    })
  )

/**
 * Lets the stand-in go on with what it holds back for the order tagged `tag`: a `SLOW…` command it has taken,
 * or the fill events of a `LAG…` order.
 */
export const release = (leanDir: string, tag: string) =>
  Effect.sync(() => fs.writeFileSync(path.join(leanDir, `stand-in-release-${tag}`), ""))

export interface ProviderOptions {
  readonly acknowledgeTimeout?: Duration.DurationInput
  readonly settleTimeout?: Duration.DurationInput
  /** Runs each time the provider has read a file: lets a test act once the provider has seen something. */
  readonly afterRead?: (file: string) => Effect.Effect<void>
}

/** The platform, with `afterRead` told of every file read. */
const observedPlatform = (afterRead: (file: string) => Effect.Effect<void>) =>
  Layer.merge(
    Layer.effect(
      FileSystem.FileSystem,
      Effect.map(FileSystem.FileSystem, (real): FileSystem.FileSystem => ({
        ...real,
        readFileString: (file, encoding) => Effect.tap(real.readFileString(file, encoding), () => afterRead(file))
      }))
    ).pipe(Layer.provide(NodeFileSystem.layer)),
    NodePath.layer
  )

/**
 * The provider over `leanDir`, polling every 20 ms. Orders that never finish (resting, partial) wait out the
 * settle time; it is seconds, not milliseconds, because LEAN writes an order's status before its events, and
 * a stall between the two writes on a busy host must not read as an unfilled order.
 */
export const leanProvider = (leanDir: string, options: ProviderOptions = {}) =>
  Lean.make({
    leanDir,
    algorithmId: ALGORITHM_ID,
    acknowledgeTimeout: options.acknowledgeTimeout ?? Duration.seconds(10),
    settleTimeout: options.settleTimeout ?? Duration.seconds(2),
    pollSchedule: Schedule.spaced(Duration.millis(20))
  }).pipe(Effect.provide(options.afterRead === undefined ? Platform : observedPlatform(options.afterRead)))

/** What LEAN received: the stand-in's log of the commands it took. */
export const received = (leanDir: string): ReadonlyArray<{
  readonly command: string
  readonly id?: string
  readonly tag?: string
  readonly ticker?: string
  readonly orderId?: string
}> => {
  const file = path.join(leanDir, "stand-in-log.jsonl")
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, "utf8").trim().split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l))
}

interface WrittenOrder {
  readonly id: number
  readonly tag?: string
  readonly submittedTag?: string
}

const writtenOrders = (leanDir: string): ReadonlyArray<WrittenOrder> => {
  const file = path.join(leanDir, `${ALGORITHM_ID}.json`)
  if (!fs.existsSync(file)) return []
  return Object.values((JSON.parse(fs.readFileSync(file, "utf8")) as { orders: Record<string, WrittenOrder> }).orders)
}

/** How many LEAN orders carry each tag as submitted, from the results LEAN wrote. */
export const leanOrdersByTag = (leanDir: string): ReadonlyMap<string, number> => {
  const counts = new Map<string, number>()
  for (const order of writtenOrders(leanDir)) {
    const tag = order.submittedTag ?? order.tag
    if (tag !== undefined) counts.set(tag, (counts.get(tag) ?? 0) + 1)
  }
  return counts
}

/** LEAN's id of the order submitted with `tag`. */
export const leanOrderId = (leanDir: string, tag: string): number | undefined =>
  writtenOrders(leanDir).find((o) => o.submittedTag === tag)?.id

/** The tag LEAN holds now for the order submitted with `tag`. */
export const leanTagOf = (leanDir: string, tag: string): string | undefined =>
  writtenOrders(leanDir).find((o) => o.submittedTag === tag)?.tag

/** Files LEAN has not taken yet. */
export const pendingCommandFiles = (leanDir: string): ReadonlyArray<string> =>
  fs.readdirSync(leanDir).filter((n) => n.startsWith("command") && n.endsWith(".json"))

/** Waits (for real) until `condition` holds. */
export const eventually = (condition: () => boolean, within: Duration.DurationInput = Duration.seconds(10)) =>
  Effect.suspend(() => (condition() ? Effect.void : Effect.fail("not yet" as const))).pipe(
    Effect.retry(Schedule.spaced(Duration.millis(10))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error("condition not reached in time") }),
    Effect.orDie
  )

let sequence = 0
/** An order with a fresh client order id. */
export const order = (
  symbol: string,
  side: "BUY" | "SELL",
  quantity: Dec.DecimalInput,
  extra: Partial<SubmitOrder> = {}
): SubmitOrder => ({
  runId: "run-lean" as RunId,
  clientOrderId: `${symbol}-${side[0]}-${process.pid}-${++sequence}` as ClientOrderId,
  symbol: symbol as Symbol,
  side,
  quantity: Dec.unsafe(quantity),
  orderType: extra.limitPrice === undefined ? "MKT" : "LMT",
  referencePrice: Dec.unsafe(100),
  ...extra
})
