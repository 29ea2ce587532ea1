/**
 * `--vs-pytorch`: bench/reference.py, run with Debian's /usr/bin/python3 (package
 * python3-torch; the pyenv `python3` first on PATH has no torch), as a process that sets up
 * and times one model at a time on request, so that its repeats take turns with tfjs'.
 * @module
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { errorText } from "./error_text.ts";
import type { Timed } from "./interleaved.ts";
import type { MachineJob } from "./whole_machine.ts";
import { type PytorchInfo, PytorchInfoSchema, type Repeat, RepeatSchema } from "./schema.ts";

/** The interpreter that has Debian's torch; never the one on PATH. */
const _SYSTEM_PYTHON = "/usr/bin/python3";

const _SCRIPT = fileURLToPath(new URL("./reference.py", import.meta.url));

const _INSTALL = "apt-get install -y python3-torch libopenblas0-openmp";

/** Whether `/usr/bin/python3 -c 'import torch'` works; the reason when it does not. */
export async function torchMissing(): Promise<string | null> {
  try {
    const out = await new Deno.Command(_SYSTEM_PYTHON, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "piped",
      env: { PYTHONDONTWRITEBYTECODE: "1" },
    }).output();
    if (out.success) return null;
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    return `${_SYSTEM_PYTHON} cannot import torch (${err}); install it with: ${_INSTALL}`;
  } catch (e) {
    return `${_SYSTEM_PYTHON} did not run (${errorText(e)}); install it with: ${_INSTALL}`;
  }
}

/** reference.py's reply to "repeat": a repeat, and when each step ended (time.monotonic()). */
const _TracedRepeatSchema = RepeatSchema.extend({
  start: z.number(),
  marks: z.array(z.tuple([z.number(), z.number()])),
});

const _PreparedSchema = z.object({
  id: z.number().int(),
  params: z.number().int(),
  batchSize: z.number().int().positive(),
});

/** One model set up in a reference process: its size, and its steps to time. */
export interface PreparedModel {
  params: number;
  batchSize: number;
  /** Timed in this process (interleaved with a tfjs cell). */
  timed: Timed<Repeat>;
  /** One job of the whole-machine row. */
  job: MachineJob;
}

/**
 * A running bench/reference.py with `threads` torch threads: one JSON request a line on its
 * stdin, one JSON reply a line on its stdout, in order; its stderr forwarded as progress.
 */
export class ReferenceProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: ReadableStreamDefaultReader<string>;
  #buffered = "";
  /** The last lines of stderr, for an error message when the process dies. */
  readonly #tail: string[] = [];
  readonly #stderrDone: Promise<void>;
  /** Requests go one after the other. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Starts reference.py; `seconds` and `warmupSteps` time every repeat and warm-up it runs. */
  constructor(
    threads: number,
    timing: { seconds: number; warmupSteps: number },
    onProgress: (line: string) => void = () => {},
  ) {
    this.#child = new Deno.Command(_SYSTEM_PYTHON, {
      args: [
        _SCRIPT,
        "--threads",
        String(threads),
        "--seconds",
        String(timing.seconds),
        "--warmup-steps",
        String(timing.warmupSteps),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // torch.set_num_threads in the script; OpenMP (OpenBLAS, oneDNN) told the same.
      env: { PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: String(threads) },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdout = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = this.#child.stderr.pipeThrough(new TextDecoderStream());
    this.#stderrDone = (async () => {
      let buffered = "";
      for await (const chunk of stderr) {
        const lines = (buffered + chunk).split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          onProgress(line);
          this.#tail.push(line);
          if (this.#tail.length > 20) this.#tail.shift();
        }
      }
      if (buffered) this.#tail.push(buffered);
    })();
  }

  async #line(): Promise<string> {
    for (;;) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#stdout.read();
      if (done) {
        const status = await this.#child.status;
        await this.#stderrDone;
        const last = this.#tail.filter((l) => l.trim()).at(-1) ?? `exit code ${status.code}`;
        throw new Error(`bench/reference.py ended: ${last}`);
      }
      this.#buffered += value;
    }
  }

  /** Sends one request; its reply, or throws the error reference.py replied with. */
  request(op: Record<string, unknown>): Promise<unknown> {
    const reply = this.#queue.then(async () => {
      await this.#stdin.write(new TextEncoder().encode(JSON.stringify(op) + "\n"));
      const r = JSON.parse(await this.#line());
      if (r.error) throw new Error(r.error);
      return r;
    });
    this.#queue = reply.catch(() => {});
    return reply;
  }

  /** Its Python, torch, threads and BLAS. */
  async info(): Promise<PytorchInfo> {
    return PytorchInfoSchema.parse(await this.request({ op: "info" }));
  }

  /** Builds `model` for training or inference, weights and batches seeded from `seed`. */
  async prepare(model: string, what: "train" | "inference", seed: number): Promise<PreparedModel> {
    const { id, params, batchSize } = _PreparedSchema.parse(
      await this.request({ op: "prepare", model, what, seed }),
    );
    const warmup = async () =>
      z.object({ steps: z.number().int().positive() })
        .parse(await this.request({ op: "warmup", id })).steps;
    const traced = async () => _TracedRepeatSchema.parse(await this.request({ op: "repeat", id }));
    return {
      params,
      batchSize,
      timed: {
        warmup,
        async repeat() {
          const { start: _start, marks: _marks, ...repeat } = await traced();
          return repeat;
        },
      },
      job: {
        warmup,
        async repeat() {
          const { start, marks } = await traced();
          return { start, marks };
        },
      },
    };
  }

  /** Ends the process (its stdin closed, it exits) and waits for it. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#stdin.close().catch(() => {});
    await this.#child.status;
    await this.#stdout.cancel();
    await this.#stderrDone;
  }
}
