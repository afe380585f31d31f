/**
 * Large documents written a piece at a time. The JSON of a 50,000-order run is 34 MB: made whole (every
 * order's document, then one string of it all, then the stream's copy) it was the process's peak of memory
 * and held the thread 2–3 s before the first byte was printed. Here the orders' documents are made as
 * they are written, the text goes out in pieces of a hundred kilobytes or so, and the host gets a turn
 * every few tens of milliseconds (Ctrl-C is served, timers run).
 */
import { Clock, Console, Effect } from "effect"
import { yieldToHost } from "../../src/internal/yieldToHost.js"

/** The elements of an array made one by one as they are written: `f` of each item. */
export class Each<A> {
  constructor(readonly items: ReadonlyArray<A>, readonly f: (item: A) => unknown) {}

  /**
   * Its array, for `JSON.stringify`: an `Each` inside an element (made whole with the run of elements it
   * is in, where the elements of the outer `Each` are written together) is written as its elements. So
   * elements are not searched for one before they are written, a second walk over every order's document.
   */
  toJSON(): ReadonlyArray<unknown> {
    return this.items.map((item) => materialize(this.f(item)))
  }
}

export const each = <A>(items: ReadonlyArray<A>, f: (item: A) => unknown): Each<A> => new Each(items, f)

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype

/** True when `value` holds an `Each` (directly, or in its plain objects and arrays). */
const holdsEach = (value: unknown): boolean => {
  if (value instanceof Each) return true
  if (Array.isArray(value)) return value.some(holdsEach)
  if (isPlainObject(value)) {
    for (const key in value) if (holdsEach(value[key])) return true
  }
  return false
}

/** The document with every `Each` made into its array: what `JSON.stringify` takes. */
export const materialize = (value: unknown): unknown => {
  if (value instanceof Each) return value.items.map((item) => materialize(value.f(item)))
  if (!holdsEach(value)) return value
  if (Array.isArray(value)) return value.map(materialize)
  const out: Record<string, unknown> = {}
  for (const key in value as Record<string, unknown>) out[key] = materialize((value as Record<string, unknown>)[key])
  return out
}

const GAP = "  "

/** Elements of an `Each` made and written together. */
const RUN = 256

/** A member `JSON.stringify` leaves out of an object. */
const omitted = (value: unknown): boolean =>
  value === undefined || typeof value === "function" || typeof value === "symbol"

/**
 * The lines of `JSON.stringify(elements, null, 2)` without its brackets, indented as elements of an array
 * whose own lines are `depth` indents in. The array is written inside `depth` arrays of one element, so
 * that `JSON.stringify` indents its elements where they sit; the brackets around them are cut off, rather
 * than every line indented again, a second copy of the whole text.
 */
const elementLines = (elements: Array<unknown>, depth: number): string => {
  let nested: unknown = elements
  for (let d = 0; d < depth; d++) nested = [nested]
  const text = JSON.stringify(nested, null, 2)
  // `[\n` at each depth down to the elements' own, and `\n]` back up, each (2d + 2) characters at depth d.
  const cut = (depth + 1) * (depth + 2)
  return text.slice(cut, text.length - cut)
}

/**
 * The lines of `JSON.stringify(materialize(value), null, 2)`, in order (a string may hold several): `head`
 * before the value, `tail` after it, `indent` the indentation of its lines after the first. What holds no
 * `Each` is written by `JSON.stringify` itself, its lines indented where it sits.
 */
function* jsonLines(value: unknown, indent: string, head: string, tail: string): Generator<string> {
  if (value instanceof Each) {
    const { items, f } = value
    if (items.length === 0) return yield `${head}[]${tail}`
    yield `${head}[`
    // A run of elements at a time, written by one `JSON.stringify` of their array (its brackets cut off and
    // its lines indented where they sit): per element, the calls cost more than the writing.
    for (let from = 0; from < items.length; from += RUN) {
      const to = Math.min(items.length, from + RUN)
      const elements = new Array<unknown>(to - from)
      for (let i = from; i < to; i++) elements[i - from] = f(items[i]!)
      const comma = to < items.length ? "," : ""
      yield `${elementLines(elements, indent.length / GAP.length)}${comma}`
    }
    return yield `${indent}]${tail}`
  }
  if (Array.isArray(value) && holdsEach(value)) {
    if (value.length === 0) return yield `${head}[]${tail}`
    yield `${head}[`
    const inner = indent + GAP
    for (let i = 0; i < value.length; i++) {
      // An element JSON leaves out of an object is `null` in an array.
      const element = omitted(value[i]) ? null : value[i]
      yield* jsonLines(element, inner, inner, i < value.length - 1 ? "," : "")
    }
    return yield `${indent}]${tail}`
  }
  if (isPlainObject(value) && holdsEach(value)) {
    const keys = Object.keys(value).filter((key) => !omitted(value[key]))
    if (keys.length === 0) return yield `${head}{}${tail}`
    yield `${head}{`
    const inner = indent + GAP
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      yield* jsonLines(value[key], inner, `${inner}${JSON.stringify(key)}: `, i < keys.length - 1 ? "," : "")
    }
    return yield `${indent}}${tail}`
  }
  const text = JSON.stringify(value, null, 2)
  yield `${head}${indent === "" ? text : text.replaceAll("\n", `\n${indent}`)}${tail}`
}

/** `JSON.stringify(materialize(document), null, 2)`, a line (or a few) at a time. */
export const prettyJson = (document: unknown): Iterable<string> => jsonLines(document, "", "", "")

/** Characters of text written to stdout at once. */
const PIECE = 1 << 17

/**
 * Milliseconds of writing between two turns of the host. When a turn was two 1 ms timers and a piece half
 * this size, a turn after every piece made printing a 50,000-order run 2.0–2.5 s instead of 0.6–1.25 s;
 * turns are cheaper now (`yieldToHost`), and this interval was kept as measured then.
 */
const BETWEEN_TURNS_MS = 50

/**
 * True once stdout can take nothing more: its reader went away (`trade-exec show RUN --json | head`, EPIPE).
 * `Console.log` ignores a write's error as it happens, but a pipe's comes a moment later, as an event that
 * would end the process with a stack trace: it is taken here, and what is left is not written, as one
 * write of the whole text left it unwritten before.
 */
let stdoutGone = false
let watching = false
const watchStdout = Effect.sync(() => {
  if (watching) return
  watching = true
  process.stdout.on("error", () => {
    stdoutGone = true
  })
})
const stdoutOpen = () => !stdoutGone && !process.stdout.destroyed

/**
 * Prints `lines` on stdout, each followed by a line break (as `Console.log` prints one text): in pieces
 * of about PIECE characters, with a turn for the host every BETWEEN_TURNS_MS or so.
 */
export const printLines = (lines: Iterable<string>) =>
  Effect.gen(function*() {
    yield* watchStdout
    let piece: Array<string> = []
    let size = 0
    let lastTurn = yield* Clock.currentTimeMillis
    for (const line of lines) {
      piece.push(line)
      size += line.length + 1
      if (size >= PIECE) {
        if (!stdoutOpen()) return
        yield* Console.log(piece.join("\n"))
        piece = []
        size = 0
        const now = yield* Clock.currentTimeMillis
        if (now - lastTurn >= BETWEEN_TURNS_MS) {
          yield* yieldToHost
          lastTurn = yield* Clock.currentTimeMillis
        }
      }
    }
    if (piece.length > 0 && stdoutOpen()) yield* Console.log(piece.join("\n"))
  })
