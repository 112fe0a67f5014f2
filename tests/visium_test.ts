/** The Visium reader on a fixture this test writes (HDF5 through h5wasm) and on scanpy's tiny real folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import sharp from "sharp";
import { readVisium, WarningLog } from "../lib/mod.ts";
import {
  HAVE_ANNDATA,
  python,
  tempDir,
  throwsWith,
  VISIUM_TINY_DIR,
  writeText,
} from "./helpers.ts";

/**
 * 3 features (2 genes, one a duplicate symbol, + 1 antibody) × 4 barcodes, stored as Space
 * Ranger does: genes × barcodes in CSC (indptr over barcodes).
 */
async function writeFixture(dir: string, positionsWithHeader: boolean): Promise<void> {
  await h5wasm.ready;
  const dense = [ // barcode-major: rows = barcodes, cols = features
    [1, 0, 5],
    [0, 2, 0],
    [3, 4, 1],
    [0, 0, 0],
  ];
  const data: number[] = [], indices: number[] = [], indptr = [0];
  for (const row of dense) {
    row.forEach((v, j) => {
      if (v) {
        data.push(v);
        indices.push(j);
      }
    });
    indptr.push(data.length);
  }
  const f = new h5wasm.File(join(dir, "filtered_feature_bc_matrix.h5"), "w");
  const m = f.create_group("matrix");
  m.create_dataset({ name: "data", data: new Int32Array(data) });
  m.create_dataset({ name: "indices", data: new Int32Array(indices) });
  m.create_dataset({ name: "indptr", data: new Int32Array(indptr) });
  m.create_dataset({ name: "shape", data: new Int32Array([3, 4]) });
  m.create_dataset({ name: "barcodes", data: ["AAA-1", "CCC-1", "GGG-1", "TTT-1"] });
  const ft = m.create_group("features");
  ft.create_dataset({ name: "name", data: ["GENE1", "GENE1", "CD3_TotalSeqB"] });
  ft.create_dataset({ name: "id", data: ["ENSG1", "ENSG2", "AB1"] });
  ft.create_dataset({
    name: "feature_type",
    data: ["Gene Expression", "Gene Expression", "Antibody Capture"],
  });
  f.close();
  const rows = [
    "AAA-1,1,0,1,1000,2000",
    "CCC-1,1,0,3,1000,2200",
    "GGG-1,1,1,2,1100,2100",
    "XXX-1,0,5,5,9,9",
  ];
  if (positionsWithHeader) {
    writeText(
      dir,
      "spatial/tissue_positions.csv",
      "barcode,in_tissue,array_row,array_col,pxl_row_in_fullres,pxl_col_in_fullres\n" +
        rows.join("\n") + "\n",
    );
  } else {
    writeText(dir, "spatial/tissue_positions_list.csv", rows.join("\n") + "\n");
  }
  writeText(
    dir,
    "spatial/scalefactors_json.json",
    JSON.stringify({ tissue_hires_scalef: 0.25, tissue_lowres_scalef: 0.05 }),
  );
  await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 230, g: 170, b: 200 } },
  }).png().toFile(join(dir, "spatial/tissue_hires_image.png"));
}

for (const header of [true, false]) {
  Deno.test(`reads a Space Ranger outs/ fixture (${header ? "tissue_positions.csv" : "tissue_positions_list.csv"})`, async () => {
    const dir = tempDir();
    await writeFixture(dir, header);
    const log = new WarningLog(false);
    const s = await readVisium(dir, { name: "fx", log });
    // TTT-1 has no position → left out, reported; antibody feature left out, reported.
    assert.deepEqual(s.spots, ["AAA-1", "CCC-1", "GGG-1"]);
    assert.deepEqual(s.genes, ["GENE1", "GENE1-1"]);
    assert.deepEqual(Array.from(s.counts.toDense()), [1, 0, 0, 2, 3, 4]);
    assert.deepEqual(Array.from(s.pixel.x), [2000, 2200, 2100]); // pxl_col
    assert.deepEqual(Array.from(s.pixel.y), [1000, 1000, 1100]); // pxl_row
    assert.deepEqual(Array.from(s.array.x), [1, 3, 2]); // array_col
    assert.equal(s.image?.scale, 0.25);
    assert.match(s.image!.path!, /tissue_hires_image.png$/);
    const msgs = log.warnings.map((w) => w.message).join("\n");
    assert.match(msgs, /1 non-gene-expression features left out/);
    assert.match(msgs, /1 of 4 barcodes have no tissue position/);
    assert.match(msgs, /duplicated gene name/);
  });
}

Deno.test("Visium errors name the missing file", async () => {
  const dir = tempDir();
  await throwsWith(() => readVisium(dir), "filtered_feature_bc_matrix.h5", "not found");
  await writeFixture(dir, true);
  Deno.removeSync(join(dir, "spatial/tissue_positions.csv"));
  await throwsWith(() => readVisium(dir), "tissue_positions_list.csv", "not found");
  writeText(dir, "filtered_feature_bc_matrix.h5", "not hdf5");
  await throwsWith(
    () => readVisium(dir),
    "filtered_feature_bc_matrix.h5",
    "not a readable HDF5 file",
  );
});

Deno.test({
  name: "scanpy's tiny Visium folder reads with the totals h5py computes",
  ignore: !VISIUM_TINY_DIR || !HAVE_ANNDATA,
  async fn() {
    const s = await readVisium(VISIUM_TINY_DIR!);
    const ref = JSON.parse(python(
      `
import h5py, json, sys
f = h5py.File(sys.argv[1] + "/filtered_feature_bc_matrix.h5", "r")["matrix"]
print(json.dumps({"nnz": int(f["data"].shape[0]), "sum": float(f["data"][:].sum()), "shape": [int(v) for v in f["shape"][:]],
                  "first": f["barcodes"][0].decode()}))`,
      VISIUM_TINY_DIR!,
    ));
    assert.deepEqual(s.counts.shape, [ref.shape[1], ref.shape[0]]);
    assert.equal(s.counts.nnz, ref.nnz);
    assert.equal(s.counts.sum(), ref.sum);
    assert.equal(s.spots[0], ref.first);
  },
});
