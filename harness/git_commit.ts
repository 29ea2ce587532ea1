import { PROJECT_ROOT } from "./paths.ts";

async function _git(...args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, cwd: PROJECT_ROOT, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // git missing: provenance says so with null
  }
}

/** The checkout's commit, suffixed "-dirty" when tracked files changed; null outside git. */
export async function gitCommit(): Promise<string | null> {
  const head = await _git("rev-parse", "HEAD");
  if (!head) return null;
  const status = await _git("status", "--porcelain", "--untracked-files=no");
  return status ? `${head}-dirty` : head;
}
