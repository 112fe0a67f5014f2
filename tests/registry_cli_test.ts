/** Data-directory resolution, the dataset registry and the `spahgc` CLI (run as a subprocess). */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  dataDirCandidates,
  DATASETS,
  type DatasetSpec,
  defaultGeneRecipe,
  fetchDataset,
  generateSynthetic,
  loadDataset,
  METHOD_SPECS,
  type MethodSpec,
  PROJECT_ROOT,
  resolveDatasetDir,
  runExperiment,
  sliceToAnnData,
  writeH5ad,
} from "../lib/mod.ts";
import { paperName } from "../lib/notebook/paper.ts";
import { Options } from "../lib/cli/options.ts";
import { cli, cliJson, HER2ST_DIR, tempDir, throwsWith } from "./helpers.ts";

Deno.test("data directories resolve: explicit, then SPAHGC_DATA_DIR, then data/, then ../shared/data", () => {
  const env = tempDir();
  Deno.mkdirSync(join(env, "her2st", "ST-cnts"), { recursive: true });
  const before = Deno.env.get("SPAHGC_DATA_DIR");
  try {
    Deno.env.set("SPAHGC_DATA_DIR", env);
    const c = dataDirCandidates("/explicit");
    assert.deepEqual(c, [
      "/explicit",
      env,
      join(PROJECT_ROOT, "data"),
      join(PROJECT_ROOT, "..", "shared", "data"),
    ]);
    assert.equal(
      resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!),
      join(env, "her2st"),
    );
  } finally {
    before === undefined
      ? Deno.env.delete("SPAHGC_DATA_DIR")
      : Deno.env.set("SPAHGC_DATA_DIR", before);
  }
});

Deno.test("a missing dataset says where it was looked for and how to obtain it", async () => {
  const dir = tempDir();
  await throwsWith(
    () => loadDataset("her2st", { dataDir: dir }),
    `${dir}/her2st`,
    "almaan/her2st",
    "data fetch her2st",
  );
  await throwsWith(
    () => loadDataset("no-such-thing"),
    "unknown dataset 'no-such-thing'",
    "synthetic, her2st, visium_tiny",
  );
  await throwsWith(() => fetchDataset("no-such-thing"), "unknown dataset");
});

Deno.test({
  name: "fetch reports an already present dataset instead of downloading it again",
  ignore: !HER2ST_DIR,
  async fn() {
    assert.match(await fetchDataset("her2st", join(HER2ST_DIR!, "..")), /already present/);
    assert.match(await fetchDataset("synthetic"), /generated on demand/);
  },
});

Deno.test("a folder of .h5ad files loads as a dataset, subsets by slice name", async () => {
  const dir = tempDir();
  const ds = generateSynthetic({ patients: 2, sectionsPerPatient: 1, grid: 6, genes: 40 });
  for (const s of ds.slices) await writeH5ad(join(dir, `${s.name}.h5ad`), sliceToAnnData(s));
  const back = await loadDataset(dir);
  assert.deepEqual(back.slices.map((s) => s.name), ["P1_S1", "P2_S1"]);
  assert.equal(back.slices[1].counts.sum(), ds.slices[1].counts.sum());
  const sub = await loadDataset(dir, { slices: ["P2_S1"] });
  assert.deepEqual(sub.slices.map((s) => s.patient), ["P2"]);
  await throwsWith(() => loadDataset(dir, { slices: ["X"] }), "slice(s) X not in");
  await throwsWith(() => loadDataset(tempDir()), "no .h5ad files");
});

