/**
 * Errors of the pure core. Each carries what a user needs to fix the input or to understand the refusal.
 */
import { Schema } from "effect"
import * as Dec from "./Decimal.js"

/**
 * Input that cannot be used as given. `source` is where it came from (a file path, or a name such as
 * `items` or `params`), `row` the 1-based data row when the input is tabular, `field` the column or
 * parameter, `value` what was found there.
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  source: Schema.String,
  row: Schema.optional(Schema.Number),
  field: Schema.String,
  value: Schema.optional(Schema.String),
  reason: Schema.String
}) {
  override get message(): string {
    const where = this.row === undefined ? this.source : `${this.source} row ${this.row}`
    const found = this.value === undefined ? "" : ` (got ${JSON.stringify(this.value)})`
    return `${where}, ${this.field}: ${this.reason}${found}`
  }
}

/** A state machine refused a transition; nothing was written. */
export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  entity: Schema.Literal("run", "order"),
  id: Schema.String,
  from: Schema.String,
  to: Schema.String
}) {
  override get message(): string {
    return `illegal ${this.entity} transition ${this.from} → ${this.to} for ${this.id}`
  }
}

/**
 * Two orders of one run would carry the same client order id: the broker would take them for one order.
 * Refused when the orders are built, so the run fails with both symbols named instead of being left half
 * saved. With the current scheme it takes 96 bits of sha-256 to agree; see `ClientOrderId`.
 */
export class ClientOrderIdCollision extends Schema.TaggedError<ClientOrderIdCollision>()("ClientOrderIdCollision", {
  runId: Schema.String,
  clientOrderId: Schema.String,
  symbols: Schema.Tuple(Schema.String, Schema.String),
  scheme: Schema.Number
}) {
  override get message(): string {
    return `run ${this.runId}: ${this.symbols[0]} and ${this.symbols[1]} would share the client order id ${this.clientOrderId} (scheme ${this.scheme})`
  }
}

/** Shows an unknown value the way a person would write it in an input file. */
export const describeValue = (value: unknown): string =>
  typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "bigint" || typeof value === "boolean"
    ? String(value)
    : value === null
    ? "null"
    : value === undefined
    ? ""
    : Dec.isDecimal(value)
    ? Dec.toString(value)
    : JSON.stringify(value) ?? String(value)
