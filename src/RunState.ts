/**
 * The run lifecycle as data: `queued → running → done | failed | blocked`.
 *
 * A run may also fail straight from `queued` when it cannot start at all (its snapshot changed after it
 * was frozen, its input is invalid): there is nothing to run, and leaving it queued would invite retries.
 * A queued run canceled before it started ends `done` with nothing sent: `done` means final, every order of
 * the run settled (its orders say why they ended). `done`, `failed` and `blocked` are terminal.
 */
import { Either } from "effect"
import { IllegalTransition } from "./domain/errors.js"
import type { RunStatus } from "./domain/Run.js"

export const transitions: { readonly [S in RunStatus]: ReadonlyArray<RunStatus> } = {
  queued: ["running", "failed", "done"],
  running: ["done", "failed", "blocked"],
  done: [],
  failed: [],
  blocked: []
}

export const isTerminal = (status: RunStatus): boolean => transitions[status].length === 0

export const canTransition = (from: RunStatus, to: RunStatus): boolean => transitions[from].includes(to)

export const transition = (id: string, from: RunStatus, to: RunStatus): Either.Either<RunStatus, IllegalTransition> =>
  canTransition(from, to)
    ? Either.right(to)
    : Either.left(new IllegalTransition({ entity: "run", id, from, to }))
