import { Effect, Scheduler } from "effect"

/**
 * A turn for the host's event loop, between the steps of a long piece of work. On SQLite (a synchronous
 * driver) with the paper broker a run never waits on I/O, and Effect's scheduler resumes fibers in
 * microtasks: without this, a 50,000-order run held the thread for its 3.5 s, the host's timers and
 * sockets waited, and Ctrl-C was handled only once every order had been sent.
 *
 * Two hops through `setImmediate`: signals, sockets and finished file reads are served in the loop's poll
 * phase, which comes between one check phase (where immediates run) and the next. From an I/O callback (a
 * file just read) the first hop runs in the same pass's check phase, before any poll; the second, queued
 * from that check phase, only in the next pass, after its timers and its poll. A timer of 0 ms would serve
 * the same phases, but Node holds every timer at least a millisecond: two of them a turn were ~2 ms of a
 * run's idle time each, a dozen turns in a 5,000-name run and more in a larger one.
 */
const immediate = Scheduler.make((task) => setImmediate(task))

export const yieldToHost: Effect.Effect<void> = Effect.yieldNow().pipe(
  Effect.zipRight(Effect.yieldNow()),
  Effect.withScheduler(immediate)
)
