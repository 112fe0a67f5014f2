/**
 * Compressed sparse row matrices — the in-memory form of count matrices, the same layout as
 * scipy.sparse.csr_matrix and AnnData's `csr_matrix` encoding, so `.h5ad` I/O is a copy.
 *
 * Hand-written because no maintained npm package offers a typed-array CSR with the few
 * operations we need (row/column sums, slicing, dense conversion) without pulling in a large
 * numeric framework.
 */

export class CsrMatrix {
  /**
   * @param nRows number of rows (spots)
   * @param nCols number of columns (genes)
   * @param indptr row pointers, length nRows + 1
   * @param indices column index of each stored value, sorted within a row
   * @param data stored values
   */
  constructor(
    readonly nRows: number,
    readonly nCols: number,
    readonly indptr: Int32Array,
    readonly indices: Int32Array,
    readonly data: Float32Array,
  ) {
    if (indptr.length !== nRows + 1) {
      throw new RangeError(`CSR indptr has length ${indptr.length}, expected ${nRows + 1}`);
    }
    if (indices.length !== data.length || indptr[nRows] !== data.length) {
      throw new RangeError(
        `CSR arrays disagree: indices ${indices.length}, data ${data.length}, indptr[-1] ${
          indptr[nRows]
        }`,
      );
    }
  }

  /** Number of stored (non-zero) entries. */
  get nnz(): number {
    return this.data.length;
  }

  get shape(): [number, number] {
    return [this.nRows, this.nCols];
  }

  /** Builds a CSR matrix from a row-major dense array, storing only non-zeros. */
  static fromDense(nRows: number, nCols: number, dense: ArrayLike<number>): CsrMatrix {
    if (dense.length !== nRows * nCols) {
      throw new RangeError(`dense array has ${dense.length} values, expected ${nRows * nCols}`);
    }
    const b = new CsrBuilder(nCols);
    for (let i = 0; i < nRows; i++) {
      for (let j = 0; j < nCols; j++) {
        const v = dense[i * nCols + j];
        if (v !== 0) b.push(j, v);
      }
      b.endRow();
    }
    return b.build();
  }

