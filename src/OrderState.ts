/**
 * The order lifecycle as data:
 * `NEW → SUBMITTED → PARTIAL | FILLED | CANCELED | REJECTED`, `PARTIAL → PARTIAL | FILLED | CANCELED`.
 *
 * `NEW` may also end without reaching a broker: `REJECTED` (a risk rule, no price) or `CANCELED` (its run was
 * blocked by another order). `FILLED`, `CANCELED` and `REJECTED` are terminal and never mutated.
 */
import type { OrderStatus } from "./domain/Order.js"
import * as Lifecycle from "./Lifecycle.js"

export const { transitions, isTerminal, canTransition, transition } = Lifecycle.make<OrderStatus>("order", {
  NEW: ["SUBMITTED", "REJECTED", "CANCELED"],
  SUBMITTED: ["PARTIAL", "FILLED", "CANCELED", "REJECTED"],
  PARTIAL: ["PARTIAL", "FILLED", "CANCELED"],
  FILLED: [],
  CANCELED: [],
  REJECTED: []
})
