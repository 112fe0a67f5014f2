/**
 * One measurement in a fresh process (so VmHWM is this run's alone) on a large synthetic slide
 * with a spot grid: `bands` / `decoded` cut every patch (112 px from the 224 px square) from TIFF
 * bands or from the slide decoded whole; `encode` runs the built-in encoder (bands) over them.
 * Args: SLIDE.tif SIDE SPACING MODE. Prints one JSON line.
 */
import { builtinExtractor } from "../../lib/features/extractors.ts";
import { CsrMatrix } from "../../lib/data/sparse.ts";
import type { Slice } from "../../lib/data/slice.ts";
import { forEachPatchChunk } from "../../lib/features/patches.ts";

const [path, sideArg, spacingArg, mode] = Deno.args;
const side = Number(sideArg), spacing = Number(spacingArg);
const xs: number[] = [], ys: number[] = [];
for (let y = spacing / 2; y < side; y += spacing) {
  for (let x = spacing / 2; x < side; x += spacing) {
    xs.push(x);
    ys.push(y);
  }
}
const n = xs.length;
const slice: Slice = {
  name: "large",
  patient: "p",
  counts: CsrMatrix.fromDense(n, 1, new Float64Array(n)),
  genes: ["G"],
  spots: xs.map((_, i) => `s${i}`),
  array: { x: Float64Array.from(xs), y: Float64Array.from(ys) },
  pixel: { x: Float64Array.from(xs), y: Float64Array.from(ys) },
  image: { path, scale: 1 },
  labels: {},
};
const t0 = performance.now();
let source: string;
if (mode === "encode") {
  const ex = builtinExtractor();
  source = (await ex.extract(slice)).notes.join("; ");
  ex.close();
} else {
  // `decoded` lifts the decode budget above the slide, forcing the whole-image path.
  const budget = mode === "decoded" ? 2 ** 40 : undefined;
  source =
    (await forEachPatchChunk(slice, { size: 112, chunk: 2048, maxDecodeBytes: budget }, () => {}))
      .source;
}
const seconds = (performance.now() - t0) / 1000;
const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
console.log(JSON.stringify({
  mode,
  spots: n,
  seconds,
  patchesPerSecond: n / seconds,
  peakRssBytes: Number(hwm![1]) * 1024,
  source,
}));
