/**
 * Errors that cross the ports: each names the run, snapshot, order or provider it is about.
 */
import { Schema } from "effect"

export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {
  override get message(): string {
    return `no trade run with id ${JSON.stringify(this.runId)}`
  }
}

export class SnapshotNotFound extends Schema.TaggedError<SnapshotNotFound>()("SnapshotNotFound", {
  snapshotId: Schema.String
}) {
  override get message(): string {
    return `no decision snapshot with id ${JSON.stringify(this.snapshotId)}`
  }
}

/** The snapshot exists but may not be traded: not frozen, or its research did not succeed. */
export class SnapshotNotReady extends Schema.TaggedError<SnapshotNotReady>()("SnapshotNotReady", {
  snapshotId: Schema.String,
  status: Schema.String,
  frozen: Schema.Boolean
}) {
  override get message(): string {
    return this.frozen
      ? `decision snapshot ${this.snapshotId} has status ${this.status}; only 'success' snapshots can be traded`
      : `decision snapshot ${this.snapshotId} is not frozen; freeze it before trading it`
  }
}

/** The snapshot's items no longer hash to the digest frozen with it. */
export class SnapshotChanged extends Schema.TaggedError<SnapshotChanged>()("SnapshotChanged", {
  snapshotId: Schema.String,
  frozenDigest: Schema.String,
  actualDigest: Schema.String
}) {
  override get message(): string {
    return `decision snapshot ${this.snapshotId} changed after it was frozen (digest ${this.frozenDigest.slice(0, 12)}… now ${this.actualDigest.slice(0, 12)}…)`
  }
}

/** Another worker holds the run's lease; the run has not failed. */
export class RunHeld extends Schema.TaggedError<RunHeld>()("RunHeld", {
  runId: Schema.String,
  owner: Schema.String,
  expiresAt: Schema.String
}) {
  override get message(): string {
    return `trade run ${this.runId} is held by ${this.owner} until ${this.expiresAt}`
  }
}

/**
 * The run would start trading while another run on the same account still works (one account, one run
 * trading at a time, so two runs never size from the same cash or buy one target twice). Nothing was sent.
 */
export class AccountBusy extends Schema.TaggedError<AccountBusy>()("AccountBusy", {
  runId: Schema.String,
  workingRunId: Schema.String
}) {
  override get message(): string {
    return `trade run ${this.runId} cannot start: run ${this.workingRunId} is trading on the account; ` +
      `it starts once that run is final (or cancel that run)`
  }
}

/**
 * The run's orders were built from the account as it was then (a dry run's, executed later), and another
 * run has traded on the account since: sent now, they would buy or sell again what that run already did.
 * The run fails with nothing sent; a new run builds from the account as it is.
 */
export class AccountTradedSince extends Schema.TaggedError<AccountTradedSince>()("AccountTradedSince", {
  runId: Schema.String,
  builtAt: Schema.String,
  tradedRunId: Schema.String
}) {
  override get message(): string {
    return `trade run ${this.runId}'s orders were built at ${this.builtAt} from the account as it was then, and run ` +
      `${this.tradedRunId} has traded on the account since: nothing of it was sent; build a new run from the account as it is now`
  }
}

/** This worker's lease on the run was taken over; it must stop writing. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  runId: Schema.String,
  owner: Schema.String
}) {
  override get message(): string {
    return `lease on trade run ${this.runId} is no longer held by ${this.owner}`
  }
}

/**
 * The audit chain's key (`TRADE_EXEC_AUDIT_KEY`) is not the one the chain needs: the chain is keyed and no
 * key was given (`missing`), a key was given that is not the chain's (`differs`: or the chain's key record
 * was altered, which looks the same), or a key was given for a chain that has none (`unkeyed`: a keyed
 * chain rewritten without its key looks the same, so it cannot be checked against the key).
 */
export class AuditKeyMismatch extends Schema.TaggedError<AuditKeyMismatch>()("AuditKeyMismatch", {
  problem: Schema.Literal("missing", "differs", "unkeyed"),
  keyedFrom: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    switch (this.problem) {
      case "missing":
        return `the audit chain is keyed (HMAC-SHA-256) from event #${this.keyedFrom}: a key is needed, set TRADE_EXEC_AUDIT_KEY to the chain's key`
      case "differs":
        return `TRADE_EXEC_AUDIT_KEY differs from the key the audit chain is keyed with from event #${this.keyedFrom} (or the chain's key record was altered)`
      case "unkeyed":
        return "TRADE_EXEC_AUDIT_KEY is set but this audit chain has no key, so it cannot be checked against one (a keyed chain rewritten without its key looks the same); without the key it is checked as an unkeyed chain"
    }
  }
}

/**
 * A storage failure: the database is unreachable, read-only, full, or refused a statement. `locked`: another
 * process held the database longer than this one would wait; the statement changed nothing, and the same
 * work can be tried again.
 */
export class RepositoryError extends Schema.TaggedError<RepositoryError>()("RepositoryError", {
  operation: Schema.String,
  reason: Schema.String,
  locked: Schema.optional(Schema.Boolean),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.operation} failed: ${this.reason}`
  }
}

/** The execution provider refused or failed a request (not a timeout). */
export class ExecutionError extends Schema.TaggedError<ExecutionError>()("ExecutionError", {
  provider: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.provider} ${this.operation} failed: ${this.reason}`
  }
}

/** No answer in time: the outcome is unknown, to be settled with `status()`, never by resubmitting blindly. */
export class ExecutionTimeout extends Schema.TaggedError<ExecutionTimeout>()("ExecutionTimeout", {
  provider: Schema.String,
  operation: Schema.String,
  clientOrderIds: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `${this.provider} ${this.operation} timed out for ${this.clientOrderIds.length} order(s); outcome unknown`
  }
}

export class PriceFeedError extends Schema.TaggedError<PriceFeedError>()("PriceFeedError", {
  source: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `price feed ${this.source}: ${this.reason}`
  }
}
