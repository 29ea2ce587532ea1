import { setupBackend } from "./harness/backend/backend.ts";
import { loadReplication } from "./harness/replications.ts";
import { replicate } from "./harness/train/replicate.ts";
import { renderReplicationPage } from "./harness/report/report.ts";
const backend = await setupBackend("wasm");
const rep = await loadReplication("medium-autoencoder");
const t0 = performance.now();
const r = await replicate(rep, {
  seeds: [1],
  epochs: 1,
  trainLimit: 3000,
  backend,
  command: "smoke",
  protocols: ["arithmetic", "digit-probe"],
  data: { dataDir: "/work/shared/data" },
  onProgress: (p) => p.eval && console.log(p.protocol, p.epoch, p.eval),
});
console.log("seconds", (performance.now() - t0) / 1000);
for (const run of r.runs) {
  console.log(
    run.protocol,
    run.epochs.at(-1)!.metrics,
    run.earlyStop,
    Object.keys(run.artifacts ?? {}),
  );
}
for (const c of r.claims) console.log(c.id, c.values, c.verdict);
const html = await renderReplicationPage(r, rep.spec, { charts: () => rep.module.charts!(r) });
await Deno.writeTextFile("/tmp/ma-smoke.html", html);
