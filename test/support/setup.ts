// Effect values (BigDecimal above all) compare by their own `Equal`, not by their internal fields:
// a decimal that has been normalized once carries a cached copy that plain deep equality would see.
import { addEqualityTesters } from "@effect/vitest"

addEqualityTesters()
