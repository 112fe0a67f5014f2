/** Figure specs as values, HTML/MIME output, and PNG/SVG rendering in headless Chromium. */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import {
  ablationCurveFigure,
  clusterMapFigure,
  enrichmentDotFigure,
  mostVariableGene,
  pccBarFigure,
  pccBoxFigure,
  predictionMapFigure,
  runtimeFigure,
  spatialExpressionFigure,
} from "../lib/plot/figures.ts";
import {
  chromiumPath,
  closeRenderer,
  exportFigure,
  figureHtml,
  figureMimeBundle,
} from "../lib/plot/export.ts";
import { thumbnailDataUri } from "../lib/io/image.ts";
import { generateSynthetic } from "../lib/mod.ts";
import { tempDir, throwsWith } from "./helpers.ts";

const slice = generateSynthetic().slices[0];
const n = slice.counts.nRows;

Deno.test("prediction map: the most variable measured gene, measured then each run, titled with its r", () => {
  // 4 spots × 2 genes; gene B varies more. Run 2 lists the genes in the other order. The r in the
  // titles are numpy's corrcoef of [0, 5, 1, 9] with [1, 4, 2, 8] (0.988) and [9, 2, 4, 1] (−0.843).
  const pixel = { x: [0, 1, 2, 3], y: [0, 0, 1, 1] };
  const measured = Float32Array.from([1, 0, 1, 5, 1, 1, 1, 9]);
  const one = {
    test: "S",
    spots: ["a", "b", "c", "d"],
    genes: ["A", "B"],
    measured,
    pixel,
    predicted: Float32Array.from([0, 1, 0, 4, 0, 2, 0, 8]),
  };
  const two = {
    ...one,
    genes: ["B", "A"],
    measured: Float32Array.from([0, 1, 5, 1, 1, 1, 9, 1]),
    predicted: Float32Array.from([9, 0, 2, 0, 4, 0, 1, 0]),
  };
  assert.equal(mostVariableGene(one), "B");
  const f = predictionMapFigure({
    gene: "B",
    runs: [{ label: "one", slice: one }, { label: "two", slice: two }],
    digits: 2,
  });
  assert.deepEqual((f.data as { name?: string }[]).length, 3);
  const titles = JSON.stringify(f.layout);
  assert.ok(titles.includes("one (r = 0.99)") && titles.includes("two (r = -0.84)"), titles);
  assert.deepEqual(
    Array.from(f.data[2].marker ? (f.data[2] as { marker: { color: number[] } }).marker.color : []),
    [9, 2, 4, 1],
  );
  assert.throws(
    () => predictionMapFigure({ gene: "C", runs: [{ label: "one", slice: one }] }),
    /gene C is not among one's 2 genes/,
  );
});

Deno.test("spatial map: one panel per source, one shared colour range over all panels, y down", async () => {
  const a = Float64Array.from({ length: n }, (_, i) => i);
  const b = Float64Array.from({ length: n }, (_, i) => 2 * i + 5);
  const bg = await thumbnailDataUri(slice.image!, 200);
  assert.ok(bg);
  assert.match(bg.source, /^data:image\/jpeg;base64,/);
  // Patches only (a HEST-Benchmark slice): nothing to draw, no error.
  assert.equal(
    await thumbnailDataUri({
      scale: 1,
      patchFile: { path: "x.h5", side: 224, rows: new Int32Array(0) },
    }),
    undefined,
  );
  const f = spatialExpressionFigure({
    gene: "ERBB2",
    background: bg,
    panels: [
      { title: "Measured", x: slice.pixel.x, y: slice.pixel.y, values: a },
      { title: "SpaHGC", x: slice.pixel.x, y: slice.pixel.y, values: b },
    ],
  });
  assert.equal(f.data.length, 2);
  assert.deepEqual(f.data.map((t) => [t.xaxis, t.yaxis]), [["x", "y"], ["x2", "y2"]]);
  // Independent 1st/99th percentile of the pooled values (nearest rank).
  const pooled = [...a, ...b].sort((x, y) => x - y);
  const q = (p: number) => pooled[Math.round(p * (pooled.length - 1))];
  const ca = f.layout.coloraxis as { cmin: number; cmax: number };
  assert.equal(ca.cmin, q(0.01));
  assert.equal(ca.cmax, q(0.99));
  for (const t of f.data) assert.equal((t.marker as { coloraxis: string }).coloraxis, "coloraxis");
  const y1 = f.layout.yaxis as { range: number[] }, x1 = f.layout.xaxis as { domain: number[] };
  const x2 = f.layout.xaxis2 as { domain: number[] };
  assert.ok(y1.range[0] > y1.range[1], "image coordinates: y grows downwards");
  assert.ok(x1.domain[1] < x2.domain[0], "panels do not overlap");
  assert.equal((f.layout.images as unknown[]).length, 2);
  assert.throws(() => spatialExpressionFigure({ gene: "g", panels: [] }), /no panels/);
});

