/**
 * Progress on stderr while runs train, and durations as people read them.
 * @module
 */
import type { Progress } from "../train/loop.ts";

/** `s` seconds as `42s` or `3m07s`; `?` when unknown. */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  // Whole seconds first, so 779.6 s is 13m00s, not 12m60s.
  const whole = Math.round(s), m = Math.floor(whole / 60);
  return m ? `${m}m${String(whole % 60).padStart(2, "0")}s` : `${whole}s`;
}

/**
 * Prints a run's progress: on a terminal one live line (unless `perEpoch`, for runs on several
 * workers at once), else one line per finished epoch.
 */
export function printProgress(p: Progress, perEpoch: boolean): void {
  const done = p.eval !== undefined;
  const line = `${p.replication} ${p.protocol} seed ${p.seed}  epoch ${p.epoch}/${p.epochs}  ` +
    `step ${p.step}/${p.steps}  ${done ? "train " : ""}loss ${p.loss.toFixed(4)}` +
    (done ? `  ${p.eval!.metric.replaceAll("_", " ")} ${p.eval!.value.toFixed(4)}` : "") +
    `  ETA ${duration(p.etaSeconds)}`;
  // A terminal gets one live line; a log gets one line per epoch.
  if (Deno.stderr.isTerminal() && !perEpoch) {
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${line}${done ? "\n" : ""}`));
  } else if (done) console.error(line);
}
