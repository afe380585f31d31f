/**
 * The audit log: append-only events, each carrying the hash of the event before it.
 *
 * `hash = sha256(canonical JSON of { seq, at, type, runId, payload, prevHash })`, so changing, removing or
 * reordering any event breaks every hash after it, and `verify()` names the first event that no longer
 * fits. The chain is global (one per database), so deleting a whole run's events is also detected.
 *
 * Whoever can write the storage can also recompute every hash after an edit. A key closes that: with one,
 * each event's hash is its HMAC-SHA-256 under the key, which cannot be recomputed without it. A chain is
 * keyed from the first event appended with a key (a chain started without one keeps its older events as
 * they are, anchored by the first keyed event, whose hash covers theirs); its head then records from which
 * event on, with a check value that is an HMAC of that number (never the key), so that a verifier tells a
 * missing or different key from an altered event. Appending to a keyed chain needs its key. Cutting events
 * from the end, and the head with them, is only seen against a head kept elsewhere (`expectHead`).
 */
import { Config, ConfigError, Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { canonicalJson, hmacSha256Hex, sha256Hex, withFrames } from "../Digest.js"
import { Instant, optional } from "../domain/schema.js"
import { nowIso } from "../internal/nowIso.js"
import { AuditKeyMismatch, RepositoryError } from "./errors.js"
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
  /** The first event hashed with the key, when the chain is keyed and was verified with its key. */
  readonly keyedFrom?: number
  /** Why the chain could not be checked with the key given (`broken` says it in words). */
  readonly keyProblem?: AuditKeyMismatch["problem"]
}

/** Where the chain ends: the last event's seq and hash (0 and the genesis hash when it is empty). */
export interface AuditHead {
  readonly seq: number
  readonly hash: string
  /** The first event hashed with the key; absent while the chain has no key. */
  readonly keyedFrom?: number
}

/** The head as the storage keeps it: once the chain is keyed, with the key's check value (never the key). */
export interface StoredHead extends AuditHead {
  readonly keyCheck?: string
}

export const emptyHead: StoredHead = { seq: 0, hash: GENESIS_HASH }

/** A head kept elsewhere, which the chain must still contain: event `seq` with this hash. */
export interface ExpectedHead {
  readonly seq: number
  readonly hash: string
}

export interface AuditLogOptions {
  /** The chain's key: events are hashed with HMAC-SHA-256 under it instead of a bare sha-256. */
  readonly key?: Redacted.Redacted<string> | undefined
}

/** The shortest key accepted: 32 characters, the hex of 128 bits. */
export const MIN_KEY_LENGTH = 32

const keyProblem = (key: string): string | undefined =>
  key.length === 0
    ? "is empty: unset it for an unkeyed chain, or give a secret of at least 32 characters (e.g. `openssl rand -hex 32`)"
    : !/^[\x21-\x7e]*$/.test(key)
    ? "must be printable ASCII with no spaces or line breaks (e.g. `openssl rand -hex 32`)"
    : key.length < MIN_KEY_LENGTH
    ? `is ${key.length} characters: a key needs at least ${MIN_KEY_LENGTH} (e.g. \`openssl rand -hex 32\`)`
    : undefined

/**
 * `TRADE_EXEC_AUDIT_KEY`: the chain's key, or `undefined` when it is not set. An empty value, or one that
 * is not a key (shorter than 32 characters, spaces, line breaks), is a `ConfigError` naming the variable.
 */
export const auditKeyConfig: Config.Config<Redacted.Redacted<string> | undefined> = Config.option(
  Config.string("TRADE_EXEC_AUDIT_KEY").pipe(Config.mapOrFail((key) => {
    const problem = keyProblem(key)
    return problem === undefined
      ? Either.right(Redacted.make(key))
      : Either.left(ConfigError.InvalidData([], `TRADE_EXEC_AUDIT_KEY ${problem}`))
  }))
).pipe(Config.map(Option.getOrUndefined))

/** The check value a keyed head records: an HMAC, under the key, of where the keying starts. */
export const keyCheckOf = (key: string, keyedFrom: number): string =>
  hmacSha256Hex(key, `trade-execution audit chain keyed from event #${keyedFrom}`)

/** The key to hash with from `keyedFrom` on. */
export interface ChainKey {
  readonly key: string
  readonly keyedFrom: number
}

