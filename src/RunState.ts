/**
 * The run lifecycle as data: `queued → running → done | failed | blocked`.
 *
 * A run may also fail straight from `queued` when it cannot start at all (its snapshot changed after it
 * was frozen, its input is invalid): there is nothing to run, and leaving it queued would invite retries.
 * A queued run canceled before it started ends `done` with nothing sent: `done` means final, every order of
 * the run settled (its orders say why they ended). `done`, `failed` and `blocked` are terminal.
 */
import type { RunStatus } from "./domain/Run.js"
import * as Lifecycle from "./Lifecycle.js"

export const { transitions, isTerminal, canTransition, transition } = Lifecycle.make<RunStatus>("run", {
  queued: ["running", "failed", "done"],
  running: ["done", "failed", "blocked"],
  done: [],
  failed: [],
  blocked: []
})
