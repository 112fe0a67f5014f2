/** The notebook runner: real execution of the quick-start, and failure detection from executed outputs. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkExecuted, PROJECT_ROOT, runNotebook } from "../lib/mod.ts";
import type { Notebook } from "../lib/notebook/runner.ts";
import { pl } from "../lib/table/frame.ts";
import { tempDir } from "./helpers.ts";
import { checkNotebooks, jupyterAvailable } from "../lib/notebook/runner.ts";

const HAVE_JUPYTER = jupyterAvailable();
if (!HAVE_JUPYTER) {
  console.warn(
    "jupyter nbconvert missing: notebooks are tested with the deno engine only (run scripts/bootstrap.sh)",
  );
}

const nb = (cells: Notebook["cells"], expect: string[] = []): Notebook => ({
  cells,
  metadata: {
    kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
    spahgc: { expect },
  },
  nbformat: 4,
  nbformat_minor: 5,
});
const code = (source: string, extra: Partial<Notebook["cells"][0]> = {}) => ({
  cell_type: "code" as const,
  source,
  metadata: {},
  execution_count: null,
  outputs: [],
  ...extra,
});

Deno.test("checkExecuted flags error outputs, unexecuted cells, uncaught stderr and missing expected output", () => {
  const r = checkExecuted(nb([
    code("ok()", {
      execution_count: 1,
      outputs: [{ output_type: "stream", name: "stdout", text: ["fine\n"] }],
    }),
    code("boom()", {
      execution_count: 2,
      outputs: [{ output_type: "error", ename: "Error", evalue: "boom", traceback: [] }],
    }),
    code("later()"),
    code("quiet()", {
      execution_count: 3,
      outputs: [{ output_type: "stream", name: "stderr", text: "error: Uncaught TypeError: x\n" }],
    }),
    { cell_type: "markdown", source: "# text", metadata: {} },
  ], ["fine", "never printed"]));
  assert.deepEqual(r.failures.map((f) => [f.cell, f.reason.split(":")[0]]), [[1, "Error"], [
    2,
    "cell was not executed",
  ], [3, "uncaught error on stderr"]]);
  assert.deepEqual(r.missing, ["never printed"]);
});

Deno.test("deno engine: code that does not compile fails the run on its first cell", async () => {
  const dir = tempDir();
  const path = join(dir, "syntax.ipynb");
  Deno.writeTextFileSync(
    path,
    JSON.stringify(nb([code("const a = 1;"), code('const s = "unterminated;')])),
  );
  const r = await runNotebook(path, { engine: "deno", outputDir: join(dir, "out") });
  assert.equal(r.ok, false);
  assert.equal(r.failures[0].cell, 0);
  assert.match(r.failures[0].reason, /did not compile or load/);
});

const committedNotebooks = () =>
  [...Deno.readDirSync(join(PROJECT_ROOT, "notebooks"))]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => join(PROJECT_ROOT, "notebooks", e.name)).sort();

Deno.test("every committed notebook type-checks, and is committed without outputs", async () => {
  const paths = committedNotebooks();
  assert.ok(paths.length >= 14, `${paths.length} notebooks`);
  for (const c of await checkNotebooks(paths)) {
    assert.ok(c.ok, `${c.path}:\n${c.errors.join("\n")}`);
  }
  for (const p of paths) {
    const cells = (JSON.parse(Deno.readTextFileSync(p)) as Notebook).cells;
    const run = cells.filter((c) =>
      c.cell_type === "code" && (c.outputs?.length || c.execution_count)
    );
    assert.equal(
      run.length,
      0,
      `${p}: ${run.length} code cells carry outputs (commit notebooks clean)`,
    );
  }
});

Deno.test("notebook check: a type error or a lint finding fails its notebook only, naming the cell and line", async () => {
  const dir = tempDir();
  const bad = join(dir, "bad.ipynb"), good = join(dir, "good.ipynb");
  const linty = join(dir, "linty.ipynb");
  Deno.writeTextFileSync(
    bad,
    JSON.stringify(
      nb([
        code("const a: number = 1;\nconsole.log(a);"),
        code('const b = 2;\nconst c: number = "x";\nconsole.log(b, c);'),
      ]),
    ),
  );
  Deno.writeTextFileSync(good, JSON.stringify(nb([code("const a: number = 1;\nconsole.log(a);")])));
  Deno.writeTextFileSync(
    linty,
    JSON.stringify(nb([code("console.log(0);"), code("let x = 1;\nconsole.log(x);")])),
  );
  const [b, g, l] = await checkNotebooks([bad, good, linty]);
  assert.equal(g.ok, true, g.errors.join("\n"));
  assert.equal(b.ok, false);
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0], /TS2322/);
  assert.ok(b.errors[0].includes(`${bad}, cell 2 line 2:`), b.errors[0]);
  assert.equal(l.ok, false);
  assert.equal(l.errors.length, 1, l.errors.join("\n"));
  assert.match(l.errors[0], /lint prefer-const/);
  assert.ok(l.errors[0].includes(`${linty}, cell 2 line 1:`), l.errors[0]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "bad.ipynb",
    "good.ipynb",
    "linty.ipynb",
  ]);
});

for (const engine of ["jupyter", "deno"] as const) {
  Deno.test({
    name: `${engine} engine: a throwing cell fails the run and later cells are reported unexecuted`,
    ignore: engine === "jupyter" && !HAVE_JUPYTER,
    async fn() {
      const dir = tempDir();
      const path = join(dir, "bad.ipynb");
      Deno.writeTextFileSync(
        path,
        JSON.stringify(
          nb([
            code("console.log('first');"),
            code("throw new Error('kaput');"),
            code("console.log('third');"),
          ], ["first"]),
        ),
      );
      const r = await runNotebook(path, { engine, outputDir: join(dir, "out") });
      assert.equal(r.ok, false);
      assert.equal(r.engine, engine);
      assert.match(r.failures[0].reason, /kaput/);
      assert.equal(r.failures[0].cell, 1);
      const executed = JSON.parse(Deno.readTextFileSync(r.executed));
      assert.equal(executed.cells.length, 3);
    },
  });

  Deno.test({
    name:
      `${engine} engine: the quick-start notebook runs clean and writes its outputs with a manifest`,
    ignore: engine === "jupyter" && !HAVE_JUPYTER,
    async fn() {
      const out = tempDir();
      const r = await runNotebook(join(PROJECT_ROOT, "notebooks/00_quickstart.ipynb"), {
        engine,
        outputDir: join(out, "executed"),
        env: { SPAHGC_PARAMS: JSON.stringify({ out: join(out, "results"), seed: 11 }) },
      });
      assert.deepEqual(r.failures, []);
      assert.deepEqual(r.missing, []);
      assert.ok(r.ok);
      const manifest = JSON.parse(Deno.readTextFileSync(join(out, "results", "manifest.json")));
      assert.equal(manifest.params.seed, 11);
      assert.equal(manifest.dataset.slices.length, 6);
      assert.equal(manifest.outputs.filter((o: string) => o.startsWith("slices/")).length, 6);
      assert.equal(manifest.outputs.filter((o: string) => o.startsWith("ridge/")).length, 6);
      const ridge = JSON.parse(Deno.readTextFileSync(join(out, "results", "ridge_report.json")));
      assert.ok(ridge.mean.pcc > 0.15, `quick-start ridge PCC ${ridge.mean.pcc}`);
      for (const o of manifest.outputs) {
        assert.ok(Deno.statSync(join(out, "results", o)).size > 0, o);
      }
    },
  });
}

Deno.test({
  name:
    "jupyter engine: each cell's last outputs reach the executed copy, which shows the cells as written",
  ignore: !HAVE_JUPYTER,
  async fn() {
    // Without the runner's pause at each cell's end, a notebook like this lost 1–2 of its 24
    // outputs in most runs under Deno's kernel (see SETTLE in runner.ts).
    const dir = tempDir();
    const path = join(dir, "outputs.ipynb");
    const cells = Array.from({ length: 12 }, (_, i) =>
      code(
        `console.log("printed ${i}");\n` +
          `await Deno.jupyter.display({ "text/plain": "shown ${i}" }, { raw: true });`,
      ));
    const written = [...cells, code("const answer = 6 * 7;\nanswer")];
    Deno.writeTextFileSync(path, JSON.stringify(nb(written)));
    const r = await runNotebook(path, { engine: "jupyter", outputDir: join(dir, "out") });
    assert.ok(r.ok, JSON.stringify(r.failures));
    const executed = JSON.parse(Deno.readTextFileSync(r.executed)) as Notebook;
    const text = (o: Record<string, unknown>) =>
      [o.text ?? (o.data as Record<string, unknown>)?.["text/plain"]].flat().join("");
    executed.cells.slice(0, 12).forEach((c, i) => {
      const outs = (c.outputs ?? []).map((o) => text(o as Record<string, unknown>).trim());
      assert.deepEqual(outs, [`printed ${i}`, `shown ${i}`], `cell ${i}`);
    });
    // A cell ending in an expression is run as written (its value, sent by the kernel itself, is
    // beyond a pause's reach: it went missing once in 15 runs, so none is asserted here).
    assert.deepEqual(
      executed.cells.map((c) => [c.source].flat().join("")),
      written.map((c) => c.source),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "out",
      "outputs.ipynb",
    ]);
  },
});

/** The paper notebooks, each in the quick profile, all writing under one temporary figures root. */
const PAPER_NOTEBOOKS = [...Deno.readDirSync(join(PROJECT_ROOT, "notebooks"))]
  .filter((e) => e.name.endsWith(".ipynb"))
  .map((e) => e.name.replace(/\.ipynb$/, ""))
  .filter((n) => n !== "00_quickstart" && !n.includes("."))
  .sort();
