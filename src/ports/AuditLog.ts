/**
 * The audit log: append-only events, each carrying the hash of the event before it.
 *
 * `hash = sha256(canonical JSON of { seq, at, type, runId, payload, prevHash })`, so changing, removing or
 * reordering any event breaks every hash after it, and `verify()` names the first event that no longer
 * fits. The chain is global (one per database), so deleting a whole run's events is also detected.
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { canonicalJson, framedDigest, sha256Hex } from "../Digest.js"
import { Instant, optional } from "../domain/schema.js"
import type { RepositoryError } from "./errors.js"
import { transaction, write } from "./internal/memoryTransaction.js"

export const GENESIS_HASH = "0".repeat(64)

export const AuditEvent = Schema.Struct({
  seq: Schema.Int,
  at: Instant,
  type: Schema.String,
  runId: optional(Schema.String),
  /** JSON: objects, arrays, strings, numbers, booleans, null. Decimals are written as text. */
  payload: Schema.Unknown,
  prevHash: Schema.String,
  hash: Schema.String
})
export type AuditEvent = typeof AuditEvent.Type

export interface AuditEventInput {
  readonly type: string
  readonly runId?: string
  readonly payload: unknown
}

/** Where an appended event sits in the chain. */
export interface AuditReceipt {
  readonly seq: number
  readonly prevHash: string
  readonly hash: string
}

export interface AuditVerification {
  readonly ok: boolean
  readonly events: number
  /** Hash of the last event that verified (the genesis hash for an empty log). */
  readonly head: string
  readonly broken?: { readonly seq: number; readonly reason: string }
}

/** The hash of an event, from everything but its own hash. */
export const hashOf = (event: Omit<AuditEvent, "hash">): string =>
  sha256Hex(canonicalJson({
    seq: event.seq,
    at: event.at,
    type: event.type,
    runId: event.runId,
    payload: event.payload,
    prevHash: event.prevHash
  }))

/** The payload as it is stored: plain JSON, decimals as canonical text. */
export const normalizePayload = (payload: unknown): unknown => JSON.parse(canonicalJson(payload ?? null))

/** An event as it is stored: its payload as canonical JSON text. */
export interface ChainedRow {
  readonly seq: number
  readonly at: string
  readonly type: string
  readonly runId: string | undefined
  readonly payloadText: string
  readonly prevHash: string
  readonly hash: string
}

/**
 * Chains new events after `head` (the last stored seq and hash). The hash is taken over the event's
 * canonical JSON, written out directly (keys in sorted order: at, payload, prevHash, runId, seq, type) so
 * each payload is serialized once; it equals `hashOf` of the stored event.
 */
export const chainRows = (
  head: { readonly seq: number; readonly hash: string },
  at: string,
  inputs: ReadonlyArray<AuditEventInput>
): Array<ChainedRow> => {
  const out: Array<ChainedRow> = []
  const atText = `{"at":${JSON.stringify(at)},"payload":`
  // A batch is mostly one run and one type: their JSON is written once, not per event.
  let runId: string | undefined
  let runIdText = ""
  let type: string | undefined
  let typeText = ""
  let { hash: prevHash, seq } = head
  for (const input of inputs) {
    seq += 1
    if (input.runId !== runId || runIdText === "") {
      runId = input.runId
      runIdText = runId === undefined ? "," : `,"runId":${JSON.stringify(runId)},`
    }
    if (input.type !== type) {
      type = input.type
      typeText = `,"type":${JSON.stringify(type)}}`
    }
    // Hashes this chain made are hex, whose JSON is the text between quotes; a head read from storage
    // is written as JSON would write whatever it holds.
    const prevHashText = seq === head.seq + 1 ? JSON.stringify(prevHash) : `"${prevHash}"`
    const [payloadText, hash] = framedDigest(
      atText,
      input.payload ?? null,
      `,"prevHash":${prevHashText}${runIdText}"seq":${seq}${typeText}`
    )
    out.push({ seq, at, type: input.type, runId: input.runId, payloadText, prevHash, hash })
    prevHash = hash
  }
  return out
}

