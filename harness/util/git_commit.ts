import { PROJECT_ROOT } from "./paths.ts";

/** The checkout's commit, or why it is unknown. */
export interface GitCommit {
  /** The commit, suffixed "-dirty" when tracked files changed; null when unknown. */
  commit: string | null;
  /** Why the commit is unknown (outside a checkout, git missing or not permitted). */
  error?: string;
}

async function _git(...args: string[]): Promise<{ out: string } | { error: string }> {
  try {
    const r = await new Deno.Command("git", { args, cwd: PROJECT_ROOT }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return r.success
      ? { out: text(r.stdout) }
      : { error: `git ${args[0]} failed: ${text(r.stderr) || `exit ${r.code}`}` };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { error: "git is not installed" };
    return { error: `cannot run git: ${(e as Error).message}` };
  }
}

/** The checkout's commit (with "-dirty" for changed tracked files), or why it is unknown. */
export async function gitCommit(): Promise<GitCommit> {
  const head = await _git("rev-parse", "HEAD");
  if ("error" in head) return { commit: null, error: head.error };
  const status = await _git("status", "--porcelain", "--untracked-files=no");
  if ("error" in status) return { commit: head.out, error: status.error };
  return { commit: status.out ? `${head.out}-dirty` : head.out };
}