const figuresRoot = tempDir();
for (const name of PAPER_NOTEBOOKS) {
  Deno.test({
    name:
      `paper notebook ${name} runs clean in the quick profile and writes tables and figures with manifests`,
    async fn() {
      const r = await runNotebook(join(PROJECT_ROOT, "notebooks", `${name}.ipynb`), {
        engine: HAVE_JUPYTER ? "jupyter" : "deno",
        outputDir: join(figuresRoot, name, "executed"),
        env: { SPAHGC_FIGURES_DIR: figuresRoot, SPAHGC_PROFILE: "quick" },
      });
      assert.deepEqual(r.failures, [], `${name}: ${JSON.stringify(r.failures)}`);
      assert.deepEqual(r.missing, []);
      const dir = join(figuresRoot, name);
      const manifest = JSON.parse(Deno.readTextFileSync(join(dir, "manifest.json")));
      assert.equal(manifest.params.profile, "quick");
      if (HAVE_JUPYTER && manifest.outputs.some((o: string) => o.endsWith(".csv"))) {
        // Under the kernel a table shows as the DataFrame renders itself (polars' HTML table),
        // with the Markdown form as its plain text.
        const executed = JSON.parse(Deno.readTextFileSync(r.executed));
        const bundles = executed.cells.flatMap((
          c: { outputs?: { data?: Record<string, unknown> }[] },
        ) => (c.outputs ?? []).map((o) => o.data ?? {}));
        const html = (b: Record<string, unknown>) => [b["text/html"]].flat().join("");
        const tables = bundles.filter((b: Record<string, unknown>) => /<table/.test(html(b)));
        assert.ok(tables.length > 0, `${name}: no table rendered as HTML`);
        assert.ok(
          tables.every((b: Record<string, unknown>) =>
            /^\| .* \|$/m.test([b["text/plain"]].flat().join(""))
          ),
          `${name}: a table without its Markdown text form`,
        );
      }
      assert.ok(manifest.outputs.length > 0);
      for (const o of manifest.outputs) {
        assert.ok(Deno.statSync(join(dir, o)).size > 0, o);
        if (o.endsWith(".csv")) {
          const m = join(dir, o.replace(/\.csv$/, ".manifest.json"));
          assert.ok(Deno.statSync(m).size > 0, `${o} has its manifest`);
        }
      }
      // The notebooks' CSV tables, read back by polars with their header.
      const csv = (f: string) => pl.readCSV(join(dir, f)).toRecords();
      if (name === "table1_benchmark") {
        const sources = csv("table1.csv").map((r) => String(r.source));
        assert.equal(sources.filter((s) => s === "measured").length, 9);
        assert.equal(sources.filter((s) => s.startsWith("quoted")).length, 10);
      }
      if (name === "table3_encoder_ablation") {
        const pcc = csv("measured.csv").map((r) => Number(r.pccPercent));
        assert.ok(Math.abs(pcc[0] - pcc[1]) < 0.05, `built-in vs precomputed PCC %: ${pcc}`);
      }
      if (name === "leakage_study") {
        const rows = csv("leakage.csv").map((r) => ({
          setting: String(r.setting),
          pcc: Number(r.pccPercent),
        }));
        assert.equal(rows.length, 6);
        const pccOf = (s: string) => rows.find((r) => r.setting.includes(s))!.pcc;
        // Same seed, same training slices, same steps: the test-set row only chooses its epoch,
        // the fixed-budget row takes the last, so it can never be ahead.
        assert.ok(
          pccOf("TEST-SET") >= pccOf("fixed epoch budget") - 1e-9,
          `test-set ${pccOf("TEST-SET")} vs fixed ${pccOf("fixed epoch budget")}`,
        );
      }
    },
  });
}
