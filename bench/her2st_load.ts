/** Child process of the benchmark: loads all HER2+ sections once, prints wall time and peak RSS as JSON. */
import { DATASETS, readHer2st, resolveDatasetDir, WarningLog } from "../lib/mod.ts";

const dir = Deno.args[0] ?? resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!);
const t0 = performance.now();
const ds = readHer2st(dir, { log: new WarningLog(false) });
const seconds = (performance.now() - t0) / 1000;
// VmHWM: the kernel's peak resident set of this process, the number that matters on a 2-core, 24 GiB box.
const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
console.log(JSON.stringify({
  seconds,
  peakRssBytes: hwm ? Number(hwm[1]) * 1024 : Deno.memoryUsage().rss,
  sections: ds.slices.length,
  spots: ds.slices.reduce((a, s) => a + s.counts.nRows, 0),
  nnz: ds.slices.reduce((a, s) => a + s.counts.nnz, 0),
}));
