/** Small Schema helpers shared by the domain models. */
import { Schema } from "effect"
import { DecimalFromString } from "./Decimal.js"

/** An optional field that is either present with a value or absent (never `undefined`). */
export const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** An exact decimal, written as text (`"0.07"`, `"-12.5"`). */
export const Decimal = DecimalFromString

/** An instant as ISO-8601 text in UTC, e.g. `2026-11-25T14:30:00.000Z`. */
export const Instant = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
  Schema.annotations({ identifier: "Instant" })
)
