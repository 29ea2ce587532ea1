/**
 * A lock file per reports folder, so that two processes writing it take turns instead of losing
 * each other's runs.
 * @module
 */
import { join } from "node:path";

/** Who holds a lock, as its file records it. */
interface _Holder {
  pid: number;
  /** Absent where the holder could not read it (no `--allow-sys=hostname`). */
  hostname?: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** Options of {@link withLock}. */
export interface LockOptions {
  /** What the lock file says the holder runs (default: this process's arguments). */
  command?: string;
  /**
   * While the lock is held, SIGINT and SIGTERM remove it and exit 130 / 143 (default). False
   * where the caller handles those signals itself; a `Deno.exit` still removes the lock.
   */
  exitOnSignal?: boolean;
  /** Where waiting and taking over are reported (default: stderr). */
  log?: (message: string) => void;
  /** How often a waiting process tries the lock again. */
  pollMs?: number;
  /** How often a waiting process says that it still waits. */
  remindMs?: number;
}

/**
 * Runs `fn` holding `<dir>/.claimcheck.lock`. The file records its holder (pid, host, command,
 * start time) and is held with an OS file lock, which ends with the holder's process: a lock
 * file left by a process that was killed is taken over at once, saying whose it was; one held by
 * a live process is waited for, saying by whom and since when. (The file lock needs no
 * permission beyond writing `dir`; probing the pid through /proc would need `--allow-all` in
 * Deno 2.9, and `kill -0` `--allow-run`.)
 */
export async function withLock<T>(
  dir: string,
  fn: () => Promise<T>,
  {
    command = Deno.args.join(" "),
    exitOnSignal = true,
    log = console.error,
    pollMs = 200,
    remindMs = 30_000,
  }: LockOptions = {},
): Promise<T> {
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, ".claimcheck.lock");
  const lock = await _acquire(file, { command, log, pollMs, remindMs });
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    // Removed before unlocking: a waiter that locks the removed file sees that and retries.
    try {
      Deno.removeSync(file);
    } catch { /* already gone */ }
    lock.close();
  };
  const signals = exitOnSignal
    ? ([["SIGINT", 130], ["SIGTERM", 143]] as const).map(([signal, code]) =>
      [signal, () => {
        release();
        Deno.exit(code);
      }] as const
    )
    : [];
  for (const [s, f] of signals) Deno.addSignalListener(s, f);
  globalThis.addEventListener("unload", release);
  try {
    return await fn();
  } finally {
    for (const [s, f] of signals) Deno.removeSignalListener(s, f);
    globalThis.removeEventListener("unload", release);
    release();
  }
}

/** Takes the lock file, waiting while a live process holds it; returns it open and locked. */
async function _acquire(
  file: string,
  { command, log, pollMs, remindMs }: Required<Omit<LockOptions, "exitOnSignal">>,
): Promise<Deno.FsFile> {
  let waitingFor: string | undefined, waitStart = 0, reminded = 0;
  for (;;) {
    const f = await Deno.open(file, { read: true, write: true, create: true });
    if (await f.tryLock(true)) {
      // The holder before may have removed the file between our open and lock: then what we
      // hold is no longer the lock file.
      const [mine, now] = [await f.stat(), await Deno.stat(file).catch(() => null)];
      if (now && now.ino === mine.ino && now.dev === mine.dev) {
        const left = _holder(await Deno.readTextFile(file));
        if (left) {
          log(
            `took over ${file}: left by ${_describe(left)}, which no longer holds it ` +
              "(the process ended without removing it)",
          );
        }
        const holder = { pid: Deno.pid, ..._hostname(), command, since: new Date().toISOString() };
        // Only a note for those who wait: a full disk must not stop the lock's holder.
        await _writeHolder(f, holder).catch(() => {});
        return f;
      }
    }
    f.close();
    const text = await Deno.readTextFile(file).catch(() => "");
    // Empty: the holder has just locked it and not yet written its name; ask again.
    if (text) {
      const holder = _holder(text);
      const who = holder ? _describe(holder) : "a process that did not record itself";
      const now = Date.now();
      if (who !== waitingFor) {
        log(`waiting for ${file}: held by ${who}`);
        waitingFor = who;
        waitStart = reminded = now;
      } else if (now - reminded >= remindMs) {
        log(`still waiting for ${file} (${Math.round((now - waitStart) / 1000)} s so far)`);
        reminded = now;
      }
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function _writeHolder(f: Deno.FsFile, holder: _Holder): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
  await f.truncate(0);
  await f.seek(0, Deno.SeekMode.Start);
  for (let at = 0; at < bytes.length;) at += await f.write(bytes.subarray(at));
}

/** The holder a lock file records; null for an empty or foreign one. */
function _holder(text: string): _Holder | null {
  try {
    const h = JSON.parse(text);
    return typeof h?.pid === "number" && typeof h.command === "string" &&
        typeof h.since === "string"
      ? h
      : null;
  } catch {
    return null;
  }
}

/** "pid 123 on host (report --out x) since 2026-…": who holds a lock, for a person. */
function _describe(h: _Holder): string {
  return `pid ${h.pid}${h.hostname ? ` on ${h.hostname}` : ""} (${h.command || "no arguments"}) ` +
    `since ${h.since}`;
}

/** `{ hostname }` where the task may read it (`--allow-sys=hostname`), else nothing. */
function _hostname(): { hostname?: string } {
  const allowed = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
  return allowed === "granted" ? { hostname: Deno.hostname() } : {};
}
