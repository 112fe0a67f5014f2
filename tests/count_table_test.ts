import assert from "node:assert/strict";
import { DataError, parseCountTable } from "../lib/mod.ts";
import { throwsWith } from "./helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("parses a legacy-ST count table into CSR (integers, floats, CRLF, trailing blank line)", () => {
  const t = parseCountTable(
    enc("\tG1\tG2\tG3\r\n1x2\t0\t5\t0\r\n3x4\t2.5\t0\t1e1\r\n\r\n"),
    "mem.tsv",
  );
  assert.deepEqual(t.colNames, ["G1", "G2", "G3"]);
  assert.deepEqual(t.rowNames, ["1x2", "3x4"]);
  assert.deepEqual(Array.from(t.counts.toDense()), [0, 5, 0, 2.5, 0, 10]);
  assert.equal(t.counts.nnz, 3);
});

Deno.test("non-numeric and negative counts name file, line, spot and gene", async () => {
  const e = await throwsWith(
    () => parseCountTable(enc("\tA\tB\n1x1\t1\t2\n2x2\t3\tfoo\n"), "x.tsv"),
    "x.tsv",
    "line 3",
    "spot 2x2",
    "gene B",
    "'foo'",
  );
  assert.ok(e instanceof DataError);
  assert.deepEqual((e as DataError).location, { file: "x.tsv", line: 3, spot: "2x2", gene: "B" });
  await throwsWith(
    () => parseCountTable(enc("\tA\tB\n1x1\t-4\t2\n"), "y.tsv"),
    "y.tsv",
    "line 2",
    "gene A",
    "non-negative",
  );
  await throwsWith(
    () => parseCountTable(enc("\tA\tB\n1x1\t\t2\n"), "z.tsv"),
    "gene A",
    "expected a non-negative number",
  );
});

Deno.test("rows with too few or too many values are rejected with the expected count", async () => {
  await throwsWith(
    () => parseCountTable(enc("\tA\tB\tC\n1x1\t1\t2\n"), "f.tsv"),
    "f.tsv",
    "line 2",
    "has 2 values, expected 3",
  );
  await throwsWith(() => parseCountTable(enc("\tA\n1x1\t1\t2\n"), "g.tsv"), "more than 1 values");
  await throwsWith(() => parseCountTable(enc("only\n"), "h.tsv"), "h.tsv", "no gene columns");
});
