/**
 * reports/bench/index.html: one standalone page (inline CSS and SVG, no script, no URL) with
 * the bench's table, a bar chart of samples/s and the machine it ran on.
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { escapeHtml as _e } from "../harness/util/escape_html.ts";
import { renderSvg } from "../harness/report/chart.ts";
import type {
  Bench,
  Cell,
  MachineMeasurement,
  Measurement,
  Ratio,
  Spread,
  WholeMachine,
} from "./schema.ts";

const _CSS = `
body{margin:0;background:#fafafa;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:26px;margin:4px 0 12px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
.kicker{margin:0;color:#57606a;font-size:13px;text-transform:uppercase;letter-spacing:.06em}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
code.id{white-space:nowrap;overflow-wrap:normal}
ol.notes{font-size:13px;color:#57606a;margin:8px 0 0;padding-left:22px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #e5e7eb;padding:7px 6px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.sub{display:block;font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.err{color:#cf222e;font-size:12.5px;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:11px;font-size:12px;font-weight:600;color:#fff;background:#9a6700;white-space:nowrap}
figure{margin:0}
figure svg{max-width:100%;height:auto}
figcaption,.note{font-size:13px;color:#57606a;margin-top:6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0;font-size:14px}
dt{font-weight:600}dd{margin:0}
`;

/** "1 thread", "2 threads". */
export function threadsLabel(threads: number): string {
  return `${threads} thread${threads === 1 ? "" : "s"}`;
}

/** How a tfjs backend is named in the chart and the tables: with its threads where known. */
export function runnerLabel(cell: Pick<Cell, "backend" | "softwareAdapter" | "threads">): string {
  if (cell.backend === "webgpu" && cell.softwareAdapter) return "webgpu (software adapter)";
  return cell.threads === null ? cell.backend : `${cell.backend}, ${threadsLabel(cell.threads)}`;
}

/** Samples/s with sensible precision: 3 significant digits below 1000, whole numbers above. */
export function formatRate(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(3);
}

/** Repeats further apart than this (max ÷ min) make a figure "unstable". */
export const UNSTABLE_SPREAD = 1.25;

/** "median [min–max]" of samples/s. */
export function formatSpread(s: Spread): string {
  return `${formatRate(s.median)} [${formatRate(s.min)}–${formatRate(s.max)}]`;
}

/** "min–max" of the repeats when they are too far apart to trust the median; else null. */
export function unstable(m: Measurement | MachineMeasurement): string | null {
  if (m.status !== "ok") return null;
  const { min, max } = m.samplesPerSecond;
  return max / min > UNSTABLE_SPREAD ? `${formatRate(min)}–${formatRate(max)} samples/s` : null;
}

interface _Bar {
  model: string;
  runner: string;
  measure: string;
  samplesPerSecond: number;
}

const _MEASURES = ["train (step)", "train (fit)", "inference"];

function _bars(bench: Bench): _Bar[] {
  const bars: _Bar[] = [];
  const push = (model: string, runner: string, measure: string, m: Measurement) => {
    if (m.status === "ok") {
      bars.push({ model, runner, measure, samplesPerSecond: m.samplesPerSecond.median });
    }
  };
  for (const c of bench.cells) {
    push(c.model, runnerLabel(c), "train (step)", c.train);
    push(c.model, runnerLabel(c), "train (fit)", c.fit);
    push(c.model, runnerLabel(c), "inference", c.inference);
  }
  const p = bench.pytorch;
  if (p?.status === "ok") {
    for (const m of p.models) {
      push(m.model, `PyTorch, ${threadsLabel(p.threads)}`, "train (step)", m.train);
      push(m.model, `PyTorch, ${threadsLabel(p.threads)}`, "inference", m.inference);
    }
  }
  return bars;
}

/** Samples/s per model, grouped by backend (PyTorch included), one panel per measure. */
function _benchChartSpec(bench: Bench): TopLevelSpec {
  const runners = [...new Set(_bars(bench).map((b) => b.runner))];
  return {
    data: { values: _bars(bench) },
    mark: { type: "bar", tooltip: true },
    width: 300,
    height: 280,
    encoding: {
      column: {
        field: "measure",
        type: "nominal",
        title: null,
        sort: _MEASURES,
        header: { labelFontSize: 14 },
      },
      x: {
        field: "model",
        type: "nominal",
        title: null,
        sort: bench.models.map((m) => m.name),
        axis: { labelAngle: 0, labelFontSize: 11 },
      },
      xOffset: { field: "runner", type: "nominal", sort: runners },
      y: {
        field: "samplesPerSecond",
        type: "quantitative",
        title: "samples/s (log scale)",
        scale: { type: "log" },
        stack: null,
      },
      color: { field: "runner", type: "nominal", title: "runner", sort: runners },
    },
  } as TopLevelSpec;
}

