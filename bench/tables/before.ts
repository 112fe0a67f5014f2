/**
 * The sweep-table path as it was before tables became polars DataFrames (commit 3974383): the
 * store written by hyparquet-writer and read by hyparquet, the per-value summary a loop over row
 * objects, CSV and Markdown by hand. Kept only as the "before" of `bench/tables/run.ts`, so the two
 * are timed side by side in one run; nothing in lib/ uses it.
 */
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetReadObjects } from "hyparquet";
import { writeFileAtomic } from "../../lib/io/files.ts";
import { startManifest } from "../../lib/provenance/manifest.ts";
import { isDone, resultPath, type ResultRow, rowsFor } from "../../lib/sweep/store.ts";
import type { ExpandedSweep } from "../../lib/sweep/spec.ts";

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

export function collectBefore(s: ExpandedSweep): string {
  const rows: ResultRow[] = [];
  for (const r of s.runs) {
    if (!isDone(s.dir, r.id)) continue;
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
  const file = join(s.dir, `${s.spec.name}.before.parquet`);
  writeFileAtomic(file, new Uint8Array(buf));
  return file;
}

export async function readBefore(file: string): Promise<ResultRow[]> {
  const bytes = Deno.readFileSync(file);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return (await parquetReadObjects({ file: ab as ArrayBuffer })) as unknown as ResultRow[];
}

const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: m, std: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) };
};

/** The Tables S3–S5 notebook's per-value summary, as it was written. */
export function summaryBefore(rows: ResultRow[], p: string, vals: number[]) {
  return vals.map((v) => {
    const pcc = rows.filter((r) => Number(JSON.parse(r.point)[p]) === v).map((r) => r.pcc);
    const rmse = rows.filter((r) => Number(JSON.parse(r.point)[p]) === v).map((r) => r.rmse);
    const m = meanStd(pcc);
    return {
      parameter: p,
      value: v,
      pcc: m.mean,
      std: m.std,
      rmse: meanStd(rmse).mean,
      n: pcc.length,
    };
  });
}

const cell = (v: unknown, digits: number): string => {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) !== 0 && Math.abs(v) < 10 ** -digits
      ? v.toExponential(2)
      : v.toFixed(digits);
  }
  return v === null || v === undefined ? "" : String(v).replaceAll("|", "\\|");
};

/** CSV and Markdown of rows, by hand, written beside the store, with the manifest as before. */
export function exportBefore(rows: Record<string, unknown>[], dir: string, name: string): void {
  const m = startManifest(name, {});
  const keys = Object.keys(rows[0]);
  const csvField = (v: unknown) =>
    typeof v === "string" && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v);
  writeFileAtomic(
    join(dir, `${name}.csv`),
    [keys.join(","), ...rows.map((r) => keys.map((k) => csvField(r[k])).join(","))].join("\n") +
      "\n",
  );
  const numeric = keys.map((c) => rows.every((r) => typeof r[c] === "number" || r[c] == null));
  writeFileAtomic(
    join(dir, `${name}.md`),
    [
      `| ${keys.join(" | ")} |`,
      `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
      ...rows.map((r) => `| ${keys.map((c) => cell(r[c], 3)).join(" | ")} |`),
    ].join("\n") + "\n",
  );
  m.finish(dir, [`${name}.csv`, `${name}.md`], [], `${name}.manifest.json`);
}
