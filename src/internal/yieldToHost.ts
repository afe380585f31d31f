import { Effect, Scheduler } from "effect"

/**
 * A turn for the host's event loop, between the steps of a long piece of work. On SQLite (a synchronous
 * driver) with the paper broker a run never waits on I/O, and Effect's scheduler resumes fibers in
 * microtasks: without this, a 50,000-order run held the thread for its 3.5 s, the host's timers and
 * sockets waited, and Ctrl-C was handled only once every order had been sent. Two timer hops, because
 * signals and sockets are served in the loop's poll phase: a timer set from an I/O callback (a file just
 * read) is already due at the next timers phase, which comes before the poll; the second is not, so the
 * poll runs first. About 1–2 ms a turn.
 */
export const yieldToHost: Effect.Effect<void> = Effect.yieldNow().pipe(
  Effect.zipRight(Effect.yieldNow()),
  Effect.withScheduler(Scheduler.timer(0))
)