/** Why measurements are missing, numbered in the order the tables mention them. */
class _Notes {
  readonly items: string[] = [];
  /** The note's number (shared by equal texts). */
  ref(text: string): number {
    const i = this.items.indexOf(text);
    return i >= 0 ? i + 1 : this.items.push(text);
  }
  html(): string {
    if (!this.items.length) return "";
    return `<ol class="notes">${this.items.map((t) => `<li>${_e(t)}</li>`).join("")}</ol>`;
  }
}

function _cellRate(
  m: Measurement | MachineMeasurement,
  notes: _Notes,
  where: string,
  warmup = false,
): string {
  if (m.status === "error") {
    const n = notes.ref(`${where}: error: ${m.error}`);
    return `<span class="err">error<sup>${n}</sup></span>`;
  }
  if (m.status === "skipped") {
    const n = notes.ref(`${where}: skipped, ${m.reason}`);
    const est = m.estimatedSamplesPerSecond === null
      ? ""
      : `<span class="sub">≈ ${_e(formatRate(m.estimatedSamplesPerSecond))} (probe)</span>`;
    return `skipped<sup>${n}</sup>${est}`;
  }
  const { min, median, max } = m.samplesPerSecond;
  const repeats = m.repeats.map((r) => formatRate(r.samplesPerSecond)).join(", ");
  const shaky = unstable(m) ? ` <span class="badge">unstable</span>` : "";
  return `${_e(formatRate(median))}${shaky}` +
    `<span class="sub">min ${_e(formatRate(min))}, max ${_e(formatRate(max))}</span>` +
    `<span class="sub">repeats ${_e(repeats)}</span>` +
    (warmup ? `<span class="sub">warm-up ${_e(m.warmupSeconds.toFixed(2))} s</span>` : "");
}

function _runnerCell(c: Cell): string {
  const badge = c.softwareAdapter ? ` <span class="badge">software adapter</span>` : "";
  const adapter = c.adapter ? `<span class="sub">${_e(c.adapter)}</span>` : "";
  const threads = c.threads === null ? "" : `<span class="sub">${threadsLabel(c.threads)}</span>`;
  return `${_e(c.backend)}${badge}${threads}${adapter}`;
}

function _mainTable(bench: Bench): string {
  const notes = new _Notes();
  const rows = bench.cells.map((c) => {
    const where = (what: string) => `${c.model} on ${runnerLabel(c)}, ${what}`;
    return `<tr><td><code class="id">${_e(c.model)}</code><span class="sub">batch ` +
      `${c.batchSize}` +
      `${c.params === null ? "" : `, ${_e(c.params.toLocaleString("en-US"))} params`}</span></td>` +
      `<td>${_runnerCell(c)}</td>` +
      `<td class="num">${_cellRate(c.train, notes, where("train (step)"), true)}</td>` +
      `<td class="num">${_cellRate(c.fit, notes, where("train (fit)"), true)}</td>` +
      `<td class="num">${c.fitVsStep === null ? "—" : _e(c.fitVsStep.toFixed(2))}</td>` +
      `<td class="num">${_cellRate(c.inference, notes, where("inference"), true)}</td>` +
      `<td class="num">${c.loadAverage === null ? "—" : _e(c.loadAverage.toFixed(2))}</td></tr>`;
  }).join("\n");
  return `<div class="scroll"><table>
<thead><tr><th>model</th><th>backend</th><th class="num">train (step) samples/s</th>
<th class="num">train (fit) samples/s</th><th class="num">fit ÷ step</th>
<th class="num">inference samples/s</th><th class="num">load avg</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${notes.html()}`;
}

