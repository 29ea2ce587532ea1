import { join } from "node:path";

/**
 * Runs `fn` holding a lock file in `dir` (created exclusively, removed after), so that two
 * processes writing the same reports folder take turns instead of losing each other's runs.
 * A lock older than `staleMs` was left by a process that died and is taken over.
 */
export async function withLock<T>(
  dir: string,
  fn: () => Promise<T>,
  { staleMs = 10 * 60_000, pollMs = 100 } = {},
): Promise<T> {
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, ".claimcheck.lock");
  for (;;) {
    try {
      const f = await Deno.open(file, { write: true, createNew: true });
      await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
      f.close();
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const age = await Deno.stat(file).then(
        (s) => Date.now() - (s.mtime?.getTime() ?? 0),
        () => 0,
      );
      if (age > staleMs) await Deno.remove(file).catch(() => {});
      else await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}
