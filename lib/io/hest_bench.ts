/**
 * A HEST-Benchmark task folder (`MahmoodLab/hest-bench` on Hugging Face, one folder per task,
 * e.g. IDC, PRAD, LYMPH_IDC):
 *
 *   TASK/adata/<sample>.h5ad       spots × genes, raw counts
 *   TASK/patches/<sample>.h5       HEST patches (224 px at 0.5 µm/px) with barcodes
 *   TASK/splits/train_<k>.csv      sample_id, patches_path, expr_path (paths relative to TASK)
 *   TASK/splits/test_<k>.csv
 *   TASK/var_50genes.json          {"genes": [...]}: the genes the task scores
 *
 * Each sample becomes a slice with its patches; the splits become the dataset's folds (split
 * `dataset`) and the gene list its default genes. The task names no patients; a sample's
 * patient is the test split holding it (`split<k>`), since HEST's splits hold patients out.
 */
import { join, resolve } from "node:path";
import { DataError, type WarningLog } from "../errors.ts";
import type { Dataset, Slice } from "../data/slice.ts";
import { column, exists, parseTable } from "./files.ts";
import { readH5ad } from "./h5ad.ts";
import { annDataSlices } from "./anndata_slices.ts";
import { joinPatchFile } from "./hest.ts";

/** True when `dir` is laid out as a HEST-Benchmark task (splits/ and adata/). */
export function isHestBenchTask(dir: string): boolean {
  return exists(join(dir, "splits")) && exists(join(dir, "adata"));
}

/** The gene list file of a task: `var_50genes.json`, else the only `var_*genes.json`. */
export function hestBenchGeneFile(task: string): string | undefined {
  const standard = join(task, "var_50genes.json");
  if (exists(standard)) return standard;
  const others = [...Deno.readDirSync(task)].filter((e) => /^var_\d+genes\.json$/.test(e.name));
  return others.length === 1 ? join(task, others[0].name) : undefined;
}

/** The genes a task scores. */
export function hestBenchGenes(task: string): string[] {
  const file = hestBenchGeneFile(task);
  if (!file) {
    throw new DataError("no var_50genes.json (the genes HEST-Benchmark scores)", { file: task });
  }
  let v: unknown;
  try {
    v = JSON.parse(Deno.readTextFileSync(file));
  } catch (e) {
    throw new DataError(`not JSON: ${(e as Error).message}`, { file });
  }
  const genes = (v as { genes?: unknown })?.genes;
  if (!Array.isArray(genes) || !genes.length || genes.some((g) => typeof g !== "string")) {
    throw new DataError(`expected {"genes": ["GENE", …]}`, { file });
  }
  return genes as string[];
}

interface SplitRow {
  sample: string;
  patches: string;
  expr: string;
}

function readSplit(file: string): SplitRow[] {
  const t = parseTable(Deno.readTextFileSync(file), file, ",");
  const [s, p, e] = ["sample_id", "patches_path", "expr_path"].map((c) => column(t, c));
  return t.rows.map((r) => ({ sample: r[s], patches: r[p], expr: r[e] }));
}

/** The task's splits, in k order: `train_k.csv` / `test_k.csv` pairs. */
export function readHestBenchSplits(
  task: string,
): { k: number; train: SplitRow[]; test: SplitRow[] }[] {
  const dir = join(task, "splits");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const ks = names.map((n) => /^test_(\d+)\.csv$/.exec(n)).filter((m) => m).map((m) =>
    Number(m![1])
  )
    .sort((a, b) => a - b);
  if (!ks.length) {
    throw new DataError("no test_<k>.csv in splits/ (HEST-Benchmark's fold files)", { file: dir });
  }
  return ks.map((k) => {
    const train = join(dir, `train_${k}.csv`);
    if (!exists(train)) {
      throw new DataError(`test_${k}.csv has no train_${k}.csv beside it`, { file: train });
    }
    return { k, train: readSplit(train), test: readSplit(join(dir, `test_${k}.csv`)) };
  });
}

/**
 * Reads a HEST-Benchmark task: its samples as slices (with their patches), its splits as
 * `folds`, its gene list as `genes`.
 *
 * @example
 * ```ts
 * const ds = await readHestBench("/data/hest-bench/IDC", { log: new WarningLog() });
 * ds.folds; // [{ name: "split0", train: [...], test: [...] }, …]
 * ```
 */
export async function readHestBench(
  task: string,
  o: { log: WarningLog; only?: string[] },
): Promise<Dataset & { folds: NonNullable<Dataset["folds"]>; genes: string[] }> {
  const genes = hestBenchGenes(task);
  const splits = readHestBenchSplits(task);
  const rows = new Map<string, SplitRow>();
  const testOf = new Map<string, number[]>();
  for (const s of splits) {
    for (const r of [...s.train, ...s.test]) {
      const before = rows.get(r.sample);
      if (before && (before.expr !== r.expr || before.patches !== r.patches)) {
        throw new DataError(
          `sample ${r.sample} has other files in split ${s.k} (${r.expr}) than before (${before.expr})`,
          { file: join(task, "splits") },
        );
      }
      rows.set(r.sample, r);
    }
    for (const r of s.test) testOf.set(r.sample, [...(testOf.get(r.sample) ?? []), s.k]);
  }
  const slices: Slice[] = [];
  for (const [sample, r] of rows) {
    if (o.only && !o.only.includes(sample)) continue;
    const expr = resolve(task, r.expr), patches = resolve(task, r.patches);
    if (!exists(expr)) {
      throw new DataError(`sample ${sample}: expression file of splits/ not found`, { file: expr });
    }
    if (!exists(patches)) {
      throw new DataError(`sample ${sample}: patch file of splits/ not found`, { file: patches });
    }
    const [s] = annDataSlices(await readH5ad(expr), expr, { log: o.log });
    const held = testOf.get(sample) ?? [];
    const patient = held.length === 1 ? `split${held[0]}` : sample;
    slices.push(
      await joinPatchFile(
        { ...s, name: sample, patient, image: undefined },
        patches,
        undefined,
        undefined,
        o.log,
      ),
    );
  }
  const folds: NonNullable<Dataset["folds"]> = splits.map((s) => ({
    name: `split${s.k}`,
    train: s.train.map((r) => r.sample),
    test: s.test.map((r) => r.sample),
  }));
  return {
    name: task.replace(/\/+$/, "").replace(/^.*\//, ""),
    slices,
    folds,
    genes,
    provenance: {
      source: "HEST-Benchmark task (MahmoodLab/hest-bench)",
      location: task,
      reader: "readHestBench",
      params: { splits: folds.length, genes: genes.length, geneFile: hestBenchGeneFile(task) },
      warnings: o.log.warnings,
    },
  };
}
