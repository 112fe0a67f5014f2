/**
 * The HER2+ reader on the real 36 sections, against reference values computed independently
 * with pandas by tests/reference/her2st_counts.py (fixture: tests/fixtures/her2st_expected.json),
 * and on small malformed copies of the layout written by the tests.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  imageSize,
  loadDataset,
  readHer2st,
  readHer2stSection,
  sliceToAnnData,
  WarningLog,
  writeH5ad,
} from "../lib/mod.ts";
import { HER2ST_DIR, tempDir, throwsWith, writeText } from "./helpers.ts";

interface Expected {
  name: string;
  countRows: number;
  spotFileRows: number;
  spots: number;
  genes: number;
  totalCounts: number;
  nonzero: number;
  firstSpot: string;
  firstSpotTotal: number;
  labelledSpots: number | null;
  clusterLabelledSpots: number;
}
const expected: Expected[] = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/her2st_expected.json", import.meta.url)),
);

Deno.test({
  name: "all 36 HER2+ sections load with the spot, gene and count totals pandas computes",
  ignore: !HER2ST_DIR,
  fn() {
    const log = new WarningLog(false);
    const ds = readHer2st(HER2ST_DIR!, { log });
    assert.equal(ds.slices.length, 36);
    assert.deepEqual(ds.slices.map((s) => s.name), expected.map((e) => e.name));
    for (const [i, s] of ds.slices.entries()) {
      const e = expected[i];
      const msg = `section ${s.name}`;
      assert.equal(s.counts.nRows, e.spots, msg);
      assert.equal(s.counts.nCols, e.genes, msg);
      assert.equal(s.counts.sum(), e.totalCounts, msg);
      assert.equal(s.counts.nnz, e.nonzero, msg);
      assert.equal(s.spots[0], e.firstSpot, msg);
      assert.equal(s.counts.rowSums()[0], e.firstSpotTotal, msg);
      assert.equal(s.patient, s.name[0]);
      assert.equal(new Set(s.genes).size, s.genes.length, `${msg}: gene names unique`);
      // Array coordinates are the spot id's x and y.
      assert.equal(`${s.array.x[0]}x${s.array.y[0]}`, s.spots[0]);
      const pat = s.labels.pathologist;
      assert.equal(
        pat ? pat.filter((v) => v !== null).length : null,
        e.labelledSpots,
        `${msg} pathologist labels`,
      );
      assert.equal(
        s.labels.cluster.filter((v) => v !== null).length,
        e.clusterLabelledSpots,
        `${msg} cluster labels`,
      );
      // Every spot the join dropped is reported.
      const dropped = e.spotFileRows - e.spots;
      const warned = log.warnings.find((w) =>
        w.location.file?.endsWith(`${s.name}_selection.tsv`) && /join dropped/.test(w.message)
      );
      if (dropped > 0) {
        assert.match(
          warned?.message ?? "",
          new RegExp(`dropped ${dropped} of ${e.spotFileRows}`),
          msg,
        );
      } else assert.equal(warned, undefined, msg);
    }
    const withImage = ds.slices.filter((s) => s.image).map((s) => s.name);
    assert.deepEqual(withImage, ["A1", "B4", "C2", "C3", "C4", "C5", "C6"]);
    assert.ok(Math.abs(ds.slices[0].image!.scale - 2000 / 6954) < 1e-12);
    const a1 = ds.slices[0].labels.pathologist;
    // The label file marks 284 spots invasive cancer; 2 of them have no count row (pandas: 282).
    assert.equal(a1.filter((v) => v === "invasive cancer").length, 282);
  },
});

Deno.test({
  name: "A1's low-resolution image opens and every A1 spot falls inside it",
  ignore: !HER2ST_DIR,
  async fn() {
    const s = readHer2stSection(HER2ST_DIR!, "A1", new WarningLog(false));
    const { width, height } = await imageSize(s.image!);
    assert.equal(width, 2000);
    for (let i = 0; i < s.spots.length; i++) {
      const x = s.pixel.x[i] * s.image!.scale, y = s.pixel.y[i] * s.image!.scale;
      assert.ok(x >= 0 && x < width && y >= 0 && y < height, `spot ${s.spots[i]} at ${x},${y}`);
    }
  },
});

/** A minimal her2st layout with one section "A1". */
function layout(counts: string, spots: string): string {
  const d = tempDir();
  writeText(d, "ST-cnts/A1.tsv", counts);
  writeText(d, "ST-spotfiles/A1_selection.tsv", spots);
  return d;
}
const SPOTS =
  "x\ty\tnew_x\tnew_y\tpixel_x\tpixel_y\tselected\n1\t1\t1\t1\t100\t100\t1\n2\t1\t2\t1\t200\t100\t1\n3\t1\t3\t1\t300\t100\t1\n";

