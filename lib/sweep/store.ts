/**
 * The results store of a sweep. Each finished run writes `results/<id>.json` atomically — the
 * record of what is done, so a sweep killed at any point resumes without redoing or corrupting
 * anything — and `collect` gathers them into `<sweep name>.parquet` (one row per run and test slice;
 * hyparquet-writer, pure JavaScript; nodejs-polars would be the first choice, but its native package
 * does not install on these machines) that notebooks and Python (pandas/pyarrow/polars) read.
 */
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetReadObjects } from "hyparquet";
import { exists, writeFileAtomic } from "../io/files.ts";
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

const COLUMNS: [keyof ResultRow, "STRING" | "DOUBLE" | "INT32"][] = [
  ["id", "STRING"],
  ["sweep", "STRING"],
  ["method", "STRING"],
  ["fold", "STRING"],
  ["test", "STRING"],
  ["seed", "INT32"],
  ["point", "STRING"],
  ["Q", "DOUBLE"],
  ["K", "DOUBLE"],
  ["alpha", "DOUBLE"],
  ["beta", "DOUBLE"],
  ["masking", "STRING"],
  ["ablation", "STRING"],
  ["epochs", "DOUBLE"],
  ["pcc", "DOUBLE"],
  ["rmse", "DOUBLE"],
  ["top50", "DOUBLE"],
  ["genesExcluded", "INT32"],
  ["seconds", "DOUBLE"],
  ["backend", "STRING"],
];

/** Gathers the finished runs of the sweep into `<dir>/<name>.parquet`; returns the rows. */
export function collect(s: ExpandedSweep): { rows: ResultRow[]; missing: number; file: string } {
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
  const buf = parquetWriteBuffer({
    columnData: COLUMNS.map(([name, type]) => ({
      name,
      type,
      data: rows.map((row) => row[name] as string | number | null),
    })),
  });
  const file = join(s.dir, `${s.spec.name}.parquet`);
  writeFileAtomic(file, new Uint8Array(buf));
  return { rows, missing, file };
}

/** Reads a results store written by `collect`. */
export async function readResults(file: string): Promise<ResultRow[]> {
  const bytes = Deno.readFileSync(file);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return (await parquetReadObjects({ file: ab as ArrayBuffer })) as unknown as ResultRow[];
}