Deno.test("cluster map, PCC bars and boxes, enrichment dots, runtime, ablation curves", () => {
  const labels = slice.labels.domain.map((l, i) => (i === 0 ? null : l));
  const c = clusterMapFigure({
    panels: [
      { title: "pathologist", x: slice.pixel.x, y: slice.pixel.y, labels },
      {
        title: "SpaHGC",
        x: slice.pixel.x,
        y: slice.pixel.y,
        labels: labels.map((l) => (l === "tumour" ? 1 : 0)),
        ari: 0.4567,
      },
    ],
  });
  for (const axis of ["x", "x2"]) {
    const pts = c.data.filter((t) => t.xaxis === axis).reduce(
      (s, t) => s + (t.x as number[]).length,
      0,
    );
    assert.equal(pts, n, `every spot drawn once in panel ${axis}`);
  }
  assert.ok(c.data.some((t) => t.name === "unlabelled"), "missing labels are drawn, not dropped");
  const titles = (c.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles, ["pathologist", "SpaHGC (ARI 0.457)"]);

  const rows = [
    { method: "ridge", slice: "B4", pcc: 0.3 },
    { method: "ridge", slice: "C2", pcc: 0.2 },
    { method: "spahgc", slice: "C2", pcc: 0.25 },
  ];
  const bars = pccBarFigure(rows);
  assert.deepEqual(bars.data.map((t) => t.name), ["ridge", "spahgc"]);
  assert.deepEqual(bars.data[1].y, [null, 0.25], "a slice a method did not predict is a gap");
  const box = pccBoxFigure(rows);
  assert.deepEqual(box.data[0].y, [0.3, 0.2]);
  assert.deepEqual(box.data[0].text, ["B4", "C2"]);

  const dots = enrichmentDotFigure([
    { source: "measured", term: "A", padj: 1e-6, overlap: 10, setSize: 50 },
    { source: "predicted", term: "A", padj: 1e-3, overlap: 6, setSize: 50 },
    { source: "measured", term: "B", padj: 0.2, overlap: 1, setSize: 9 },
    { source: "measured", term: "C", padj: 0.01, overlap: 3, setSize: 20 },
  ], { top: 2, q: 0.05 });
  assert.deepEqual((dots.layout.yaxis as { categoryarray: string[] }).categoryarray, ["C", "A"]);
  assert.deepEqual(dots.data[0].x, [6, 2]);
  assert.equal((dots.layout.shapes as { x0: number }[])[0].x0, -Math.log10(0.05));

  const rt = runtimeFigure([{ method: "ridge", seconds: 2, parameters: 1000 }, {
    method: "spahgc",
    seconds: 90,
    parameters: 2e6,
  }]);
  assert.equal(rt.data.length, 2);
  assert.deepEqual(rt.data[1].y, [1000, 2e6]);

  const ab = ablationCurveFigure([
    { parameter: "Q", value: 5, pcc: 0.3 },
    { parameter: "Q", value: 1, pcc: 0.2, std: 0.01 },
    { parameter: "K", value: 7, pcc: 0.25 },
  ]);
  assert.equal(ab.data.length, 2);
  assert.deepEqual(ab.data[0].x, [1, 5], "sorted by parameter value");
  assert.equal(ab.data[1].xaxis, "x2");
});

