import assert from "node:assert/strict";
import { CsrBuilder, CsrMatrix, Rng } from "../lib/mod.ts";

function randomDense(rng: Rng, r: number, c: number): Float32Array {
  return Float32Array.from({ length: r * c }, () => (rng.uniform() < 0.3 ? 1 + rng.int(9) : 0));
}

Deno.test("CSR round-trips a dense matrix and stores only non-zeros", () => {
  const rng = new Rng(1);
  const d = randomDense(rng, 7, 11);
  const m = CsrMatrix.fromDense(7, 11, d);
  assert.deepEqual(Array.from(m.toDense()), Array.from(d));
  assert.equal(m.nnz, d.filter((v) => v !== 0).length);
  for (let i = 0; i < 7; i++) for (let j = 0; j < 11; j++) assert.equal(m.get(i, j), d[i * 11 + j]);
});

Deno.test("row/column sums and detection counts match a dense computation", () => {
  const rng = new Rng(2);
  const d = randomDense(rng, 9, 5);
  const m = CsrMatrix.fromDense(9, 5, d);
  for (let i = 0; i < 9; i++) {
    assert.equal(
      m.rowSums()[i],
      d.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b),
    );
  }
  for (let j = 0; j < 5; j++) {
    let s = 0, n = 0;
    for (let i = 0; i < 9; i++) {
      s += d[i * 5 + j];
      n += d[i * 5 + j] !== 0 ? 1 : 0;
    }
    assert.equal(m.colSums()[j], s);
    assert.equal(m.colNonzeroCounts()[j], n);
  }
  assert.equal(m.sum(), d.reduce((a, b) => a + b));
});

Deno.test("selectRows, selectCols (with repeats) and transpose agree with dense indexing", () => {
  const rng = new Rng(3);
  const d = randomDense(rng, 6, 8);
  const m = CsrMatrix.fromDense(6, 8, d);
  const rows = [5, 0, 3, 3];
  const cols = [7, 1, 1, 4];
  const r = m.selectRows(rows);
  const c = m.selectCols(cols);
  const t = m.transpose();
  for (let a = 0; a < rows.length; a++) {
    for (let j = 0; j < 8; j++) assert.equal(r.get(a, j), d[rows[a] * 8 + j]);
  }
  for (let i = 0; i < 6; i++) {
    for (let b = 0; b < cols.length; b++) assert.equal(c.get(i, b), d[i * 8 + cols[b]]);
  }
  for (let i = 0; i < 6; i++) for (let j = 0; j < 8; j++) assert.equal(t.get(j, i), d[i * 8 + j]);
  assert.throws(() => m.selectRows([6]), /out of range/);
});

Deno.test("CSR rejects inconsistent arrays and out-of-order columns", () => {
  assert.throws(
    () => new CsrMatrix(2, 2, new Int32Array([0, 1]), new Int32Array([0]), new Float32Array([1])),
    /indptr/,
  );
  const b = new CsrBuilder(3);
  b.push(2, 1);
  assert.throws(() => b.push(1, 1), /out of order/);
});
