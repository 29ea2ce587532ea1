/**
 * The CPU the bench ran on: its model from /proc/cpuinfo, and its logical cores from
 * navigator.hardwareConcurrency.
 * @module
 */
import os from "node:os";
import type { Cpu } from "./schema.ts";

const _CPUINFO = "/proc/cpuinfo";

/** The first value of each `key : value` line (the first processor's, on a multi-core machine). */
function _fields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim(), value = line.slice(colon + 1).trim();
    if (key && value && !fields.has(key)) fields.set(key, value.replace(/\s+/g, " "));
  }
  return fields;
}

/**
 * The CPU model named by /proc/cpuinfo's text: its "model name" (x86, 32-bit ARM); else, as
 * some virtual machines leave the name out, the vendor with family and model numbers; else an
 * ARM64 kernel's implementer and part numbers. Null when the text has none of them.
 */
export function parseCpuinfo(text: string): Pick<Cpu, "model" | "source"> | null {
  const f = _fields(text);
  const name = f.get("model name");
  if (name) return { model: name, source: `${_CPUINFO} "model name"` };
  const vendor = f.get("vendor_id"), family = f.get("cpu family");
  if (vendor && family) {
    const model = f.get("model");
    return {
      model: `${vendor} family ${family}${model ? ` model ${model}` : ""}`,
      source: `${_CPUINFO} "vendor_id", "cpu family" and "model" (no "model name")`,
    };
  }
  const implementer = f.get("CPU implementer"), part = f.get("CPU part");
  if (implementer && part) {
    return {
      model: `ARM implementer ${implementer} part ${part}`,
      source: `${_CPUINFO} "CPU implementer" and "CPU part" (no "model name")`,
    };
  }
  return null;
}

/** Where {@link cpuInfo} reads from; tests pass fakes. */
export interface CpuSources {
  /** Reads a file's text (Deno.readTextFile). */
  readTextFile(path: string): Promise<string>;
  /** Node's os.cpus(): on Linux, Deno fills `model` from /proc/cpuinfo's "model name" lines. */
  cpus(): { model: string }[];
}

const _SOURCES: CpuSources = { readTextFile: Deno.readTextFile, cpus: os.cpus };

/**
 * This machine's CPU. /proc/cpuinfo read and parsed where Deno may read it (Deno 1.43 and later
 * let only --allow-all read /proc); else os.cpus()'s model, which the bench task's
 * `--allow-sys=cpus` permits (Deno reads the file's "model name" itself, so a machine without
 * one gets no model there); "unknown", with both reasons, when neither names it.
 */
export async function cpuInfo(sources: CpuSources = _SOURCES): Promise<Cpu> {
  const cores = navigator.hardwareConcurrency;
  let why: string;
  try {
    const text = await sources.readTextFile(_CPUINFO);
    const parsed = parseCpuinfo(text);
    if (parsed) return { ...parsed, cores };
    why = `${_CPUINFO} names no model, vendor or ARM implementer`;
  } catch (e) {
    why = `${_CPUINFO} not read: ${(e as Error).message}`;
  }
  let model: string | undefined;
  try {
    model = sources.cpus()[0]?.model.trim();
    if (model) return { model, source: `node:os cpus(), from ${_CPUINFO} "model name"`, cores };
    why += "; os.cpus() names no model";
  } catch (e) {
    why += `; os.cpus() failed: ${(e as Error).message}`;
  }
  return { model: "unknown", source: why, cores };
}
