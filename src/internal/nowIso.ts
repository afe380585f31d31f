/**
 * The time now as ISO-8601 text, the form every timestamp of a run, an order and an audit event is kept
 * in. From `Clock`, so tests can pin it.
 */
import { Clock, Effect } from "effect"

export const nowIso: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
