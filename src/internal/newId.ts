/**
 * New identifiers: `prefix_` + time (base 36, so ids sort by creation) + 48 random bits. Time comes from
 * `Clock` and randomness from `Random`, so tests can pin both.
 */
import { Clock, Effect, Random } from "effect"

export const newId = (prefix: string): Effect.Effect<string> =>
  Effect.gen(function*() {
    const millis = yield* Clock.currentTimeMillis
    const high = yield* Random.nextIntBetween(0, 0x1000000)
    const low = yield* Random.nextIntBetween(0, 0x1000000)
    const random = high.toString(16).padStart(6, "0") + low.toString(16).padStart(6, "0")
    return `${prefix}_${millis.toString(36).padStart(9, "0")}${random}`
  })
