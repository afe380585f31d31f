/**
 * A lifecycle as data: for each status, the statuses it may move to. The checks every lifecycle offers are
 * read from that table, so the run's and the order's lifecycles differ only in their tables.
 */
import { Either } from "effect"
import { IllegalTransition } from "./domain/errors.js"

export const make = <S extends string>(
  entity: IllegalTransition["entity"],
  transitions: { readonly [K in S]: ReadonlyArray<S> }
) => {
  const canTransition = (from: S, to: S): boolean => transitions[from].includes(to)
  return {
    transitions,
    /** A status with no way out: never mutated again. */
    isTerminal: (status: S): boolean => transitions[status].length === 0,
    canTransition,
    transition: (id: string, from: S, to: S): Either.Either<S, IllegalTransition> =>
      canTransition(from, to)
        ? Either.right(to)
        : Either.left(new IllegalTransition({ entity, id, from, to }))
  }
}
