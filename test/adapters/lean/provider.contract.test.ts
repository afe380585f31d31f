import { Effect, Layer } from "effect"
import * as Dec from "../../../src/domain/Decimal.js"
import { providerContract, ProviderUnderTest } from "../../contract/provider.contract.js"
import { leanDirectory, leanProvider, order, startStandIn } from "./support/standIn.js"

// The stand-in LEAN decides by the ticker: `PART…` fills half, `REJ…` is Invalid, `REST…` keeps working.
const lean = Layer.scoped(
  ProviderUnderTest,
  Effect.gen(function*() {
    const dir = yield* leanDirectory
    yield* startStandIn(dir)
    const provider = yield* leanProvider(dir)
    const prefix = { fills: "FILL", partial: "PART", rejected: "REJ", resting: "REST" } as const
    let n = 0
    return ProviderUnderTest.of({
      provider,
      order: (kind, side, quantity) =>
        Effect.sync(() =>
          order(`${prefix[kind]}${++n}`, side, quantity, kind === "resting" ? { limitPrice: Dec.unsafe(side === "BUY" ? 90 : 110) } : {})
        )
    })
  })
)

providerContract("ExecutionProvider contract: LEAN (stand-in process)", lean)
