/**
 * The built-in encoder over the slices of a dataset, in a fresh process (VmHWM is this run's
 * alone), no feature cache. Args: DATASET [SLICE,…]. Prints one JSON line.
 */
import { builtinExtractor } from "../../lib/features/extractors.ts";
import { loadDataset, WarningLog } from "../../lib/mod.ts";

const ds = await loadDataset(Deno.args[0], {
  slices: Deno.args[1]?.split(","),
  log: new WarningLog(false),
});
const ex = builtinExtractor();
const t0 = performance.now();
let spots = 0;
const notes = new Set<string>();
for (const s of ds.slices) {
  const e = await ex.extract(s);
  spots += e.n;
  e.notes.forEach((n) => notes.add(n.replace(/^\d+ of \d+ /, "")));
}
ex.close();
const seconds = (performance.now() - t0) / 1000;
const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
console.log(JSON.stringify({
  dataset: Deno.args[0],
  spots,
  seconds,
  patchesPerSecond: spots / seconds,
  peakRssBytes: Number(hwm![1]) * 1024,
  notes: [...notes],
}));
