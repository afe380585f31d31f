/** The failures that end a run as `failed`, with their message recorded; the others leave it resumable. */
import type { ClientOrderIdCollision, IllegalTransition, InvalidInput } from "../domain/errors.js"
import type {
  AccountTradedSince,
  ExecutionError,
  ExecutionTimeout,
  LeaseLost,
  PriceFeedError,
  RepositoryError,
  SnapshotChanged,
  SnapshotNotFound,
  SnapshotNotReady
} from "../ports/errors.js"

export type RunFailure =
  | AccountTradedSince
  | InvalidInput
  | IllegalTransition
  | ClientOrderIdCollision
  | SnapshotNotFound
  | SnapshotNotReady
  | SnapshotChanged
  | ExecutionError
  | ExecutionTimeout
  | PriceFeedError

/** A lost lease or an unreachable database is not the run's failure: the next execute resumes it. */
export const isRunFailure = (error: RunFailure | LeaseLost | RepositoryError): error is RunFailure =>
  error._tag !== "LeaseLost" && error._tag !== "RepositoryError"
