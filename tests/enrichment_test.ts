/** Differential expression and over-representation against scipy, GMT/CSV readers and writers. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../lib/mod.ts";
import {
  differentialExpression,
  geneList,
  hypergeometricSf,
  overRepresentation,
  readGmt,
  readGoCsv,
  writeGmt,
} from "../lib/eval/enrichment.ts";
import { csvOf, frameOf } from "../lib/table/frame.ts";
import { HAVE_ANNDATA, HER2ST_DIR, python, tempDir, throwsWith, writeText } from "./helpers.ts";

Deno.test({
  name: "hypergeometric tail and per-gene rank-sum DE equal scipy",
  ignore: !HAVE_ANNDATA,
  fn() {
    const cases = [[3, 100, 10, 12], [0, 50, 5, 5], [7, 785, 40, 60], [15, 2000, 30, 200]];
    const ref = JSON.parse(python(
      `
import json, sys
from scipy.stats import hypergeom
print(json.dumps([float(hypergeom.sf(k - 1, N, K, n)) for k, N, K, n in json.loads(sys.argv[1])]))`,
      JSON.stringify(cases),
    ));
    cases.forEach(([k, N, K, n], i) =>
      assert.ok(
        Math.abs(hypergeometricSf(k, N, K, n) - ref[i]) < 1e-12 + 1e-9 * ref[i],
        `case ${i}: ${hypergeometricSf(k, N, K, n)} vs ${ref[i]}`,
      )
    );
    const rng = new Rng(3);
    const n = 40, G = 3;
    const v = Array.from(
      { length: n * G },
      (_, k) => rng.normal() + (k % G === 0 && Math.floor(k / G) < 20 ? 1.5 : 0),
    );
    const inA = Array.from({ length: n }, (_, i) => i < 20), inB = inA.map((x) => !x);
    const de = differentialExpression(v, G, ["G0", "G1", "G2"], inA, inB);
    const mw = JSON.parse(python(
      `
import json, sys, numpy as np
from scipy.stats import mannwhitneyu
v = np.array(json.loads(sys.argv[1])).reshape(40, 3)
print(json.dumps([float(mannwhitneyu(v[:20, g], v[20:, g]).pvalue) for g in range(3)]))`,
      JSON.stringify(v),
    ));
    for (const r of de) assert.ok(Math.abs(r.pValue - mw[Number(r.gene[1])]) < 1e-10, r.gene);
    assert.equal(de[0].gene, "G0"); // the shifted gene ranks first
    assert.ok(de[0].log2FoldChange !== 0 && de[0].padj <= 1);
  },
});

Deno.test("GMT and GO-CSV gene sets read and write; enrichment finds a planted set; exports", async () => {
  const dir = tempDir();
  const gmt = writeText(
    dir,
    "s.gmt",
    "SET_A\tplanted\tG1\tG2\tG3\tG4\nSET_B\t\tG7\tG8\tG9\tG10\tG11\n",
  );
  const sets = readGmt(gmt);
  assert.deepEqual(sets.map((s) => s.genes.length), [4, 5]);
  assert.equal(writeGmt(sets), Deno.readTextFileSync(gmt));
  const universe = Array.from({ length: 200 }, (_, i) => `G${i}`);
  const res = overRepresentation(["G1", "G2", "G3", "G50", "G60"], universe, sets);
  assert.equal(res[0].set, "SET_A");
  assert.equal(res[0].overlap, 3);
  assert.ok(res[0].pValue < 1e-4 && res[1].pValue === 1);
  assert.match(
    csvOf(frameOf(res)),
    /^set,overlap,setSize,querySize,universe,pValue,padj,genes\nSET_A,3,4,5,200,/,
  );
  assert.equal(geneList(["A", "B"]), "A\nB\n");
  await throwsWith(
    () => readGmt(writeText(dir, "bad.gmt", "ONLY_NAME\n")),
    "bad.gmt",
    "line 1",
    "at least one gene",
  );
  if (HER2ST_DIR) {
    const go = readGoCsv(join(HER2ST_DIR, "go-sets", "go-0034340.csv"));
    assert.equal(go.length, 1);
    assert.equal(go[0].name, "GO:0034340");
    assert.ok(go[0].genes.includes("SP100") && go[0].genes.includes("IFI35"));
  }
});
