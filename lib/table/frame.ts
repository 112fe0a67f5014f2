/**
 * Tables as polars DataFrames: the library's one table type. Results that are tabular (per-slice
 * and per-gene metrics, method comparisons, DE and enrichment, sweep stores) are built here or
 * handed out as `Frame`s, so a researcher can filter, group and join them with polars
 * expressions, write them with polars' own CSV/Parquet writers, and see them rendered as tables
 * in Deno's Jupyter kernel (nodejs-polars implements `Symbol.for("Jupyter.display")`: HTML plus a
 * data-resource JSON).
 *
 * What stays hand-written here, and why: nodejs-polars 0.25 has no Markdown writer (Python
 * polars' `tbl_formatting="MARKDOWN"` is not in the JS binding) and its text form is an
 * ASCII-art box that does not render in Markdown pages, so `markdownOf` formats cells itself
 * (numbers to fixed digits, lists joined).
 */
import pl from "nodejs-polars";

export { pl };
/** A polars DataFrame. */
export type Frame = pl.DataFrame;
/** One table row as plain values (what `Frame.toRecords()` gives back). */
export type Row = Record<string, unknown>;

/** Whether `x` is a polars DataFrame (not an array of rows). */
export function isFrame(x: unknown): x is Frame {
  return x !== null && typeof x === "object" && !Array.isArray(x) &&
    typeof (x as Frame).toRecords === "function" && typeof (x as Frame).columns !== "undefined";
}

/**
 * A DataFrame of rows, columns in the first row's key order (or `columns`), each column's type
 * from all its values (see `columnSeries`; polars' own inference looks at the first 50 rows only,
 * and a column that is null there would be typed null). `undefined` becomes null.
 *
 * @example
 * ```ts
 * const df = frameOf([{ method: "ridge", pcc: 0.21 }, { method: "spahgc", pcc: 0.25 }]);
 * df.filter(pl.col("pcc").gt(0.22)).getColumn("method").toArray(); // ["spahgc"]
 * ```
 */
export function frameOf(rows: readonly object[], columns?: readonly string[]): Frame {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]) : []);
  // Column by column: one typed Series each is several times faster than `pl.readRecords`, which
  // converts row objects one at a time.
  return pl.DataFrame(
    cols.map((c) => columnSeries(c, (rows as readonly Row[]).map((r) => r[c] ?? null))),
  );
}

/**
 * One column as a typed Series: numbers as Float64 — or Int64 when all are whole (JavaScript has
 * one number type; counts and seeds should print as 3, not 3.0) — strings as String, booleans
 * as Boolean, arrays as lists; a column null everywhere as Float64 (our tables are mostly
 * numbers; the nulls read the same in CSV and Markdown whatever the type); mixed kinds as their
 * text.
 */
function columnSeries(name: string, values: unknown[]): pl.Series {
  const kinds = new Set(
    values.filter((v) => v !== null).map((v) => (Array.isArray(v) ? "list" : typeof v)),
  );
  const only = kinds.size === 1 ? [...kinds][0] : kinds.size === 0 ? "null" : "mixed";
  switch (only) {
    case "null":
      return pl.Series(name, values, pl.Float64);
    case "number":
      return pl.Series(
        name,
        values,
        values.every((v) => v === null || Number.isSafeInteger(v)) ? pl.Int64 : pl.Float64,
      );
    case "bigint":
      return pl.Series(name, values, pl.Int64);
    case "string":
      return pl.Series(name, values, pl.Utf8);
    case "boolean":
      return pl.Series(name, values, pl.Bool);
    case "list":
      return pl.Series(name, values);
    default:
      return pl.Series(name, values.map((v) => (v === null ? null : String(v))), pl.Utf8);
  }
}

/** A frame of `x`, whether it is one already or rows. */
export function asFrame(x: Frame | readonly object[]): Frame {
  return isFrame(x) ? x : frameOf(x as readonly object[]);
}

/** The name of a column's type: "Float64", "String", "List", … */
export function dtypeName(df: Frame, column: string): string {
  return (df.getColumn(column).dtype as unknown as { variant: string }).variant;
}

/** The frame with list columns joined by `sep` (CSV and Markdown have no nested cells). */
function flattenLists(df: Frame, sep: string): Frame {
  const lists = df.columns.filter((c) => dtypeName(df, c) === "List");
  return lists.length
    ? df.withColumns(...lists.map((c) => pl.col(c).cast(pl.List(pl.Utf8)).lst.join(sep)))
    : df;
}

/** CSV text of a frame (polars' writer; list cells joined by ';'). */
export function csvOf(df: Frame): string {
  if (!df.width) return "";
  return flattenLists(df, ";").writeCSV().toString();
}

const cell = (v: unknown, digits: number): string => {
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return Math.abs(v) < 10 ** -digits ? v.toExponential(2) : v.toFixed(digits);
  }
  return v === null || v === undefined ? "" : String(v).replaceAll("|", "\\|");
};

/** A Markdown table of a frame (or rows), numbers to `digits`, numeric columns right-aligned. */
export function markdownOf(
  table: Frame | readonly object[],
  o: { digits?: number } = {},
): string {
  const df = flattenLists(asFrame(table), ", ");
  if (!df.height) return "_(no rows)_\n";
  const digits = o.digits ?? 4;
  const cols = df.columns;
  const numeric = cols.map((c) => df.getColumn(c).isNumeric());
  const rows = df.toRecords() as Row[];
  return [
    `| ${cols.join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c], digits)).join(" | ")} |`),
  ].join("\n") + "\n";
}

/** The rows of a frame as plain objects (`Frame.toRecords()`, typed). */
export function rowsOf<T extends object = Row>(df: Frame): T[] {
  return df.toRecords() as unknown as T[];
}

/**
 * `df.groupBy(by).agg(...aggs)` with the groups in order of first appearance (the eager
 * `groupBy` of nodejs-polars 0.25 takes no `maintainOrder`, and a table's row order should not
 * change from run to run).
 *
 * @example
 * ```ts
 * groupInOrder(perSlice, "method", pl.col("pcc").mean().alias("pcc"), pl.col("pcc").std().alias("sd"));
 * ```
 */
export function groupInOrder(df: Frame, by: string | string[], ...aggs: pl.Expr[]): Frame {
  return df.lazy().groupBy(by, true).agg(...aggs).collectSync();
}