Deno.test({
  name: "CLI: data info her2st --json has the documented shape and the reference numbers",
  ignore: !HER2ST_DIR,
  fn() {
    const out = cliJson("data", "info", "her2st", "--json", "--data-dir", join(HER2ST_DIR!, ".."));
    assert.equal(out.dataset, "her2st");
    assert.equal(out.slices.length, 36);
    const expected = JSON.parse(
      Deno.readTextFileSync(new URL("./fixtures/her2st_expected.json", import.meta.url)),
    );
    assert.deepEqual(Object.keys(out.slices[0]).sort(), [
      "genes",
      "hasImage",
      "hasLabels",
      "name",
      "patient",
      "spots",
      "totalCounts",
    ]);
    out.slices.forEach((s: Record<string, unknown>, i: number) => {
      assert.equal(s.spots, expected[i].spots);
      assert.equal(s.genes, expected[i].genes);
      assert.equal(s.totalCounts, expected[i].totalCounts);
      assert.equal(s.hasLabels, true); // every section has cluster labels
    });
    assert.deepEqual(
      out.slices.filter((s: { hasImage: boolean }) => s.hasImage).map((s: { name: string }) =>
        s.name
      ),
      ["A1", "B4", "C2", "C3", "C4", "C5", "C6"],
    );
  },
});

Deno.test("CLI: help, text output, usage errors and data errors have the right exit codes", () => {
  const top = cli("--help");
  assert.equal(top.code, 0);
  assert.match(top.stdout, /data info/);
  for (
    const c of [["data", "info"], ["data", "fetch"], ["data", "list"], ["notebook", "run"], [
      "demo",
    ]]
  ) {
    const h = cli(...c, "--help");
    assert.equal(h.code, 0, c.join(" "));
    assert.match(h.stdout, /^usage: spahgc/);
  }
  const info = cli("data", "info", "synthetic");
  assert.equal(info.code, 0);
  assert.match(info.stdout, /\| P1_S1 \| P1 \| \d+ \| 120 \|/);
  assert.equal(cli("data", "info").code, 2);
  assert.equal(cli("data", "info", "synthetic", "--bogus").code, 2);
  assert.equal(cli("frobnicate").code, 2);
  const bad = cli("data", "info", "nope");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error: unknown dataset 'nope'/);
  const list = JSON.parse(cli("data", "list", "--json").stdout);
  assert.deepEqual(list.map((d: { name: string }) => d.name), [
    "synthetic",
    "her2st",
    "visium_tiny",
    "hest",
    "hest-lymph-node",
    "hest-pancreas-xenium",
    "hest-pancreas-visium",
  ]);
});

