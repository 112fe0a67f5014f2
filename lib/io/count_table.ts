/**
 * Parser for dense spots × genes count tables in tab-separated text (the legacy ST layout of
 * HER2+ and cSCC): a header of gene names after an index column, then one row per spot.
 *
 * Hand-written over bytes rather than through a CSV library: the 36 HER2+ tables are ~500 MB
 * of mostly "0\t" once unzipped, and a byte loop that accumulates integers and writes CSR
 * directly is several times faster and far smaller in memory than materialising strings or a
 * dense frame (see `deno task bench`).
 */
import { DataError } from "../errors.ts";
import { CsrBuilder, type CsrMatrix } from "../data/sparse.ts";

export interface CountTable {
  rowNames: string[];
  colNames: string[];
  counts: CsrMatrix;
}

const LF = 10, CR = 13;

/**
 * Parses a count table. Values must be finite and non-negative; integers take a fast path,
 * anything else goes through `Number()`. Errors name the file, line, spot and gene.
 */
export function parseCountTable(bytes: Uint8Array, file: string, sep = "\t"): CountTable {
  const SEP = sep.charCodeAt(0);
  const n = bytes.length;
  let p = 0;
  // Header line.
  let eol = bytes.indexOf(LF);
  if (eol < 0) eol = n;
  const decoder = new TextDecoder();
  let headerEnd = eol;
  if (headerEnd > 0 && bytes[headerEnd - 1] === CR) headerEnd--;
  const header = decoder.decode(bytes.subarray(0, headerEnd)).split(sep);
  if (header.length < 2) {
    throw new DataError("header has no gene columns, expected an index column then gene names", {
      file,
      line: 1,
    });
  }
  const colNames = header.slice(1).map((s) => s.replace(/^"(.*)"$/, "$1"));
  const nCols = colNames.length;
  const builder = new CsrBuilder(nCols);
  const rowNames: string[] = [];
  p = eol + 1;
  let line = 1;
  while (p < n) {
    line++;
    // Row name.
    let q = p;
    while (q < n && bytes[q] !== SEP && bytes[q] !== LF && bytes[q] !== CR) q++;
    if (q === p && (q >= n || bytes[q] === LF || (bytes[q] === CR))) {
      // Blank line (possibly the trailing one).
      p = q + 1;
      continue;
    }
    const rowName = decoder.decode(bytes.subarray(p, q)).replace(/^"(.*)"$/, "$1").replace(
      /\r$/,
      "",
    );
    if (q >= n || bytes[q] === LF) {
      throw new DataError(`row has no values, expected ${nCols} counts`, {
        file,
        line,
        spot: rowName,
      });
    }
    p = q + 1;
    let col = 0;
    for (;;) {
      // One field: [p, q)
      let v = 0;
      let q2 = p;
      let plain = true;
      while (q2 < n) {
        const c = bytes[q2];
        if (c === SEP || c === LF || c === CR) break;
        const d = c - 48;
        if (d >= 0 && d <= 9) v = v * 10 + d;
        else plain = false;
        q2++;
      }
      if (col >= nCols) {
        throw new DataError(
          `row has more than ${nCols} values, expected one per gene in the header`,
          {
            file,
            line,
            spot: rowName,
          },
        );
      }
      if (!plain || q2 === p) {
        const text = decoder.decode(bytes.subarray(p, q2));
        v = text.trim() === "" ? NaN : Number(text);
        if (!Number.isFinite(v)) {
          throw new DataError(`count is '${text}', expected a non-negative number`, {
            file,
            line,
            spot: rowName,
            gene: colNames[col],
          });
        }
        if (v < 0) {
          throw new DataError(`count is ${text}, expected a non-negative number`, {
            file,
            line,
            spot: rowName,
            gene: colNames[col],
          });
        }
      }
      if (v !== 0) builder.push(col, v);
      col++;
      p = q2;
      if (p < n && bytes[p] === CR) p++;
      if (p >= n || bytes[p] === LF) {
        p++;
        break;
      }
      p++; // separator
    }
    if (col !== nCols) {
      throw new DataError(`row has ${col} values, expected ${nCols} (one per gene in the header)`, {
        file,
        line,
        spot: rowName,
      });
    }
    builder.endRow();
    rowNames.push(rowName);
  }
  return { rowNames, colNames, counts: builder.build() };
}