/**
 * How events appended after `head` are hashed with the key given (if any): with the chain's key when it
 * is keyed (the key given must be it), with the key given from the next event on when the chain was not
 * keyed yet (`keying` is then what the head records from now on), bare otherwise.
 */
export const keyForAppend = (
  head: StoredHead,
  given: Redacted.Redacted<string> | undefined
): Either.Either<{ readonly key?: string; readonly keying?: { readonly keyedFrom: number; readonly keyCheck: string } }, AuditKeyMismatch> => {
  const key = given === undefined ? undefined : Redacted.value(given)
  if (head.keyCheck === undefined || head.keyedFrom === undefined) {
    if (key === undefined) return Either.right({})
    const keyedFrom = head.seq + 1
    return Either.right({ key, keying: { keyedFrom, keyCheck: keyCheckOf(key, keyedFrom) } })
  }
  if (key === undefined) return Either.left(new AuditKeyMismatch({ problem: "missing", keyedFrom: head.keyedFrom }))
  if (keyCheckOf(key, head.keyedFrom) !== head.keyCheck) {
    return Either.left(new AuditKeyMismatch({ problem: "differs", keyedFrom: head.keyedFrom }))
  }
  return Either.right({ key })
}

/**
 * The key a chain is verified with: none for an unkeyed chain verified without a key; the chain's own for a
 * keyed one. A keyed chain without a key or with another, and a key for an unkeyed chain with events, are
 * refused: a verifier holding a key accepts only a chain keyed with it, or the key would protect nothing
 * (the chain could be rewritten without it and its key record removed).
 */
export const keyForVerify = (
  head: StoredHead,
  given: Redacted.Redacted<string> | undefined
): Either.Either<ChainKey | undefined, AuditKeyMismatch> => {
  const key = given === undefined ? undefined : Redacted.value(given)
  if (head.keyCheck === undefined || head.keyedFrom === undefined) {
    return key === undefined || head.seq === 0 ? Either.right(undefined) : Either.left(new AuditKeyMismatch({ problem: "unkeyed" }))
  }
  if (key === undefined) return Either.left(new AuditKeyMismatch({ problem: "missing", keyedFrom: head.keyedFrom }))
  if (keyCheckOf(key, head.keyedFrom) !== head.keyCheck) {
    return Either.left(new AuditKeyMismatch({ problem: "differs", keyedFrom: head.keyedFrom }))
  }
  return Either.right({ key, keyedFrom: head.keyedFrom })
}

/** A verification that did not start: the key given cannot check this chain. */
export const refusedFor = (error: AuditKeyMismatch): AuditVerification => ({
  ok: false,
  events: 0,
  head: GENESIS_HASH,
  broken: { seq: error.keyedFrom ?? 1, reason: error.message },
  keyProblem: error.problem
})

/** The hash of an event, from everything but its own hash: HMAC-SHA-256 with a key. */
export const hashOf = (event: Omit<AuditEvent, "hash">, key?: string): string => {
  const text = canonicalJson({
    seq: event.seq,
    at: event.at,
    type: event.type,
    runId: event.runId,
    payload: event.payload,
    prevHash: event.prevHash
  })
  return key === undefined ? sha256Hex(text) : hmacSha256Hex(key, text)
}

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

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8")
const PREV_HASH = utf8(`,"prevHash":`)
const SEQ = utf8(`"seq":`)

/**
 * Chains new events after `head` (the last stored seq and hash), with the key when there is one. The hash
 * is taken over the event's canonical JSON, written out directly (keys in sorted order: at, payload,
 * prevHash, runId, seq, type) so each payload is serialized once; it equals `hashOf` of the stored event.
 */
