/**
 * Child process of the benchmark: HVG selection over the 36 HER2+ sections (loading not timed)
 * and built-in encoder throughput on the six imaged sections (decode + patches + encode).
 * Prints one JSON object.
 */
import { DATASETS, readHer2st, resolveDatasetDir, WarningLog } from "../lib/mod.ts";
import { selectGenes } from "../lib/preprocess/hvg.ts";
import { builtinExtractor } from "../lib/features/extractors.ts";

const which = Deno.args[0];
const dir = resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!);
const ds = readHer2st(dir, { log: new WarningLog(false) });
const time = async (f: () => unknown) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};
if (which === "hvg") {
  const base = { flavor: "seurat" as const, nTop: 1000, targetSum: 1e6 };
  const out: Record<string, number> = {};
  out.histogene = await time(() => selectGenes(ds.slices, { ...base, recipe: "histogene" }));
  out["batch-ranked"] = await time(() =>
    selectGenes(ds.slices, { ...base, recipe: "batch-ranked" })
  );
  out.intersection = await time(() => {
    try {
      selectGenes(ds.slices, { ...base, recipe: "intersection" });
    } catch { /* empty on HER2+, by design; the time to find out is what is measured */ }
  });
  console.log(JSON.stringify(out));
} else {
  const workers = Number(Deno.args[1] ?? navigator.hardwareConcurrency);
  const ex = builtinExtractor({ workers });
  let n = 0;
  const seconds = await time(async () => {
    for (
      const s of ds.slices.filter((s) => ["B4", "C2", "C3", "C4", "C5", "C6"].includes(s.name))
    ) n += (await ex.extract(s)).n;
  });
  ex.close();
  console.log(JSON.stringify({ workers, patches: n, seconds, patchesPerSecond: n / seconds }));
}
