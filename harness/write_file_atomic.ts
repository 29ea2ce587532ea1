import { dirname } from "node:path";

/** Writes a file via a temp file in the same folder and a rename, so readers never see half. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = await Deno.makeTempFile({ dir, prefix: ".tmp-" });
  try {
    await Deno.writeTextFile(tmp, content);
    // Temp files are created private (0600); results and pages are for everyone to read.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
