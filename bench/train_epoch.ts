/**
 * Child process of the benchmark: one SpaHGC training epoch on the HER2+ fold graphs (test B4:
 * the 5 sections C2–C6 each as a target against a bank of the other four; built-in features,
 * the 785 histogene genes, Q = 5, K = 7), one optimiser step per graph (both views, full loss,
 * backward, AdamW), with the library's default preset (`released`; argv[3] may name another).
 *
 * Prints one JSON line: backend, device, seconds per epoch (median and fastest), peak RSS and,
 * where BLAS is loaded, the compute floor of that epoch measured in the same process:
 * - every matrix product of the timed epochs is counted by shape (FLOP per epoch);
 * - `floorSeconds`: those products replayed back to back through the same BLAS, shape by shape,
 *   on the same cores — the epoch's time if everything but its products cost nothing;
 * - `blasGflopsBefore/After`: the throughput of one common shape before and after the epochs, so
 *   a slow run can be told apart from a busy machine (this shared host's throughput varies);
 * - `optimizerSecondsPerEpoch`, `targetViewSecondsPerEpoch`: the trainer's own clocks around
 *   AdamW and the second view, and `floorWithOptimizerSeconds`: the floor plus AdamW's update.
 */
import { DATASETS, readHer2st, resolveDatasetDir, WarningLog } from "../lib/mod.ts";
import { selectGenes } from "../lib/preprocess/hvg.ts";
import { expressionTarget } from "../lib/preprocess/normalize.ts";
import { builtinExtractor, sliceFeatures } from "../lib/features/extractors.ts";
import { type GraphSlice, toGraphSlice } from "../lib/graph/hetero.ts";
import { epochGraphs } from "./gpu/epoch_graphs.ts";
import { deviceDescription, tf, useBackend } from "../lib/model/backend.ts";
import { loadBlas } from "../lib/model/blas.ts";
import { graphTensors, SpaHGCTrainer } from "../lib/model/spahgc.ts";
import { blasMatMul } from "../lib/model/wasm_kernels.ts";
import {
  SPAHGC_DEFAULT_PRESET,
  SPAHGC_PRESETS,
  type SpaHGCPresetName,
} from "../lib/model/spahgc_method.ts";

const backend = await useBackend(Deno.args[0] as "wasm");
const epochs = Number(Deno.args[1] ?? 1);
const presetName = (Deno.args[2] ?? SPAHGC_DEFAULT_PRESET) as SpaHGCPresetName;
const preset = SPAHGC_PRESETS[presetName];
const ds = readHer2st(resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!), {
  log: new WarningLog(false),
});
const genes =
  selectGenes(ds.slices, { recipe: "histogene", flavor: "seurat", nTop: 1000, targetSum: 1e6 })
    .genes;