export const chainRows = (
  head: { readonly seq: number; readonly hash: string },
  at: string,
  inputs: ReadonlyArray<AuditEventInput>,
  key?: string
): Array<ChainedRow> => {
  const out: Array<ChainedRow> = []
  const atPart = utf8(`{"at":${JSON.stringify(at)},"payload":`)
  // A batch is mostly one run and one type: their JSON is encoded once, not per event.
  let runId: string | undefined
  let runIdPart: Uint8Array | undefined
  let type: string | undefined
  let typePart: Uint8Array | undefined
  let { hash: prevHash, seq } = head
  return withFrames((frames) => {
    for (const input of inputs) {
      seq += 1
      if (runIdPart === undefined || input.runId !== runId) {
        runId = input.runId
        runIdPart = utf8(runId === undefined ? "," : `,"runId":${JSON.stringify(runId)},`)
      }
      if (typePart === undefined || input.type !== type) {
        type = input.type
        typePart = utf8(`,"type":${JSON.stringify(type)}}`)
      }
      frames.bytes(atPart)
      const payloadText = frames.json(input.payload ?? null)
      frames.bytes(PREV_HASH)
      frames.string(prevHash)
      frames.bytes(runIdPart)
      frames.bytes(SEQ)
      frames.number(seq)
      frames.bytes(typePart)
      const hash = frames.digest(key)
      out.push({ seq, at, type: input.type, runId: input.runId, payloadText, prevHash, hash })
      prevHash = hash
    }
    return out
  })
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
  inputs: ReadonlyArray<AuditEventInput>,
  key?: string
): Array<AuditEvent> => chainRows(head, at, inputs, key).map(eventOf)

/** Where a walk along the chain stands: what a page of events must continue from. */
export const chainStart: AuditVerification = { ok: true, events: 0, head: GENESIS_HASH }

/**
 * Walks events in order and reports the first one that does not fit the chain; events from `keyed.keyedFrom`
 * on are checked with the key. `from` continues an earlier walk, so a long log can be verified a page at a
 * time.
 */
export const verifyChain = (
  events: Iterable<AuditEvent>,
  from: AuditVerification = chainStart,
  keyed?: ChainKey
): AuditVerification => {
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
    const key = keyed !== undefined && event.seq >= keyed.keyedFrom ? keyed.key : undefined
    if (hashOf(event, key) !== event.hash) return fail("content does not match its hash: the event was altered")
    head = event.hash
    expectedSeq += 1
    count += 1
  }
  return { ok: true, events: count, head, ...(keyed === undefined ? {} : { keyedFrom: keyed.keyedFrom }) }
}

/**
 * The end of a walk: the last event must be the one the head records, a keyed chain must reach its first
 * keyed event, and the chain must still hold a head kept elsewhere (`expected`, whose event's hash is
 * `hashAt`, read from the verified chain).
 */
export const verifyEnd = (
  state: AuditVerification,
  head: StoredHead,
  expected?: { readonly head: ExpectedHead; readonly hashAt: string | undefined }
): AuditVerification => {
  if (!state.ok) return state
  const fail = (seq: number, reason: string): AuditVerification => ({ ...state, ok: false, broken: { seq, reason } })
  if (head.seq > state.events) {
    return fail(state.events + 1, `the log ends at #${state.events} but its head records #${head.seq}: events were removed from the end`)
  }
  if (head.seq < state.events) {
    return fail(head.seq + 1, `the log runs to #${state.events} but its head records #${head.seq}: events were added after the head`)
  }
  if (head.hash !== state.head) return fail(head.seq, "the last event's hash is not the one its head records: the head was altered")
  if (state.keyedFrom !== undefined && state.keyedFrom > state.events) {
    return fail(state.events + 1, `the chain is keyed from #${state.keyedFrom} but ends at #${state.events}: events were removed from the end`)
  }
  if (expected !== undefined) {
    const { seq, hash } = expected.head
    if (seq > state.events) {
      return fail(state.events + 1, `the log ends at #${state.events}, before the expected head #${seq}: events were removed from the end`)
    }
    const actual = seq === 0 ? GENESIS_HASH : expected.hashAt
    if (actual !== hash) {
      return fail(seq, `event #${seq} has hash ${actual ?? "(none)"}, not the expected head's ${hash}: the chain was rewritten up to there`)
    }
  }
  return state
}