Deno.test("HTML is self-contained (plotly inlined, no network), MIME bundle has plotly JSON and a fallback", () => {
  const fig = pccBarFigure([{ method: "m</script>", slice: "s", pcc: 0.1 }]);
  const html = figureHtml(fig, "t");
  assert.ok(html.length > 1_000_000, "plotly.js is inlined");
  assert.ok(!/<script[^>]+src=/.test(html), "no external script is loaded");
  assert.ok(!html.includes('"m</script>"'), "figure JSON cannot close the script element");
  const b = figureMimeBundle(fig, { title: "PCC", htmlFile: "figures/x.html" });
  assert.deepEqual(Object.keys(b).sort(), [
    "application/vnd.plotly.v1+json",
    "text/html",
    "text/plain",
  ]);
  assert.deepEqual((b["application/vnd.plotly.v1+json"] as { data: unknown[] }).data, fig.data);
  assert.match(b["text/html"] as string, /figures\/x\.html/);
});

Deno.test({
  name:
    "PNG and SVG export in headless Chromium: right size, the bar's colour is drawn, manifest beside it",
  ignore: (() => {
    try {
      return chromiumPath() === null;
    } catch {
      return true;
    }
  })(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = tempDir();
    const fig = pccBarFigure([{ method: "ridge", slice: "B4", pcc: 0.3 }]);
    (fig.data[0].marker as { color: string }).color = "#ff0000";
    fig.layout.width = 400;
    fig.layout.height = 300;
    try {
      const out = await exportFigure(fig, dir, "bars", {
        formats: ["html", "png", "svg", "json"],
        params: { source: "test" },
        scale: 2,
      });
      assert.deepEqual(out.files.map((f) => f.slice(dir.length + 1)), [
        "bars.html",
        "bars.png",
        "bars.svg",
        "bars.json",
      ]);
      const png = sharp(join(dir, "bars.png"));
      const meta = await png.metadata();
      assert.deepEqual([meta.width, meta.height], [800, 600]);
      const { data, info } = await png.removeAlpha().raw().toBuffer({ resolveWithObject: true });
      let red = 0;
      for (let k = 0; k < info.width * info.height; k++) {
        if (data[3 * k] > 240 && data[3 * k + 1] < 20 && data[3 * k + 2] < 20) red++;
      }
      assert.ok(red > 5000, `the red bar covers ${red} pixels`);
      const svg = Deno.readTextFileSync(join(dir, "bars.svg"));
      assert.match(svg, /^<svg/);
      assert.match(svg, /B4/);
      assert.equal(out.svg, svg);
      const m = JSON.parse(Deno.readTextFileSync(join(dir, "bars.manifest.json")));
      assert.deepEqual(m.outputs, ["bars.html", "bars.png", "bars.svg", "bars.json"]);
      assert.equal(m.params.source, "test");
      assert.match(m.software["plotly.js"], /^\d+\.\d+\.\d+$/);
      assert.deepEqual(
        JSON.parse(Deno.readTextFileSync(join(dir, "bars.json"))),
        JSON.parse(JSON.stringify(fig)),
      );
    } finally {
      await closeRenderer();
    }
  },
});

Deno.test("a Chromium path that does not exist is a clear error", async () => {
  Deno.env.set("SPAHGC_CHROMIUM", "/nonexistent/chromium");
  try {
    await throwsWith(() => chromiumPath(), "/nonexistent/chromium", "names no file");
  } finally {
    Deno.env.delete("SPAHGC_CHROMIUM");
  }
});
