/**
 * The order lifecycle as data:
 * `NEW → SUBMITTED → PARTIAL | FILLED | CANCELED | REJECTED`, `PARTIAL → PARTIAL | FILLED | CANCELED`.
 *
 * `NEW` may also end without reaching a broker: `REJECTED` (a risk rule, no price) or `CANCELED` (its run was
 * blocked by another order). `FILLED`, `CANCELED` and `REJECTED` are terminal and never mutated.
 */
import { Either } from "effect"
import { IllegalTransition } from "./domain/errors.js"
import type { OrderStatus } from "./domain/Order.js"

export const transitions: { readonly [S in OrderStatus]: ReadonlyArray<OrderStatus> } = {
  NEW: ["SUBMITTED", "REJECTED", "CANCELED"],
  SUBMITTED: ["PARTIAL", "FILLED", "CANCELED", "REJECTED"],
  PARTIAL: ["PARTIAL", "FILLED", "CANCELED"],
  FILLED: [],
  CANCELED: [],
  REJECTED: []
}

export const isTerminal = (status: OrderStatus): boolean => transitions[status].length === 0

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => transitions[from].includes(to)

export const transition = (
  id: string,
  from: OrderStatus,
  to: OrderStatus
): Either.Either<OrderStatus, IllegalTransition> =>
  canTransition(from, to)
    ? Either.right(to)
    : Either.left(new IllegalTransition({ entity: "order", id, from, to }))
