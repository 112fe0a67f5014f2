/**
 * Embeddings written back out, one `<slice>.csv` per slice: spot id, then one column per kept
 * dimension under a header naming the original dimension (`f74`, `f75`, …). It is the format
 * `--encoder file:DIR` reads and pandas opens as it is, so a reduced descriptor (some dimensions
 * of the built-in one, say) can be tried with every method, and embeddings can be taken to Python.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { writeFileAtomic } from "../io/files.ts";
import type { Embeddings } from "./extractors.ts";

/**
 * Parses a dimension selection such as `74-103,184-203` or `0,5,9` (0-based, ranges inclusive)
 * against an embedding of `dim` dimensions; the order given is kept. A malformed token, a
 * dimension past the last or one selected twice is a RangeError saying which.
 */
export function parseColumns(spec: string, dim: number): number[] {
  const out: number[] = [];
  for (const token of spec.split(",").map((t) => t.trim())) {
    const m = token.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) {
      throw new RangeError(
        `"${token}" is not a dimension or a range like 74-103 (in "${spec}")`,
      );
    }
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`range ${token} runs backwards`);
    if (b >= dim) {
      throw new RangeError(
        `dimension ${b} (in ${token}) is past the embedding's last, ${dim - 1}`,
      );
    }
    for (let k = a; k <= b; k++) out.push(k);
  }
  const seen = new Set<number>();
  for (const k of out) {
    if (seen.has(k)) throw new RangeError(`dimension ${k} is selected twice`);
    seen.add(k);
  }
  return out;
}

/**
 * The CSV text of one slice's embeddings. Values are written as the shortest decimal that reads
 * back as the same float32, so a round trip through `file:` is exact. Not `toCsv` of the
 * tables: that builds an object per row and writes −0 as "0"; here rows go straight from the
 * embedding buffer, and spot ids that would need quoting are refused (`file:`
 * reads tables by splitting on every separator, so a quoted comma would not survive).
 */
export function embeddingsCsv(e: Embeddings, spots: string[], columns?: number[]): string {
  if (spots.length !== e.n) {
    throw new DataError(`${e.n} embeddings for ${spots.length} spots of slice ${e.slice}`);
  }
  const cols = columns ?? Array.from({ length: e.dim }, (_, k) => k);
  const bad = spots.find((s) => /[",\n\r]/.test(s));
  if (bad !== undefined) {
    throw new DataError(`spot id ${JSON.stringify(bad)} of slice ${e.slice} cannot be a CSV cell`, {
      spot: bad,
    });
  }
  const lines = [["spot", ...cols.map((k) => `f${k}`)].join(",")];
  for (let i = 0; i < e.n; i++) {
    const row = e.data.subarray(i * e.dim, (i + 1) * e.dim);
    lines.push([spots[i], ...cols.map((k) => decimal(row[k]))].join(","));
  }
  return lines.join("\n") + "\n";
}

/** Shortest round-trip decimal; `String(-0)` is "0", which would lose the sign. */
const decimal = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

/** Writes `<dir>/<slice>.csv` atomically (a killed export never leaves half a file) and returns its path. */
export function exportEmbeddingsCsv(
  dir: string,
  e: Embeddings,
  spots: string[],
  columns?: number[],
): string {
  Deno.mkdirSync(dir, { recursive: true });
  const file = join(dir, `${e.slice}.csv`);
  writeFileAtomic(file, embeddingsCsv(e, spots, columns));
  return file;
}
