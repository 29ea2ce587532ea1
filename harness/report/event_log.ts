/**
 * The MLPerf-style event log: one JSON object per line for every logged event of every run,
 * written beside results.json as events.jsonl.
 * @module
 */
import { z } from "zod";
import { EventKeySchema, type Results } from "../results/result.ts";

/** One line of events.jsonl. */
export const EventLineSchema = z.strictObject({
  time_ms: z.number().int(),
  key: EventKeySchema,
  replication: z.string(),
  protocol: z.string(),
  seed: z.number().int(),
  epoch: z.number().int().positive().optional(),
  value: z.union([z.number(), z.string()]).optional(),
});

/** The event log of a results record, runs in grid order, events in time order per run. */
export function eventLog(results: Results): string {
  return results.runs.flatMap((run) =>
    run.events.map((e) =>
      JSON.stringify(EventLineSchema.parse({
        time_ms: Math.round(e.time),
        key: e.key,
        replication: results.replication,
        protocol: run.protocol,
        seed: run.seed,
        ...(e.epoch === undefined ? {} : { epoch: e.epoch }),
        ...(e.value === undefined ? {} : { value: e.value }),
      })) + "\n"
    )
  ).join("");
}