export class AuditLog extends Context.Tag("trade-execution/AuditLog")<AuditLog, {
  /**
   * Appends events in order; inside `TradeRepository.withTransaction` they commit with the state they
   * describe. Answers with each event's place in the chain. Refused (a `RepositoryError` carrying the
   * `AuditKeyMismatch`) when the chain is keyed and the log was not given its key: see `checkKey`.
   */
  readonly append: (events: ReadonlyArray<AuditEventInput>) => Effect.Effect<ReadonlyArray<AuditReceipt>, RepositoryError>
  /** Events in chain order, optionally those of one run. */
  readonly list: (filter?: { readonly runId?: string }) => Effect.Effect<ReadonlyArray<AuditEvent>, RepositoryError>
  /** Walks the whole chain. */
  readonly verify: Effect.Effect<AuditVerification, RepositoryError>
  /** Walks the whole chain, which must also still hold `expectHead` (a head kept elsewhere). */
  readonly verifyWith: (options: { readonly expectHead?: ExpectedHead }) => Effect.Effect<AuditVerification, RepositoryError>
  /** Where the chain ends, as its head records it. */
  readonly head: Effect.Effect<AuditHead, RepositoryError>
  /** Fails when `append` would be refused for the key: check it before a run writes anything. */
  readonly checkKey: Effect.Effect<void, AuditKeyMismatch | RepositoryError>
}>() {
  /**
   * An in-memory audit log. `events` is the live array, exposed so tests can tamper with it and watch
   * `verify` catch it.
   */
  static readonly makeMemoryWith = (options: AuditLogOptions = {}) =>
    Effect.gen(function*() {
      const events: Array<AuditEvent> = []
      // What a SQL head row records of the key.
      let keying: { readonly keyedFrom: number; readonly keyCheck: string } | undefined
      const lock = yield* Effect.makeSemaphore(1)
      const headOf = (): StoredHead => {
        const last = events.at(-1)
        return { ...(last === undefined ? emptyHead : { seq: last.seq, hash: last.hash }), ...keying }
      }
      const hashAt = (seq: number) => events.find((e) => e.seq === seq)?.hash
      const verifyWith = (verifyOptions: { readonly expectHead?: ExpectedHead }) =>
        Effect.sync(() => {
          const head = headOf()
          const key = keyForVerify(head, options.key)
          if (Either.isLeft(key)) return refusedFor(key.left)
          const walked = verifyChain(events, chainStart, key.right)
          const expected = verifyOptions.expectHead
          return verifyEnd(walked, head, expected === undefined ? undefined : { head: expected, hashAt: hashAt(expected.seq) })
        })
      const service = AuditLog.of({
        append: (inputs) =>
          inputs.length === 0
            ? Effect.succeed([])
            : Effect.flatMap(nowIso, (at) =>
              transaction(lock)(Effect.flatMap(
                Effect.mapError(keyForAppend(headOf(), options.key), refusedAppend),
                ({ key, keying: keyed }) =>
                  write(() => {
                    const before = keying
                    if (keyed !== undefined) keying = keyed
                    const added = chain(headOf(), at, inputs, key)
                    // One at a time: a spread of a whole run's events would overflow the call's arguments.
                    for (const event of added) events.push(event)
                    const receipts = added.map(({ seq, prevHash, hash }) => ({ seq, prevHash, hash }))
                    return [receipts, () => {
                      events.splice(events.length - added.length, added.length)
                      keying = before
                    }] as const
                  })
              ))),
        list: (filter) =>
          Effect.sync(() => (filter?.runId === undefined ? [...events] : events.filter((e) => e.runId === filter.runId))),
        verify: verifyWith({}),
        verifyWith,
        head: Effect.sync(() => {
          const { keyCheck: _, ...head } = headOf()
          return head
        }),
        checkKey: Effect.asVoid(Effect.suspend(() => keyForAppend(headOf(), options.key)))
      })
      return { service, events }
    })

  static readonly makeMemory = AuditLog.makeMemoryWith()

  static readonly layerMemory: Layer.Layer<AuditLog> = Layer.effect(
    AuditLog,
    Effect.map(AuditLog.makeMemory, ({ service }) => service)
  )

  /** An in-memory audit log keyed with `options.key`. */
  static readonly layerMemoryWith = (options: AuditLogOptions): Layer.Layer<AuditLog> =>
    Layer.effect(AuditLog, Effect.map(AuditLog.makeMemoryWith(options), ({ service }) => service))
}

/** An append the key refuses, as the storage error `append` fails with. */
export const refusedAppend = (error: AuditKeyMismatch): RepositoryError =>
  new RepositoryError({ operation: "audit.append", reason: error.message, cause: error })
