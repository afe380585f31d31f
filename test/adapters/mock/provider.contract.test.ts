import { Effect } from "effect"
import { providerContract, workingOrderContract } from "../../contract/provider.contract.js"
import { paperUnderTest } from "../../support/paperVenue.js"

// The paper broker with its book in memory (test/support/paperVenue.ts says how it trades).
const paper = paperUnderTest(Effect.succeed([undefined]))

providerContract("ExecutionProvider contract: paper broker", paper)
workingOrderContract("ExecutionProvider contract, working orders: paper broker", paper)
