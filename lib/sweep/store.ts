/**
 * The results store of a sweep. Each finished run writes `results/<id>.json` atomically — the
 * record of what is done, so a sweep killed at any point resumes without redoing or corrupting
 * anything — and `collect` gathers them into `<sweep name>.parquet` (one row per run and test slice,
 * written by polars) that notebooks (`readResults`, a DataFrame) and Python (pandas/pyarrow/polars)
 * read.
 */
import { join } from "node:path";
import { exists, writeFileAtomic } from "../io/files.ts";
import { type Frame, pl } from "../table/frame.ts";
import type { ExpandedSweep, SweepRun } from "./spec.ts";

/** One row of the store: a run's result on one test slice. */
export interface ResultRow {
  id: string;
  sweep: string;
  method: string;
  fold: string;
  test: string;
  seed: number;
  /** The grid point as JSON, plus one column per common axis (null when not swept). */
  point: string;
  Q: number | null;
  K: number | null;
  alpha: number | null;
  beta: number | null;
  masking: string | null;
  ablation: string | null;
  epochs: number | null;
  pcc: number;
  rmse: number;
  top50: number;
  genesExcluded: number;
  seconds: number;
  backend: string;
}

export const resultPath = (dir: string, id: string) => join(dir, "results", `${id}.json`);

export function isDone(dir: string, id: string): boolean {
  return exists(resultPath(dir, id));
}

export function writeResult(dir: string, id: string, rows: ResultRow[]): void {
  Deno.mkdirSync(join(dir, "results"), { recursive: true });
  writeFileAtomic(resultPath(dir, id), JSON.stringify(rows, null, 2) + "\n");
}

export function rowsFor(
  run: SweepRun,
  sweep: string,
): Omit<ResultRow, "test" | "pcc" | "rmse" | "top50" | "genesExcluded" | "seconds" | "backend"> {
  const num = (k: string) => (run.point[k] === undefined ? null : Number(run.point[k]));
  const str = (k: string) => (run.point[k] === undefined ? null : String(run.point[k]));
  return {
    id: run.id,
    sweep,
    method: run.method,
    fold: run.fold,
    seed: run.seed,
    point: JSON.stringify(run.point),
    Q: num("Q"),
    K: num("K"),
    alpha: num("alpha"),
    beta: num("beta"),
    masking: str("masking"),
    ablation: str("ablation"),
    epochs: run.options.epochs ?? null,
  };
}

export interface SweepStatus {
  total: number;
  done: number;
  pending: SweepRun[];
}

export function sweepStatus(s: ExpandedSweep): SweepStatus {
  const pending = s.runs.filter((r) => !isDone(s.dir, r.id));
  return { total: s.runs.length, done: s.runs.length - pending.length, pending };
}

/** The store's columns and their Parquet types, in order (the schema Python readers see). */
const COLUMNS: [keyof ResultRow, "String" | "Float64" | "Int32"][] = [
  ["id", "String"],
  ["sweep", "String"],
  ["method", "String"],
  ["fold", "String"],
  ["test", "String"],
  ["seed", "Int32"],
  ["point", "String"],
  ["Q", "Float64"],
  ["K", "Float64"],
  ["alpha", "Float64"],
  ["beta", "Float64"],
  ["masking", "String"],
  ["ablation", "String"],
  ["epochs", "Float64"],
  ["pcc", "Float64"],
  ["rmse", "Float64"],
  ["top50", "Float64"],
  ["genesExcluded", "Int32"],
  ["seconds", "Float64"],
  ["backend", "String"],
];

/** The store's rows as a DataFrame with the store's fixed schema (also when empty). */
export function resultsFrame(rows: readonly ResultRow[]): Frame {
  return pl.DataFrame(
    COLUMNS.map(([name, type]) => pl.Series(name, rows.map((r) => r[name] ?? null), pl[type])),
  );
}

/**
 * Gathers the finished runs of the sweep into `<dir>/<name>.parquet`; returns them as rows and
 * as a DataFrame.
 */
export function collect(
  s: ExpandedSweep,
): { rows: ResultRow[]; frame: Frame; missing: number; file: string } {
  const rows: ResultRow[] = [];
  let missing = 0;
  for (const r of s.runs) {
    if (!isDone(s.dir, r.id)) {
      missing++;
      continue;
    }
    // A run shared with another sweep (same id) was recorded under that sweep's grid point: label
    // it with this sweep's point; the numbers are the run's.
    const own = rowsFor(r, s.spec.name);
    for (const row of JSON.parse(Deno.readTextFileSync(resultPath(s.dir, r.id))) as ResultRow[]) {
      rows.push({ ...row, ...own });
    }
  }
  const frame = resultsFrame(rows);
  const file = join(s.dir, `${s.spec.name}.parquet`);
  // Snappy, as pandas/pyarrow write by default (and half the time of polars' default zstd here).
  writeFileAtomic(file, new Uint8Array(frame.writeParquet({ compression: "snappy" })));
  return { rows, frame, missing, file };
}

/**
 * Reads a results store written by `collect` as a DataFrame.
 *
 * @example
 * ```ts
 * const df = readResults("runs/sweeps/Q/S3_S5_Q.parquet");
 * df.groupBy("Q").agg(pl.col("pcc").mean()).sort("Q");
 * ```
 */
export function readResults(file: string): Frame {
  return pl.readParquet(file);
}