/** Ratio rows: the medians, their ratio, and the min–max of the rounds' ratios. */
function _ratioRows(ratios: Ratio[]): string {
  return ratios.map((r) =>
    `<tr><td><code>${_e(r.model)}</code></td><td>${_e(r.tfjs)}</td><td>${_e(r.pytorch)}</td>` +
    `<td class="num">${_e(formatRate(r.tfjsSamplesPerSecond))}</td>` +
    `<td class="num">${_e(formatRate(r.pytorchSamplesPerSecond))}</td>` +
    `<td class="num">${_e(r.ratio.toFixed(3))}<span class="sub">rounds ` +
    `${_e(r.pairs.min.toFixed(3))}–${
      _e(r.pairs.max.toFixed(3))
    } (${r.pairs.count})</span></td></tr>`
  ).join("\n");
}

function _pytorchSection(bench: Bench): string {
  const p = bench.pytorch;
  if (p === null) return "";
  if (p.status !== "ok") {
    return `<h2>PyTorch reference</h2><p>${_e(p.status)}: ${_e(p.reason)}. No ratio computed.</p>`;
  }
  const notes = new _Notes();
  const rows = p.models.map((m) =>
    `<tr><td><code class="id">${_e(m.model)}</code><span class="sub">batch ${m.batchSize}` +
    `${m.params === null ? "" : `, ${_e(m.params.toLocaleString("en-US"))} params`}</span></td>` +
    `<td class="num">${_cellRate(m.train, notes, `${m.model} on PyTorch, train`, true)}</td>` +
    `<td class="num">${_cellRate(m.inference, notes, `${m.model} on PyTorch, inference`, true)}` +
    `</td></tr>`
  ).join("\n");
  return `<h2>PyTorch reference</h2>
<p>torch ${_e(p.torch)} (Python ${_e(p.python)}), ${threadsLabel(p.threads)}, timed in turns with
the wasm cells: each round runs one repeat of the training step, of <code>fit</code> and of PyTorch's
training (then the same for inference), so a slower spell of the machine hits both sides.
BLAS: <code>${_e(p.blas.summary)}</code></p>
<div class="scroll"><table>
<thead><tr><th>model</th><th class="num">train samples/s</th><th class="num">inference samples/s</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${notes.html()}
<h2>tfjs ÷ PyTorch, training</h2>
<p class="note">The ratio of the medians; under it the lowest and highest of the rounds' ratios
(round i: tfjs repeat i ÷ PyTorch repeat i, measured back to back) and how many rounds.</p>
<div class="scroll"><table>
<thead><tr><th>model</th><th>tfjs</th><th>PyTorch</th><th class="num">tfjs samples/s</th>
<th class="num">PyTorch samples/s</th><th class="num">ratio</th></tr></thead>
<tbody>
${_ratioRows(bench.ratios) || `<tr><td colspan="6">no model measured on both</td></tr>`}
</tbody></table></div>`;
}

function _wholeMachineSection(w: WholeMachine | null): string {
  if (w === null) return "";
  const notes = new _Notes();
  const tfjs = `${w.jobs} jobs × wasm, ${threadsLabel(w.threadsPerJob)}`;
  const pytorch = `${w.jobs} processes × ${threadsLabel(w.threadsPerJob)}`;
  const rows = w.rows.map((r) =>
    `<tr><td><code class="id">${_e(r.model)}</code><span class="sub">batch ${r.batchSize}` +
    `</span></td>` +
    `<td class="num">${_cellRate(r.tfjs, notes, `${r.model}, whole machine, tfjs`, true)}</td>` +
    `<td class="num">${
      r.pytorch ? _cellRate(r.pytorch, notes, `${r.model}, whole machine, PyTorch`, true) : "—"
    }</td>` +
    `<td class="num">${
      r.ratio
        ? `${_e(r.ratio.ratio.toFixed(3))}<span class="sub">rounds ${
          _e(r.ratio.pairs.min.toFixed(3))
        }–${_e(r.ratio.pairs.max.toFixed(3))}</span>`
        : "—"
    }</td></tr>`
  ).join("\n");
  return `<h2>Whole machine</h2>
<p>Multi-seed replication trains several seeds at once: here ${w.jobs} jobs (one a logical core)
each train the same model on their own batches (weights and batches seeded apart), tfjs as
${_e(tfjs)} (a Deno worker each, like the runner's <code>--jobs</code>)${
    w.pytorchNote ? "" : `, PyTorch as ${_e(pytorch)}, the two sides in turns round by round`
  }. A repeat's samples/s is what all jobs trained together over the interval all of them were
training (the latest start to the earliest end; a step across an edge counted in part).</p>
${w.pytorchNote ? `<p class="note">PyTorch not run: ${_e(w.pytorchNote)}.</p>` : ""}
<div class="scroll"><table>
<thead><tr><th>model</th><th class="num">tfjs samples/s<span class="sub">${_e(tfjs)}</span></th>
<th class="num">PyTorch samples/s<span class="sub">${_e(pytorch)}</span></th>
<th class="num">tfjs ÷ PyTorch</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${notes.html()}`;
}

