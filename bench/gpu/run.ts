/**
 * The GPU pack's benchmark (bundled into one file by `bench/gpu/pack.ts`): SpaHGC with the
 * library's defaults, leave-one-section-out over the slices in `slices.bin` (features, targets and
 * coordinates prepared where the data is), on the backend asked for. Prints one JSON object:
 * the backend and the adapter it ran on, seconds per epoch, per-fold PCC and the wall time.
 *
 * Usage: deno run -A run.js --data slices.bin [--backend webgpu] [--epochs 200] [--folds B4,C2]
 */
import { parseArgs } from "node:util";
import { deviceDescription } from "../../lib/model/backend.ts";
import { spahgcMethod } from "../../lib/model/spahgc_method.ts";
import type { PreparedSlice } from "../../lib/model/method.ts";
import { sliceMetrics } from "../../lib/eval/metrics.ts";
import { readPackedSlices } from "./slices.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "slices.bin" },
    backend: { type: "string", default: "webgpu" },
    epochs: { type: "string", default: "200" },
    folds: { type: "string" },
    selection: { type: "string", default: "validation" },
  },
});

const slices: PreparedSlice[] = readPackedSlices(Deno.readFileSync(values.data));
const G = slices[0].y.length / slices[0].n, dim = slices[0].x.length / slices[0].n;
const tests = values.folds?.split(",") ?? slices.map((s) => s.name);
const t0 = performance.now();
const folds = [];
let secondsPerEpoch = 0, backend = "", device = "";
for (const test of tests) {
  const t = slices.find((s) => s.name === test);
  if (!t) throw new Error(`no slice ${test} in ${values.data}`);
  const tf0 = performance.now();
  const method = spahgcMethod({
    epochs: Number(values.epochs),
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
  epochs: Number(values.epochs),
  genes: G,
  dim,
  secondsPerEpoch,
  folds,
  meanPcc: folds.reduce((a, f) => a + f.pcc, 0) / folds.length,
  wallSeconds: (performance.now() - t0) / 1000,
}));
