/**
 * Test plumbing for the LEAN provider: a temporary LEAN directory, the stand-in LEAN process running in it
 * (`lean-stand-in.ts`), and a provider pointed at it with short timeouts. The stand-in takes commands every
 * 50 ms here, twenty times LEAN's pace, so that the suite stays fast; a test that needs LEAN's own pace asks
 * for `intervalMs: LEAN_INTERVAL_MS`.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { transformSync } from "esbuild"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import * as Lean from "../../../../adapters/lean/LeanExecutionProvider.js"
import * as Dec from "../../../../src/domain/Decimal.js"
import type { SubmitOrder } from "../../../../src/domain/Execution.js"
import type { ClientOrderId, RunId, Symbol } from "../../../../src/domain/Ids.js"

export const ALGORITHM_ID = "trade-exec-test"

/** How often LEAN takes commands in live mode: once a second. */
export const LEAN_INTERVAL_MS = 1000
/** How often the stand-in takes them in tests, unless a test asks for LEAN's pace. */
export const TEST_INTERVAL_MS = 50

/** Where the bridge algorithm (and the stand-in) writes its results, by default. */
export const resultsDirOf = (leanDir: string) => path.join(leanDir, "trade-exec-results")

const here = path.dirname(fileURLToPath(import.meta.url))
export const STAND_IN_SCRIPT = path.join(here, "lean-stand-in.ts")

/**
 * The stand-in compiled to plain JavaScript once per test process (it imports only `node:` modules): started
 * through tsx, each stand-in spent seconds compiling itself on a busy host before it took its first command.
 */
const compiledStandIn = (() => {
  let file: string | undefined
  return () => {
    if (file !== undefined) return file
    const source = fs.readFileSync(STAND_IN_SCRIPT, "utf8")
    const digest = createHash("sha256").update(source).digest("hex").slice(0, 16)
    const target = path.join(os.tmpdir(), `lean-stand-in-${digest}.mjs`)
    if (!fs.existsSync(target)) {
      const { code } = transformSync(source, { loader: "ts", format: "esm", target: "node20", sourcefile: STAND_IN_SCRIPT })
      // Written whole, then renamed: test files run in parallel and may compile it at once.
      const temporary = `${target}.${process.pid}.tmp`
      fs.writeFileSync(temporary, code)
      fs.renameSync(temporary, target)
    }
    file = target
    return target
  }
})()
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
  /** How often it takes commands and moves orders on. Default `TEST_INTERVAL_MS`. */
  readonly intervalMs?: number
  /** This LEAN run's algorithm id. Default `ALGORITHM_ID`. */
  readonly algorithmId?: string
  /** LEAN restarted: the earlier run whose open orders the brokerage reloads. */
  readonly reloadFrom?: string
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

/** Stops a stand-in LEAN as LEAN is stopped (SIGTERM), once. */
const stop = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  })

/** Starts the stand-in LEAN in `leanDir`; it is stopped when the scope closes, or earlier by the effect returned. */
export const startStandIn = (leanDir: string, options: StandInOptions = {}): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  Effect.map(Effect.acquireRelease(
    Effect.suspend(() => {
      const child = spawn(process.execPath, [compiledStandIn()], {
        cwd: leanDir,
        env: {
          ...process.env,
          LEAN_STANDIN_ALGORITHM_ID: options.algorithmId ?? ALGORITHM_ID,
          LEAN_STANDIN_CASH: options.cash ?? "1000000",
          LEAN_STANDIN_PRICES: JSON.stringify(options.prices ?? {}),
          LEAN_STANDIN_INTERVAL_MS: String(options.intervalMs ?? TEST_INTERVAL_MS),
          LEAN_STANDIN_RELOAD_FROM: options.reloadFrom ?? ""
        },
        stdio: ["ignore", "pipe", "inherit"]
      })
      return Effect.as(waitForReady(child), child)
    }),
    stop
  ), stop)

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
 * the fill events of a `LAG…` order, the rest of a `PART…` order or a resting one, a `HOLD…` order's cancel.
 * `broker-<id>` names an order reloaded without a tag by its brokerage id.
 */
export const release = (leanDir: string, tag: string) =>
  Effect.sync(() => fs.writeFileSync(path.join(leanDir, `stand-in-release-${tag}`), ""))

/** The session closes: the brokerage cancels the DAY orders still working. */
export const closeSession = (leanDir: string) =>
  Effect.sync(() => fs.writeFileSync(path.join(leanDir, "stand-in-session-close"), ""))

export interface ProviderOptions {
  readonly acknowledgeTimeout?: Duration.DurationInput
  readonly settleTimeout?: Duration.DurationInput
  /** Default `ALGORITHM_ID`. */
  readonly algorithmId?: string | ReadonlyArray<string>
  /** How often LEAN's files are read. Default every 20 ms. */
  readonly pollInterval?: Duration.DurationInput
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
    algorithmId: options.algorithmId ?? ALGORITHM_ID,
    acknowledgeTimeout: options.acknowledgeTimeout ?? Duration.seconds(10),
    settleTimeout: options.settleTimeout ?? Duration.seconds(2),
    pollSchedule: Schedule.spaced(options.pollInterval ?? Duration.millis(20))
  }).pipe(Effect.provide(options.afterRead === undefined ? Platform : observedPlatform(options.afterRead)))

/** What LEAN received: the stand-in's log of the commands it took, and what it answered. */
export const received = (leanDir: string): ReadonlyArray<{
  readonly command: string
  readonly id?: string
  readonly tag?: string
  readonly ticker?: string
  readonly timeInForce?: string
  readonly orderId?: string
  readonly success?: boolean
}> => {
  const file = path.join(leanDir, "stand-in-log.jsonl")
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, "utf8").trim().split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l))
}

/**
 * A file the stand-in writes in place, as LEAN does, read once it is whole: a reader may find it truncated
 * and half written.
 */
const readWhole = (file: string): unknown => {
  for (let attempt = 1; ; attempt++) {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8"))
    } catch (error) {
      if (attempt === 100) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}

interface WrittenOrder {
  readonly id: number
  readonly tag?: string
  readonly submittedTag?: string
  readonly status: number
  readonly brokerId: ReadonlyArray<string>
  readonly timeInForce: string
}

/** The orders LEAN's run `algorithmId` has written. */
export const writtenOrders = (leanDir: string, algorithmId = ALGORITHM_ID): ReadonlyArray<WrittenOrder> => {
  const file = path.join(resultsDirOf(leanDir), `${algorithmId}.json`)
  if (!fs.existsSync(file)) return []
  return Object.values((readWhole(file) as { orders: Record<string, WrittenOrder> }).orders)
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

/** The brokerage's id of the order submitted with `tag`. */
export const brokerIdOf = (leanDir: string, tag: string, algorithmId = ALGORITHM_ID): string | undefined =>
  writtenOrders(leanDir, algorithmId).find((o) => o.submittedTag === tag)?.brokerId[0]

/** The order events LEAN's run has written, as listed. */
export const writtenEvents = (leanDir: string, algorithmId = ALGORITHM_ID): ReadonlyArray<{
  readonly orderId: number
  readonly orderEventId: number
  readonly status: string
}> => {
  const file = path.join(resultsDirOf(leanDir), `${algorithmId}-order-events.json`)
  return fs.existsSync(file) ? readWhole(file) as ReturnType<typeof writtenEvents> : []
}

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
