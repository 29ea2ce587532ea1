/**
 * `--vs-pytorch`: runs bench/reference.py with Debian's /usr/bin/python3 (package
 * python3-torch; the pyenv `python3` first on PATH has no torch) and compares.
 * @module
 */
import { fileURLToPath } from "node:url";
import { errorText } from "./cell.ts";
import { type Cell, type Pytorch, PytorchSchema, type Ratio } from "./schema.ts";

/** The interpreter that has Debian's torch; never the one on PATH. */
const _SYSTEM_PYTHON = "/usr/bin/python3";

const _SCRIPT = fileURLToPath(new URL("./reference.py", import.meta.url));

const _INSTALL = "apt-get install -y python3-torch libopenblas0-openmp";

async function _run(args: string[], stdout: "piped" | "null", env?: Record<string, string>) {
  return await new Deno.Command(_SYSTEM_PYTHON, {
    args,
    stdout,
    stderr: "piped",
    env: { PYTHONDONTWRITEBYTECODE: "1", ...env },
  }).output();
}

/** Whether `/usr/bin/python3 -c 'import torch'` works; the reason when it does not. */
async function _torchMissing(): Promise<string | null> {
  try {
    const out = await _run(["-c", "import torch"], "null");
    if (out.success) return null;
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    return `${_SYSTEM_PYTHON} cannot import torch (${err}); install it with: ${_INSTALL}`;
  } catch (e) {
    return `${_SYSTEM_PYTHON} did not run (${errorText(e)}); install it with: ${_INSTALL}`;
  }
}

export interface ReferenceOptions {
  models: string[];
  seconds: number;
  repeats: number;
  warmupSteps: number;
  seed: number;
  onProgress?: (line: string) => void;
}

/**
 * Runs the PyTorch reference (2 threads; progress lines forwarded, JSON on its stdout).
 * Never throws: a missing torch is "unavailable", a failing script an "error".
 */
export async function runPytorch(o: ReferenceOptions): Promise<Pytorch> {
  const missing = await _torchMissing();
  if (missing) return { status: "unavailable", reason: missing };
  try {
    const child = new Deno.Command(_SYSTEM_PYTHON, {
      args: [
        _SCRIPT,
        "--models",
        o.models.join(","),
        "--seconds",
        String(o.seconds),
        "--repeats",
        String(o.repeats),
        "--warmup-steps",
        String(o.warmupSteps),
        "--seed",
        String(o.seed),
      ],
      stdout: "piped",
      stderr: "piped",
      // torch.set_num_threads(2) in the script; OpenMP (OpenBLAS, oneDNN) told the same.
      env: { PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "2" },
    }).spawn();
    const forward = (async () => {
      const tail: string[] = [];
      let buffered = "";
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        buffered += decoder.decode(chunk, { stream: true });
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          o.onProgress?.(line);
          tail.push(line);
          if (tail.length > 20) tail.shift();
        }
      }
      if (buffered) tail.push(buffered);
      return tail;
    })();
    const stdout = new Response(child.stdout).text();
    const [status, out, tail] = await Promise.all([child.status, stdout, forward]);
    if (!status.success) {
      const last = tail.filter((l) => l.trim()).at(-1) ?? `exit code ${status.code}`;
      return { status: "error", reason: `bench/reference.py failed: ${last}` };
    }
    const parsed = PytorchSchema.safeParse(JSON.parse(out));
    if (!parsed.success) {
      return {
        status: "error",
        reason: `bench/reference.py printed unexpected JSON: ${parsed.error.message}`,
      };
    }
    return parsed.data;
  } catch (e) {
    return { status: "error", reason: `bench/reference.py: ${errorText(e)}` };
  }
}

/** tfjs (its best backend for the model, by training-step samples/s) ÷ PyTorch, per model. */
export function trainingRatios(cells: Cell[], pytorch: Pytorch | null): Ratio[] {
  if (pytorch?.status !== "ok") return [];
  const ratios: Ratio[] = [];
  for (const ref of pytorch.models) {
    if (ref.train.status !== "ok") continue;
    let best: { cell: Cell; sps: number } | null = null;
    for (const cell of cells) {
      if (cell.model !== ref.model || cell.train.status !== "ok") continue;
      if (!best || cell.train.samplesPerSecond > best.sps) {
        best = { cell, sps: cell.train.samplesPerSecond };
      }
    }
    if (!best) continue;
    ratios.push({
      model: ref.model,
      tfjsBackend: best.cell.backend,
      tfjsSamplesPerSecond: best.sps,
      pytorchSamplesPerSecond: ref.train.samplesPerSecond,
      ratio: best.sps / ref.train.samplesPerSecond,
    });
  }
  return ratios;
}
