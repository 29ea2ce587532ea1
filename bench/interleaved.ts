/**
 * Timing several measurements in turns (A1 B1 A2 B2 …), so that whatever slows the machine for
 * a while (heap growth, another process, a clock change) lands on all of them alike: the
 * training step beside `fit`, and tfjs beside PyTorch.
 * @module
 */
import { errorText } from "./error_text.ts";
import { spread } from "./spread.ts";
import type { Spread } from "./schema.ts";

/** A measurement, set up and ready to time: a warm-up and any number of timed repeats. */
export interface Timed<R extends { samplesPerSecond: number; seconds: number }> {
  /** Runs the untimed first steps; returns how many. */
  warmup(): Promise<number>;
  repeat(): Promise<R>;
}

/** One measurement taking its turns: named for progress, or already decided (skipped, failed). */
export interface Turn<R extends { samplesPerSecond: number; seconds: number }, Decided> {
  what: string;
  progress: (msg: string) => void;
  timed: Timed<R> | Decided;
}

/** What a turn-taking measurement ends as: its repeats and their spread, or its error. */
export type Interleaved<R> =
  | {
    status: "ok";
    warmupSeconds: number;
    warmupSteps: number;
    repeats: R[];
    samplesPerSecond: Spread;
  }
  | { status: "error"; error: string };

/**
 * Warms up each measurement (in list order), then runs `repeats` rounds, each timing one repeat
 * of every measurement in list order. A measurement that fails becomes its error; the others go
 * on. A decided one is passed through untouched.
 */
export async function interleaved<R extends { samplesPerSecond: number; seconds: number }, D>(
  turns: Turn<R, D>[],
  repeats: number,
): Promise<(Interleaved<R> | D)[]> {
  const out: (Interleaved<R> | D)[] = [];
  const reps: R[][] = turns.map(() => []);
  const warm: { warmupSeconds: number; warmupSteps: number }[] = [];
  const timed = (i: number) => {
    const t = turns[i].timed as Timed<R> | D;
    return typeof t === "object" && t !== null && "repeat" in t ? t : null;
  };
  const fail = (i: number, e: unknown) => {
    const error = errorText(e);
    turns[i].progress(`${turns[i].what} failed: ${error}`);
    out[i] = { status: "error", error };
  };
  for (const [i, turn] of turns.entries()) {
    const t = timed(i);
    if (!t) {
      out[i] = turn.timed as D;
      continue;
    }
    try {
      const t0 = performance.now();
      const warmupSteps = await t.warmup();
      warm[i] = { warmupSeconds: (performance.now() - t0) / 1000, warmupSteps };
      turn.progress(`warm-up ${warm[i].warmupSeconds.toFixed(2)}s (${warmupSteps} step(s))`);
    } catch (e) {
      fail(i, e);
    }
  }
  for (let r = 0; r < repeats; r++) {
    for (const [i, turn] of turns.entries()) {
      const t = timed(i);
      if (out[i] || !t) continue;
      try {
        const rep = await t.repeat();
        turn.progress(
          `repeat ${r + 1}/${repeats}: ${rep.samplesPerSecond.toFixed(1)} samples/s ` +
            `(${"steps" in rep ? `${rep.steps} steps, ` : ""}${rep.seconds.toFixed(2)}s)`,
        );
        reps[i].push(rep);
      } catch (e) {
        fail(i, e);
      }
    }
  }
  return turns.map((_, i) =>
    out[i] ?? {
      status: "ok" as const,
      ...warm[i],
      repeats: reps[i],
      samplesPerSecond: spread(reps[i].map((r) => r.samplesPerSecond)),
    }
  );
}