/** The stored event of a chained row. */
export const eventOf = (row: ChainedRow): AuditEvent => ({
  seq: row.seq,
  at: row.at,
  type: row.type,
  ...(row.runId === undefined ? {} : { runId: row.runId }),
  payload: JSON.parse(row.payloadText) as unknown,
  prevHash: row.prevHash,
  hash: row.hash
})

/** Chains new events after `head`. */
export const chain = (
  head: { readonly seq: number; readonly hash: string },
  at: string,
  inputs: ReadonlyArray<AuditEventInput>
): Array<AuditEvent> => chainRows(head, at, inputs).map(eventOf)

/** Where a walk along the chain stands: what a page of events must continue from. */
export const chainStart: AuditVerification = { ok: true, events: 0, head: GENESIS_HASH }

/**
 * Walks events in order and reports the first one that does not fit the chain. `from` continues an
 * earlier walk, so a long log can be verified a page at a time.
 */
export const verifyChain = (events: Iterable<AuditEvent>, from: AuditVerification = chainStart): AuditVerification => {
  if (!from.ok) return from
  let head = from.head
  let count = from.events
  let expectedSeq = count + 1
  for (const event of events) {
    const fail = (reason: string): AuditVerification => ({ ok: false, events: count, head, broken: { seq: event.seq, reason } })
    // Every row counts, whatever its seq: one numbered 0 or below, or a second one of a number, was put there.
    if (event.seq < expectedSeq) return fail(`found event #${event.seq} where #${expectedSeq} should be: an event was inserted`)
    if (event.seq !== expectedSeq) return fail(`expected event #${expectedSeq} but found #${event.seq}: an event is missing`)
    if (event.prevHash !== head) return fail("previous-hash link does not match the event before it")
    if (hashOf(event) !== event.hash) return fail("content does not match its hash: the event was altered")
    head = event.hash
    expectedSeq += 1
    count += 1
  }
  return { ok: true, events: count, head }
}

export const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

export class AuditLog extends Context.Tag("trade-execution/AuditLog")<AuditLog, {
  /**
   * Appends events in order; inside `TradeRepository.withTransaction` they commit with the state they
   * describe. Answers with each event's place in the chain.
   */
  readonly append: (events: ReadonlyArray<AuditEventInput>) => Effect.Effect<ReadonlyArray<AuditReceipt>, RepositoryError>
  /** Events in chain order, optionally those of one run. */
  readonly list: (filter?: { readonly runId?: string }) => Effect.Effect<ReadonlyArray<AuditEvent>, RepositoryError>
  /** Walks the whole chain. */
  readonly verify: Effect.Effect<AuditVerification, RepositoryError>
}>() {
  /**
   * An in-memory audit log. `events` is the live array, exposed so tests can tamper with it and watch
   * `verify` catch it.
   */
  static readonly makeMemory = Effect.gen(function*() {
    const events: Array<AuditEvent> = []
    const lock = yield* Effect.makeSemaphore(1)
    const service = AuditLog.of({
      append: (inputs) =>
        inputs.length === 0
          ? Effect.succeed([])
          : Effect.flatMap(nowIso, (at) =>
            transaction(lock)(write(() => {
              const last = events.at(-1)
              const added = chain(last ?? { seq: 0, hash: GENESIS_HASH }, at, inputs)
              events.push(...added)
              const receipts = added.map(({ seq, prevHash, hash }) => ({ seq, prevHash, hash }))
              return [receipts, () => void events.splice(events.length - added.length, added.length)] as const
            }))),
      list: (filter) =>
        Effect.sync(() => (filter?.runId === undefined ? [...events] : events.filter((e) => e.runId === filter.runId))),
      verify: Effect.sync(() => verifyChain(events))
    })
    return { service, events }
  })

  static readonly layerMemory: Layer.Layer<AuditLog> = Layer.effect(
    AuditLog,
    Effect.map(AuditLog.makeMemory, ({ service }) => service)
  )
}