Deno.test("CLI: SpaHGC's preset and switch flags are checked before any data is read or written", () => {
  const out = tempDir();
  const usage = (args: string[], message: RegExp) => {
    const r = cli("train", "synthetic", "--out", join(out, "run"), ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  };
  usage(["--Q", "2.5"], /--Q 2\.5: expected an integer/);
  usage(["--K", "0"], /--K 0: expected an integer in \[1, 50\]/);
  usage(["--preset", "authors"], /--preset.*paper.*released/);
  usage(["--feature-scale", "zscore"], /--feature-scale.*raw.*fold/);
  usage(["--target-scale", "minmax"], /--target-scale.*fold.*section/);
  usage(["--graph-order", "random"], /--graph-order.*shuffled.*fixed/);
  usage(["--architecture", "v2"], /--architecture.*paper.*released/);
  usage(
    ["--checkpoint-every", "hourly"],
    /--checkpoint-every hourly: expected a number in \[0, 86400\]/,
  );
  // Nothing was written for a refused command.
  assert.equal([...Deno.readDirSync(out)].length, 0);
  // Help lists the switches.
  const help = cli("train", "--help").stdout;
  for (
    const f of [
      "--preset",
      "--feature-scale",
      "--target-scale",
      "--graph-order",
      "--architecture",
      "--ts",
      "--rs",
      "--checkpoint-every",
    ]
  ) {
    assert.ok(help.includes(f), f);
  }
});

Deno.test("a dataset and a method plug in by their registration alone", async () => {
  // A dataset: a spec with a folder (found by its marker file) and a loader (synthetic slices).
  const root = tempDir();
  const dir = join(root, "toy_cohort");
  Deno.mkdirSync(dir);
  Deno.writeTextFileSync(join(dir, "MARKER"), "");
  const syn = generateSynthetic();
  const spec: DatasetSpec = {
    name: "toy_cohort",
    description: "four synthetic slices, three cross-validated (test)",
    folder: "toy_cohort",
    source: "written by the test",
    markers: ["MARKER"],
    genes: "intersection",
    cvSlices: syn.slices.slice(0, 3).map((s) => s.name),
    load: (d) => ({
      name: "toy_cohort",
      slices: syn.slices.slice(0, 4),
      provenance: { ...syn.provenance, location: d! },
    }),
  };
  // A method: predicts every gene's training mean.
  const mean: MethodSpec = {
    name: "gene-mean",
    paperName: null,
    summary: "each gene's mean over the training spots (test)",
    make: () => ({
      name: "gene-mean",
      params: {},
      fit(train, _dim, G) {
        const m = new Float32Array(G);
        let n = 0;
        for (const t of train) {
          for (let k = 0; k < t.y.length; k++) m[k % G] += t.y[k];
          n += t.n;
        }
        for (let j = 0; j < G; j++) m[j] /= n;
        return { predict: (s) => Float32Array.from({ length: s.n * G }, (_, k) => m[k % G]) };
      },
    }),
  };
  DATASETS.push(spec);
  METHOD_SPECS.push(mean);
  try {
    assert.equal(defaultGeneRecipe("toy_cohort"), "intersection");
    assert.equal(await fetchDataset("toy_cohort", root), `toy_cohort already present at ${dir}`);
    const report = await runExperiment(
      { dataset: "toy_cohort", dataDir: root, method: "gene-mean", folds: [spec.cvSlices![1]] },
      { out: join(root, "run"), cacheDir: null, log: () => {} },
    );
    assert.equal(report.method, "gene-mean");
    assert.deepEqual(report.folds.map((f) => f.test), [spec.cvSlices![1]]);
    // The spec's default slices (3 of the 4 loaded) are the ones cross-validated.
    const cfg = JSON.parse(Deno.readTextFileSync(join(root, "run", "config.json")));
    assert.deepEqual(cfg.slices, spec.cvSlices);
    // A constant prediction has no per-gene correlation: every gene is excluded, PCC is NaN.
    assert.equal(report.folds[0].genesExcluded, report.genes.count);
    assert.equal(paperName("gene-mean"), null);
    assert.equal(paperName("mlp"), "STNet");
    assert.ok(METHOD_SPECS.some((m) => m.name === "gene-mean"));
  } finally {
    DATASETS.pop();
    METHOD_SPECS.pop();
  }
});

Deno.test("CLI options are typed: integers, ranges and choices are checked before anything runs", () => {
  const usage = (args: string[], re: RegExp) => {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, re);
  };
  usage(
    ["train", "synthetic", "--epochs", "2.5"],
    /--epochs 2\.5: expected an integer in \[1, 100000\]/,
  );
  usage(["train", "synthetic", "--alpha", "1.5"], /--alpha 1\.5: expected a number in \[0, 1\]/);
  usage(
    ["train", "synthetic", "--split", "donor"],
    /--split donor: expected slice, patient or dataset/,
  );
  usage(["cluster", "RUN", "--k", "1"], /--k 1: expected an integer in \[2, ∞\]/);
  usage(["sweep", "spec.json", "--retries", "x"], /--retries x: expected an integer/);
  usage(["train", "synthetic", "--no-such-flag"], /Unknown option '--no-such-flag'/);
  // Accessors refuse a misdeclared read: the program's error, not the user's.
  const o = Options.parse(["--n", "3"], { n: { type: "integer", help: "" } });
  assert.equal(o.int("n"), 3);
  assert.throws(() => o.str("n"), /declared integer, read as string/);
  assert.throws(() => o.int("m"), /not declared/);
});

Deno.test("the documented launcher (npm run -s spahgc -- …) prints clean JSON on standard output", () => {
  const r = new Deno.Command("npm", {
    args: ["run", "-s", "spahgc", "--", "methods", "--json"],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const methods = JSON.parse(new TextDecoder().decode(r.stdout));
  assert.deepEqual(
    methods.map((m: { name: string }) => m.name),
    METHOD_SPECS.map((m) => m.name),
  );
});