function _machine(bench: Bench): string {
  const m = bench.machine, s = bench.settings;
  const load = (l: number[] | null) =>
    l === null ? "unknown" : l.map((x) => x.toFixed(2)).join(" ");
  const backends = bench.backends.map((b) =>
    `<li><code>${_e(b.name)}</code>: ${b.available ? "ran" : "not run"}` +
    `${b.adapter ? ` on ${_e(b.adapter)}` : ""}${b.softwareAdapter ? " (software adapter)" : ""}` +
    `${b.note ? ` — ${_e(b.note)}` : ""}</li>`
  ).join("");
  const models = bench.models.map((x) =>
    `<li><code>${_e(x.name)}</code>: ${_e(x.description)}; ${_e(x.optimizer)}, ${_e(x.loss)}, ` +
    `batch ${x.batchSize}</li>`
  ).join("");
  return `<dl>
<dt>when</dt><dd>${_e(bench.timestamp)}</dd>
<dt>commit</dt><dd><code>${_e(bench.commit ?? "unknown (not a git checkout)")}</code></dd>
<dt>Deno</dt><dd>${_e(m.deno)} (V8 ${_e(m.v8)}, TypeScript ${_e(m.typescript)})</dd>
<dt>OS</dt><dd>${_e(m.os)} ${_e(m.arch)}${m.osRelease ? ` ${_e(m.osRelease)}` : ""}</dd>
<dt>CPU</dt><dd>${_e(m.cpu.model)}, ${m.cpu.cores} logical cores <span class="sub">${
    _e(m.cpu.source)
  }; cores: navigator.hardwareConcurrency</span></dd>
<dt>load average</dt><dd>start ${_e(load(m.loadAverageStart))}; end ${
    _e(load(m.loadAverageEnd))
  }</dd>
<dt>timing</dt><dd>${s.warmupSteps} warm-up steps (timed apart), then ${s.repeats} repeats of at
least 2 steps stopped after about ${_e(s.seconds)} s, taken in turns; median, min and max
reported. Measurements whose step probe steps of batch 1 and 2 put over ${
    _e(s.maxStepSeconds)
  } s are skipped.</dd>
<dt>backends</dt><dd><ul>${backends}</ul></dd>
<dt>models</dt><dd><ul>${models}</ul></dd>
</dl>`;
}

/** The whole page as a string. */
export async function renderBenchPage(bench: Bench): Promise<string> {
  const bars = _bars(bench);
  const chart = bars.length
    ? `<figure>${await renderSvg(_benchChartSpec(bench))}
<figcaption>Median samples/s per model, grouped by runner (log scale)${
      bench.cells.some((c) => c.softwareAdapter)
        ? "; the WebGPU adapter is a software one, running on the CPU"
        : ""
    }.</figcaption></figure>`
    : `<p>Nothing was measured.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>claimcheck bench</title>
<style>${_CSS}</style>
</head>
<body><main>
<p class="kicker">claimcheck · bench</p>
<h1>Training and inference speed</h1>
<p>Samples per second of three models on each tfjs backend: the runner's training step
(<code>makeTrainStep</code>), <code>model.fit</code> on the same batches, and
<code>model.predict</code>. Random inputs in [0, 1] and random targets: speed, not accuracy.
Other processes on the machine lower these figures; the load average column shows how busy it
was when each cell started.</p>
<p><strong>${_e(bench.machine.cpu.model)}</strong>, ${bench.machine.cpu.cores} logical cores;
each figure the median of ${bench.settings.repeats} repeats, with their min and max.</p>
${chart}
<h2>Results</h2>
<p class="note">"unstable": the repeats lie more than ${
    Math.round((UNSTABLE_SPREAD - 1) * 100)
  } % apart, so the median is not to be trusted (usually other load on the machine).</p>
${_mainTable(bench)}
${_pytorchSection(bench)}
${_wholeMachineSection(bench.wholeMachine)}
<h2>Machine and settings</h2>
${_machine(bench)}
</main></body>
</html>
`;
}
