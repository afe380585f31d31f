/**
 * Transactions for the in-memory layers: writes register how to undo themselves with the transaction
 * the fiber is in, and a transaction that fails undoes them in reverse, so the memory layers keep the
 * same all-or-nothing behaviour as a database. The repository and the audit log share the journal, so
 * one transaction spans both, as it does in SQL.
 */
import { Effect, Exit, FiberRef } from "effect"

const journal = FiberRef.unsafeMake<Array<() => void> | undefined>(undefined)

/** Performs a synchronous write and, inside a transaction, remembers how to undo it. */
export const write = <A>(apply: () => readonly [result: A, undo: () => void]): Effect.Effect<A> =>
  Effect.flatMap(FiberRef.get(journal), (undos) =>
    Effect.sync(() => {
      const [result, undo] = apply()
      undos?.push(undo)
      return result
    }))

/**
 * Runs `effect` as one transaction: nested calls join the outer one; transactions on one store are
 * serialized by `lock`, so no other transaction sees a write that may still be undone.
 */
export const transaction = (lock: Effect.Semaphore) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(journal), (outer) => {
    if (outer !== undefined) return effect
    return lock.withPermits(1)(
      Effect.suspend(() => {
        const undos: Array<() => void> = []
        return effect.pipe(
          Effect.locally(journal, undos),
          Effect.onExit((exit) =>
            Exit.isSuccess(exit)
              ? Effect.void
              : Effect.sync(() => {
                for (let i = undos.length - 1; i >= 0; i--) undos[i]!()
              })
          )
        )
      })
    )
  })