  /** Value at (row, col); binary search within the row. */
  get(row: number, col: number): number {
    let lo = this.indptr[row], hi = this.indptr[row + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.indices[mid];
      if (c === col) return this.data[mid];
      if (c < col) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Row-major dense copy. */
  toDense(): Float32Array {
    const out = new Float32Array(this.nRows * this.nCols);
    for (let i = 0; i < this.nRows; i++) {
      for (let k = this.indptr[i]; k < this.indptr[i + 1]; k++) {
        out[i * this.nCols + this.indices[k]] = this.data[k];
      }
    }
    return out;
  }

  /** Sum of each row (per-spot library size). Float64 so large totals stay exact. */
  rowSums(): Float64Array {
    const out = new Float64Array(this.nRows);
    for (let i = 0; i < this.nRows; i++) {
      let s = 0;
      for (let k = this.indptr[i]; k < this.indptr[i + 1]; k++) s += this.data[k];
      out[i] = s;
    }
    return out;
  }

  /** Sum of each column. */
  colSums(): Float64Array {
    const out = new Float64Array(this.nCols);
    for (let k = 0; k < this.nnz; k++) out[this.indices[k]] += this.data[k];
    return out;
  }

  /** Number of rows in which each column is non-zero (detection count per gene). */
  colNonzeroCounts(): Int32Array {
    const out = new Int32Array(this.nCols);
    for (let k = 0; k < this.nnz; k++) if (this.data[k] !== 0) out[this.indices[k]]++;
    return out;
  }

  /** Sum of all entries. */
  sum(): number {
    let s = 0;
    for (let k = 0; k < this.nnz; k++) s += this.data[k];
    return s;
  }

  /** A new matrix with the given rows, in the given order. */
  selectRows(rows: ArrayLike<number>): CsrMatrix {
    const indptr = new Int32Array(rows.length + 1);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r];
      if (i < 0 || i >= this.nRows) throw new RangeError(`row ${i} out of range 0..${this.nRows}`);
      indptr[r + 1] = indptr[r] + this.indptr[i + 1] - this.indptr[i];
    }
    const indices = new Int32Array(indptr[rows.length]);
    const data = new Float32Array(indptr[rows.length]);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r];
      indices.set(this.indices.subarray(this.indptr[i], this.indptr[i + 1]), indptr[r]);
      data.set(this.data.subarray(this.indptr[i], this.indptr[i + 1]), indptr[r]);
    }
    return new CsrMatrix(rows.length, this.nCols, indptr, indices, data);
  }

  /**
   * A new matrix with the given columns, in the given order (used to align slices to a shared
   * gene list). Columns may repeat; the output keeps indices sorted within each row.
   */
  selectCols(cols: ArrayLike<number>): CsrMatrix {
    // Map each old column to the new positions it feeds.
    const targets: number[][] = Array.from({ length: this.nCols }, () => []);
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j];
      if (c < 0 || c >= this.nCols) {
        throw new RangeError(`column ${c} out of range 0..${this.nCols}`);
      }
      targets[c].push(j);
    }
    const b = new CsrBuilder(cols.length);
    const rowEntries: Array<[number, number]> = [];
    for (let i = 0; i < this.nRows; i++) {
      rowEntries.length = 0;
      for (let k = this.indptr[i]; k < this.indptr[i + 1]; k++) {
        for (const j of targets[this.indices[k]]) rowEntries.push([j, this.data[k]]);
      }
      rowEntries.sort((a, b) => a[0] - b[0]);
      for (const [j, v] of rowEntries) b.push(j, v);
      b.endRow();
    }
    return b.build();
  }

  /** Transposed copy (CSR of the transpose = CSC of this matrix). */
  transpose(): CsrMatrix {
    const counts = new Int32Array(this.nCols + 1);
    for (let k = 0; k < this.nnz; k++) counts[this.indices[k] + 1]++;
    for (let j = 0; j < this.nCols; j++) counts[j + 1] += counts[j];
    const indptr = counts.slice();
    const next = counts.slice(0, this.nCols);
    const indices = new Int32Array(this.nnz);
    const data = new Float32Array(this.nnz);
    for (let i = 0; i < this.nRows; i++) {
      for (let k = this.indptr[i]; k < this.indptr[i + 1]; k++) {
        const p = next[this.indices[k]]++;
        indices[p] = i;
        data[p] = this.data[k];
      }
    }
    return new CsrMatrix(this.nCols, this.nRows, indptr, indices, data);
  }
}

/** Appends rows one entry at a time; grows its buffers geometrically. */
export class CsrBuilder {
  private indptr: number[] = [0];
  private indices = new Int32Array(1024);
  private data = new Float32Array(1024);
  private n = 0;
  private lastCol = -1;

  constructor(readonly nCols: number) {}

  /** Adds value `v` at column `col` of the current row; columns must increase within a row. */
  push(col: number, v: number): void {
    if (col <= this.lastCol || col >= this.nCols) {
      throw new RangeError(
        `column ${col} out of order or range (last ${this.lastCol}, ${this.nCols} columns)`,
      );
    }
    if (this.n === this.indices.length) {
      const indices = new Int32Array(this.n * 2);
      indices.set(this.indices);
      this.indices = indices;
      const data = new Float32Array(this.n * 2);
      data.set(this.data);
      this.data = data;
    }
    this.indices[this.n] = col;
    this.data[this.n] = v;
    this.n++;
    this.lastCol = col;
  }

  endRow(): void {
    this.indptr.push(this.n);
    this.lastCol = -1;
  }

  get rows(): number {
    return this.indptr.length - 1;
  }

  build(): CsrMatrix {
    return new CsrMatrix(
      this.indptr.length - 1,
      this.nCols,
      Int32Array.from(this.indptr),
      this.indices.slice(0, this.n),
      this.data.slice(0, this.n),
    );
  }
}
