/** Tables as polars DataFrames: construction, CSV/Markdown/Parquet out and back, pandas interop. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { csvOf, dtypeName, frameOf, markdownOf, pl, rowsOf } from "../lib/table/frame.ts";
import { exportTable } from "../lib/provenance/table.ts";
import { PYTHON, tempDir } from "./helpers.ts";

Deno.test("frameOf infers every row's type, keeps column order, and types an all-null column", () => {
  const rows = [
    { method: "quoted", pcc: null, overlap: ["A"], note: undefined },
    ...Array.from({ length: 60 }, (_, i) => ({
      method: `m${i}`,
      pcc: i / 100,
      overlap: [],
      note: null,
    })),
  ];
  const df = frameOf(rows);
  assert.deepEqual(df.columns, ["method", "pcc", "overlap", "note"]);
  assert.equal(df.height, 61);
  // pcc is null in the first row and numeric after: Float64, not Null or String.
  assert.equal(dtypeName(df, "pcc"), "Float64");
  assert.equal(df.getColumn("pcc").nullCount(), 1);
  assert.equal(dtypeName(df, "note"), "Float64");
  assert.equal(dtypeName(df, "overlap"), "List");
  assert.equal(frameOf([], ["a", "b"]).width, 2);
  // Whole numbers only: Int64 (CSV says 6, not 6.0); one fraction or NaN keeps Float64.
  const n = frameOf([{ n: 6, x: 1, y: 2 }, { n: null, x: 1.5, y: Number.NaN }]);
  assert.deepEqual(n.columns.map((c) => dtypeName(n, c)), ["Int64", "Float64", "Float64"]);
  assert.equal(csvOf(n), "n,x,y\n6,1.0,2.0\n,1.5,NaN\n");
});

Deno.test("csvOf quotes per RFC 4180 and joins lists; polars reads it back unchanged", () => {
  const df = frameOf([
    { gene: 'ER"BB2', sets: ["a,b", "c"], r: 0.1 + 0.2 },
    { gene: "FASN", sets: [], r: -1e-9 },
  ]);
  const csv = csvOf(df);
  assert.equal(csv.split("\n")[0], "gene,sets,r");
  assert.match(csv, /^"ER""BB2","a,b;c",0\.30000000000000004$/m, "quoting and full precision");
  const back = pl.readCSV(csv);
  assert.deepEqual(rowsOf(back).map((r) => r.gene), ['ER"BB2', "FASN"]);
  assert.equal(rowsOf(back)[0].r, 0.1 + 0.2);
});

Deno.test("markdownOf formats numbers to fixed digits and right-aligns numeric columns", () => {
  const md = markdownOf(
    frameOf([
      { method: "a|b", pcc: 0.123456, n: 6, tiny: 1e-7, missing: null },
      { method: "c", pcc: Number.NaN, n: 5, tiny: 0.5, missing: 2 },
    ]),
    { digits: 3 },
  );
  const lines = md.trim().split("\n");
  assert.equal(lines[0], "| method | pcc | n | tiny | missing |");
  assert.equal(lines[1], "|---|---:|---:|---:|---:|");
  assert.equal(lines[2], "| a\\|b | 0.123 | 6 | 1.00e-7 |  |");
  assert.equal(lines[3], "| c | NaN | 5 | 0.500 | 2 |");
  assert.equal(markdownOf(frameOf([], ["a"])), "_(no rows)_\n");
});

Deno.test("polars expressions give the per-method summary a hand loop gives", () => {
  const rows = [];
  for (const m of ["ridge", "spahgc"]) {
    for (let s = 0; s < 6; s++) {
      rows.push({ method: m, slice: `S${s}`, pcc: 0.2 + 0.01 * s + (m === "spahgc" ? 0.03 : 0) });
    }
  }
  const summary = rowsOf(
    frameOf(rows).groupBy("method").agg(
      pl.col("pcc").mean().alias("pcc"),
      pl.col("pcc").std().alias("sd"),
      pl.col("pcc").count().alias("n"),
    ).sort("method"),
  );
  for (const s of summary) {
    const v = rows.filter((r) => r.method === s.method).map((r) => r.pcc);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
    assert.ok(Math.abs((s.pcc as number) - mean) < 1e-12);
    assert.ok(Math.abs((s.sd as number) - sd) < 1e-12, "polars std is the sample SD (ddof 1)");
    assert.equal(Number(s.n), 6);
  }
});

Deno.test("exportTable writes CSV, Markdown and a manifest from a frame", () => {
  const dir = tempDir();
  const df = frameOf([{ method: "ridge", pcc: 0.219 }, { method: "spahgc", pcc: 0.247 }]);
  const { files, manifest } = exportTable(df, dir, "t", { title: "T", notes: ["n1"] });
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ["t.csv", "t.md"]);
  assert.equal(
    Deno.readTextFileSync(join(dir, "t.csv")),
    "method,pcc\nridge,0.219\nspahgc,0.247\n",
  );
  const md = Deno.readTextFileSync(join(dir, "t.md"));
  assert.match(md, /^# T\n/);
  assert.match(md, /\| spahgc \| 0\.2470 \|/);
  assert.match(md, /- n1/);
  assert.deepEqual(manifest.outputs, ["t.csv", "t.md"]);
});

const HAVE_PYARROW = (() => {
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", "import pandas, pyarrow"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
})();
if (!HAVE_PYARROW) {
  console.warn(
    "pandas + pyarrow missing for Debian's python3 (Debian 12 packages no pyarrow): the pandas-reads-Parquet test is skipped; PYTHONPATH to a pyarrow install runs it",
  );
}

Deno.test({
  name: "a Parquet table written by polars is read by pandas with the same values and types",
  ignore: !HAVE_PYARROW,
  fn() {
    const dir = tempDir();
    const file = join(dir, "store.parquet");
    const df = frameOf([
      { id: "r1", test: "B4", seed: 0, Q: 3, alpha: null, pcc: 0.3012345678901234 },
      { id: "r2", test: "C2", seed: 2, Q: null, alpha: 0.8, pcc: -0.01 },
    ]).withColumns(pl.col("seed").cast(pl.Int32));
    df.writeParquet(file);
    const out = new Deno.Command(PYTHON, {
      args: [
        "-c",
        `import pandas as pd, json, sys
d = pd.read_parquet(sys.argv[1])
print(json.dumps({"cols": list(d.columns), "dtypes": [str(t) for t in d.dtypes], "pcc": d.pcc.tolist(), "alpha_na": d.alpha.isna().tolist(), "test": d.test.tolist()}))`,
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(r.cols, ["id", "test", "seed", "Q", "alpha", "pcc"]);
    assert.deepEqual(r.dtypes.slice(2, 3), ["int32"]);
    assert.deepEqual(r.pcc, [0.3012345678901234, -0.01]);
    assert.deepEqual(r.alpha_na, [true, false]);
    assert.deepEqual(r.test, ["B4", "C2"]);
  },
});