Deno.test("the count/spot-file join reports how many spots it dropped on each side", () => {
  const d = layout("\tG1\tG2\n1x1\t1\t0\n2x1\t0\t3\n9x9\t4\t4\n", SPOTS);
  const log = new WarningLog(false);
  const s = readHer2stSection(d, "A1", log);
  assert.deepEqual(s.spots, ["1x1", "2x1"]);
  assert.deepEqual(Array.from(s.pixel.x), [100, 200]);
  const msgs = log.warnings.map((w) => w.message).join("\n");
  assert.match(msgs, /join dropped 1 of 3 count rows .*9x9/);
  assert.match(msgs, /join dropped 1 of 3 selected spots/);
});

Deno.test("duplicate gene names are made unique as AnnData does, with a warning", () => {
  const d = layout("\tG1\tG2\tG1\tG1\n1x1\t1\t2\t3\t4\n", SPOTS);
  const log = new WarningLog(false);
  const s = readHer2stSection(d, "A1", log);
  assert.deepEqual(s.genes, ["G1", "G2", "G1-1", "G1-2"]);
  const w = log.warnings.find((w) => /duplicated gene name/.test(w.message));
  assert.match(w?.message ?? "", /1 duplicated gene name.*G1/);
  assert.equal(w?.location.gene, "G1");
});

Deno.test("bad HER2+ input fails with the file, line, spot or gene named", async () => {
  const d = layout("\tG1\tG2\n1x1\t1\tNA\n", SPOTS);
  await throwsWith(
    () => readHer2stSection(d, "A1"),
    "A1.tsv",
    "line 2",
    "spot 1x1",
    "gene G2",
    "'NA'",
  );
  const e = layout("\tG1\tG2\n", SPOTS);
  await throwsWith(() => readHer2stSection(e, "A1"), "A1.tsv", "no spots");
  const f = layout("\tG1\n1x1\t1\n", SPOTS);
  Deno.removeSync(join(f, "ST-spotfiles/A1_selection.tsv"));
  await throwsWith(() => readHer2stSection(f, "A1"), "A1_selection.tsv", "spot file not found");
  const g = layout("\tG1\n1x1\t1\n", "x\ty\tpixel_x\tpixel_y\n1\t1\t10\n");
  await throwsWith(() => readHer2stSection(g, "A1"), "A1_selection.tsv", "line 2", "expected 4");
  const h = layout("\tG1\n5x5\t1\n", SPOTS);
  await throwsWith(() => readHer2stSection(h, "A1"), "no count row matches");
  await throwsWith(() => readHer2st(h, { sections: ["Z9"] }), "section 'Z9' not found");
  await throwsWith(() => readHer2st(tempDir()), "no ST-cnts/ folder");
});

Deno.test("an image that does not open is a DataError naming the file", async () => {
  const d = layout("\tG1\n1x1\t1\n", SPOTS);
  const img = writeText(d, "ST-imgs/A/A1/broken.jpg", "this is not a jpeg");
  const s = readHer2stSection(d, "A1", new WarningLog(false));
  assert.equal(s.image?.path, img);
  await throwsWith(() => imageSize(s.image!), "broken.jpg", "image does not open");
});

Deno.test({
  name:
    "HER2+ exported to .h5ad and read back as a user's folder: the same spots, genes, counts, coordinates, images and labels",
  ignore: !HER2ST_DIR,
  async fn() {
    const native = readHer2st(HER2ST_DIR!, { sections: ["B4", "C2"], log: new WarningLog(false) });
    const dir = tempDir();
    for (const s of native.slices) await writeH5ad(join(dir, `${s.name}.h5ad`), sliceToAnnData(s));
    const back = await loadDataset(dir, { log: new WarningLog(false) });
    assert.deepEqual(back.slices.map((s) => s.name), ["B4", "C2"]);
    for (const [i, s] of native.slices.entries()) {
      const b = back.slices[i];
      assert.equal(b.patient, s.patient);
      assert.deepEqual(b.spots, s.spots);
      assert.deepEqual(b.genes, s.genes);
      assert.deepEqual([...b.counts.indptr], [...s.counts.indptr]);
      assert.deepEqual([...b.counts.indices], [...s.counts.indices]);
      assert.deepEqual([...b.counts.data], [...s.counts.data]);
      assert.deepEqual([...b.pixel.x], [...s.pixel.x]);
      assert.deepEqual([...b.array.y], [...s.array.y]);
      assert.equal(b.image?.path, s.image?.path);
      assert.deepEqual(b.labels, s.labels);
    }
  },
});
