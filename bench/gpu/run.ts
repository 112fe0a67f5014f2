/**
 * The GPU pack's benchmark (bundled into one file by `bench/gpu/pack.ts`), on the slices in
 * `slices.bin` (features, targets and coordinates prepared where the data is), on the backend
 * asked for. Prints one JSON object.
 *
 * - `--mode folds` (default): SpaHGC with the library's defaults, leave-one-section-out: the
 *   backend and the adapter it ran on, seconds per epoch, per-fold PCC and the wall time.
 * - `--mode epoch`: the CPU bench's epoch (`bench/train_epoch.ts`; `epoch_graphs.ts`): the first
 *   of `--folds` held out, the other slices each a target against a bank of the rest, one
 *   optimiser step per graph; the median and fastest of `--epochs` timed epochs after one warm-up
 *   step. `--graphs-out DIR` also writes those graphs for `authors_epoch.py`, so the authors'
 *   model times an epoch over the same graphs (`--epochs 0` writes them and times nothing).
 *
 * Usage: deno run -A run.js --data slices.bin [--mode folds|epoch] [--backend webgpu]
 *        [--epochs 200] [--folds B4,C2] [--graphs-out DIR]
 */
import { parseArgs } from "node:util";
import { deviceDescription, tf, useBackend } from "../../lib/model/backend.ts";
import {
  SPAHGC_DEFAULT_PRESET,
  SPAHGC_PRESETS,
  spahgcMethod,
} from "../../lib/model/spahgc_method.ts";
import { graphTensors, SpaHGCTrainer } from "../../lib/model/spahgc.ts";
import type { PreparedSlice } from "../../lib/model/method.ts";
import { sliceMetrics } from "../../lib/eval/metrics.ts";
import { readPackedSlices } from "./slices.ts";
import { epochGraphs, writeGraphs } from "./epoch_graphs.ts";
import { toGraphSlice } from "../../lib/graph/hetero.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "slices.bin" },
    mode: { type: "string", default: "folds" },
    backend: { type: "string", default: "webgpu" },
    epochs: { type: "string" },
    folds: { type: "string" },
    selection: { type: "string", default: "validation" },
    "graphs-out": { type: "string" },
  },
});

const slices: PreparedSlice[] = readPackedSlices(Deno.readFileSync(values.data));
const G = slices[0].y.length / slices[0].n, dim = slices[0].x.length / slices[0].n;
const tests = values.folds?.split(",") ?? slices.map((s) => s.name);
if (values.mode === "epoch") {
  await epochMode();
  Deno.exit(0);
}
if (values.mode !== "folds") throw new Error(`--mode ${values.mode}: expected folds or epoch`);
const t0 = performance.now();
const folds = [];
let secondsPerEpoch = 0, backend = "", device = "";
for (const test of tests) {
  const t = slices.find((s) => s.name === test);
  if (!t) throw new Error(`no slice ${test} in ${values.data}`);
  const tf0 = performance.now();
  const method = spahgcMethod({
    epochs: Number(values.epochs ?? 200),
    backend: values.backend as "webgpu",
    selection: values.selection as "validation",
    progress: () => {},
  });
  const p = await method.fit(slices.filter((s) => s !== t), dim, G);
  const pred = await p.predict(t);
  p.dispose?.();
  const sel = p.selection as { backend: string; device: string; secondsPerEpoch: number };
  backend = sel.backend;
  device = sel.device;
  secondsPerEpoch += sel.secondsPerEpoch / tests.length;
  folds.push({
    test,
    pcc: sliceMetrics(pred, t.y, t.n, G).pcc,
    seconds: (performance.now() - tf0) / 1000,
  });
}
console.log(JSON.stringify({
  backend,
  device: device || deviceDescription(),
  epochs: Number(values.epochs ?? 200),
  genes: G,
  dim,
  secondsPerEpoch,
  folds,
  meanPcc: folds.reduce((a, f) => a + f.pcc, 0) / folds.length,
  wallSeconds: (performance.now() - t0) / 1000,
}));

/** One epoch over the bench's graphs, timed; the graphs written for the authors' side if asked. */
async function epochMode() {
  const preset = SPAHGC_PRESETS[SPAHGC_DEFAULT_PRESET];
  const test = tests[0];
  if (!slices.some((s) => s.name === test)) throw new Error(`no slice ${test} in ${values.data}`);
  const built = epochGraphs(
    slices.map((s) => toGraphSlice(s.slice, s.x, s.y)),
    test,
    preset.graph,
  );
  if (values["graphs-out"]) writeGraphs(values["graphs-out"], built);
  const epochs = Number(values.epochs ?? 10);
  const times: number[] = [];
  let backend = "";
  if (epochs > 0) {
    backend = await useBackend(values.backend as "webgpu");
    const graphs = built.map(({ graph, y }) => ({
      t: graphTensors(graph),
      y: tf.keep(tf.tensor2d(y, [graph.target.n, G])),
    }));
    const trainer = new SpaHGCTrainer({ ...preset.config, dim, genes: G });
    await trainer.trainStep(graphs[0].t, graphs[0].y); // warm-up: shader compilation, allocation
    for (let e = 0; e < epochs; e++) {
      const t0 = performance.now();
      for (const g of graphs) await trainer.trainStep(g.t, g.y);
      times.push((performance.now() - t0) / 1000);
    }
    trainer.dispose();
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    mode: "epoch",
    backend,
    device: backend ? deviceDescription() : null,
    preset: SPAHGC_DEFAULT_PRESET,
    test,
    graphs: built.map(({ graph }) => ({
      target: graph.target.slice,
      targets: graph.target.n,
      references: graph.reference.n,
    })),
    genes: G,
    dim,
    epochsTimed: epochs,
    secondsPerEpoch: times.length ? times[Math.floor(times.length / 2)] : null,
    fastestEpochSeconds: times[0] ?? null,
    graphsOut: values["graphs-out"] ?? null,
  }));
}
