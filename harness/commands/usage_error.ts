/**
 * Usage errors: the command line answers them with the usage text and exit code 2, other errors
 * with their message and exit code 1.
 * @module
 */
import { UnknownReplicationError } from "../replications.ts";
import { UnknownProtocolError } from "../train/plan.ts";
import { TransferError } from "../train/transfer.ts";

/** A wrong argument: exit code 2 with the usage text. */
export class UsageError extends Error {}

/**
 * Whether `e` is a wrong argument: a UsageError, an unknown replication or protocol, a dataset a
 * replication cannot be moved to, or an option parseArgs does not take.
 */
export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || e instanceof UnknownReplicationError ||
    e instanceof UnknownProtocolError || e instanceof TransferError ||
    ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false);
}