const ex = builtinExtractor({ workers: 1 });
const slices: GraphSlice[] = [];
for (const name of ["C2", "C3", "C4", "C5", "C6"]) {
  const s = ds.slices.find((x) => x.name === name)!;
  const col = new Map(s.genes.map((g, j) => [g, j]));
  const e = await sliceFeatures(s, ex);
  slices.push(toGraphSlice(s, e.data, expressionTarget(s.counts, genes.map((g) => col.get(g)!))));
}
ex.close();
const graphs = epochGraphs(slices, "B4", preset.graph).map(({ graph: g, y }) => ({
  t: graphTensors(g),
  y: tf.keep(tf.tensor2d(y, [g.target.n, genes.length])),
  nT: g.target.n,
  nR: g.reference.n,
}));
const trainer = new SpaHGCTrainer({
  ...preset.config,
  dim: slices[0].features.length / slices[0].n,
  genes: genes.length,
});
const epoch = async () => {
  const t0 = performance.now();
  for (const g of graphs) await trainer.trainStep(g.t, g.y);
  return (performance.now() - t0) / 1000;
};
/** GFLOP/s of 200 products [494, 512]·[512, 256] (a dense layer of 4 of the graphs' references). */
function blasGflops(): number | null {
  const blas = backend === "wasm-blas" ? loadBlas() : undefined;
  if (!blas) return null;
  const [m, n, k] = [494, 256, 512];
  const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(k * n).fill(0.25);
  const c = new Float32Array(m * n);
  for (let i = 0; i < 20; i++) blas.sgemm(false, false, m, n, k, a, b, c);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) blas.sgemm(false, false, m, n, k, a, b, c);
  return (2 * m * n * k * 200) / ((performance.now() - t0) / 1000) / 1e9;
}
/** Counts the products of the timed epochs by shape, through the BLAS the kernels call. */
const products = new Map<string, { calls: number; args: Parameters<typeof blasSgemm> }>();
const blasLib = blasMatMul();
const blasSgemm = blasLib ? blasLib.sgemm.bind(blasLib) : () => {};
function countProducts(on: boolean) {
  if (!blasLib) return;
  blasLib.sgemm = on
    ? (tA, tB, m, n, k, a, b, c, beta = 0) => {
      const key = `${tA}|${tB}|${m}|${n}|${k}|${beta}`;
      const p = products.get(key) ?? { calls: 0, args: [tA, tB, m, n, k, a, b, c, beta] };
      p.calls++;
      products.set(key, p);
      blasSgemm(tA, tB, m, n, k, a, b, c, beta);
    }
    : blasSgemm;
}
/** Seconds the epoch's products take back to back, each shape replayed on fresh arrays. */
function replayFloor(): { seconds: number; gflop: number } {
  let seconds = 0, flop = 0;
  for (const { calls, args: [tA, tB, m, n, k, , , , beta] } of products.values()) {
    const perEpoch = calls / epochs;
    flop += 2 * m * n * k * perEpoch;
    const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(k * n).fill(0.25);
    const c = new Float32Array(m * n);
    const reps = Math.max(5, Math.ceil(perEpoch));
    for (let i = 0; i < 2; i++) blasSgemm(tA, tB, m, n, k, a, b, c, beta);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) blasSgemm(tA, tB, m, n, k, a, b, c, beta);
    seconds += ((performance.now() - t0) / 1000 / reps) * perEpoch;
  }
  return { seconds, gflop: flop / 1e9 };
}
await trainer.trainStep(graphs[0].t, graphs[0].y); // warm-up (kernel compilation, allocation)
const blasBefore = blasGflops();
const times: number[] = [];
const before = { ...trainer.timings };
countProducts(true);
for (let e = 0; e < epochs; e++) times.push(await epoch());
countProducts(false);
const perEpoch = (k: keyof typeof before) => (trainer.timings[k] - before[k]) / epochs;
const blasAfter = blasGflops();
const floor = blasLib ? replayFloor() : undefined;
const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
console.log(JSON.stringify({
  measurement: "spahgc-train-epoch",
  backend,
  preset: presetName,
  device: deviceDescription(),
  graphs: graphs.map((g) => ({ targets: g.nT, references: g.nR })),
  genes: genes.length,
  secondsPerEpoch: times.sort((a, b) => a - b)[Math.floor(times.length / 2)],
  fastestEpochSeconds: times[0],
  ...(blasBefore ? { blasGflopsBefore: blasBefore, blasGflopsAfter: blasAfter } : {}),
  ...(floor
    ? {
      productGflopPerEpoch: floor.gflop,
      productShapes: products.size,
      floorSeconds: floor.seconds,
      floorGflops: floor.gflop / floor.seconds,
      // The epoch if everything but its products (at the replayed speed) and the optimiser's
      // update (memory-bound: it reads weights, gradients and both moments and writes three of
      // them, ~28 bytes a parameter a step) cost nothing.
      floorWithOptimizerSeconds: floor.seconds + perEpoch("optimizerSeconds"),
    }
    : {}),
  optimizerSecondsPerEpoch: perEpoch("optimizerSeconds"),
  targetViewSecondsPerEpoch: perEpoch("targetViewSeconds"),
  epochsTimed: epochs,
  peakRssMiB: hwm ? Number(hwm[1]) / 1024 : null,
  tensors: tf.memory().numTensors,
}));
