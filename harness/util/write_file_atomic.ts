import { dirname } from "node:path";

/** Writes a file via a temp file in the same folder and a rename, so readers never see half. */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = await Deno.makeTempFile({ dir, prefix: ".tmp-" });
  try {
    if (typeof content === "string") await Deno.writeTextFile(tmp, content);
    else await Deno.writeFile(tmp, content);
    // Temp files are created private (0600); results and pages are for everyone to read.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
