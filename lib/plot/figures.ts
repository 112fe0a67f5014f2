/**
 * Figures as data: each function maps results to a plotly.js figure spec (`{data, layout}`) and
 * does nothing else — no I/O, no randomness — so a figure can be tested as a value, shown in a
 * notebook as a MIME bundle, or exported to HTML/PNG/SVG by `export.ts`. The layouts follow the
 * paper's figures: spatial maps on the H&E thumbnail (Fig. 3), per-slice PCC bars and boxes
 * (Figs. S1–S3), cluster maps with ARI (S9–S10), enrichment dots and bars (S11), runtime and
 * parameter bars (S12), and ablation curves over Q, K, α, β.
 */
import { pearsonColumn } from "../eval/metrics.ts";

/** A plotly.js figure: plain JSON, as `Plotly.newPlot(el, data, layout)` takes it. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** An image placed under spatial panels, spanning [0, width] × [0, height] in spot pixel units. */
export interface Background {
  /** A data URI (or URL) of the image. */
  source: string;
  width: number;
  height: number;
}

/** Colours for categories (Okabe–Ito, colour-blind safe), then Plotly's defaults. */
export const CATEGORY_COLOURS = [
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#F0E442",
  "#0072B2",
  "#D55E00",
  "#CC79A7",
  "#000000",
  "#8c8c8c",
  "#8c564b",
  "#2ca02c",
  "#d62728",
];

const FONT = { family: "Helvetica, Arial, sans-serif", size: 12 };

/** Layout shared by the chart figures: title (or none, then a slim top margin), font, white. */
function chartLayout(title?: string): Record<string, unknown> {
  return {
    title: title ? { text: title, x: 0.01 } : undefined,
    margin: { l: 70, r: 20, t: title ? 50 : 20, b: 60 },
    font: FONT,
    plot_bgcolor: "white",
    paper_bgcolor: "white",
  };
}

/** Axis ids for panel i (0-based): "x"/"y", then "x2"/"y2", … */
const axisId = (letter: "x" | "y", i: number) => (i === 0 ? letter : `${letter}${i + 1}`);
const layoutKey = (letter: "x" | "y", i: number) =>
  i === 0 ? `${letter}axis` : `${letter}axis${i + 1}`;

/**
 * Layout pieces for `n` spatial panels in one row: equal-aspect axes without ticks, y pointing
 * down (image coordinates), one shared extent so panels line up, titles as annotations, and the
 * spatial figures' shared margins, font and white background.
 */
function spatialPanels(
  titles: string[],
  extent: { x0: number; x1: number; y0: number; y1: number },
  background?: Background,
): Record<string, unknown> {
  const n = titles.length, gap = 0.02;
  const w = (1 - gap * (n - 1)) / n;
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const images: Record<string, unknown>[] = [];
  titles.forEach((t, i) => {
    const x0 = i * (w + gap);
    layout[layoutKey("x", i)] = {
      domain: [x0, x0 + w],
      range: [extent.x0, extent.x1],
      visible: false,
      constrain: "domain",
    };
    layout[layoutKey("y", i)] = {
      domain: [0, 0.9],
      range: [extent.y1, extent.y0],
      visible: false,
      scaleanchor: axisId("x", i),
      scaleratio: 1,
      constrain: "domain",
    };
    annotations.push({
      text: wrap(t),
      // Placed on the panel's drawn domain (after the equal-aspect constraint shrinks it).
      x: 0.5,
      y: 1.01,
      xref: `${axisId("x", i)} domain`,
      yref: `${axisId("y", i)} domain`,
      yanchor: "bottom",
      showarrow: false,
      font: { ...FONT, size: 13 },
    });
    if (background) {
      images.push({
        source: background.source,
        xref: axisId("x", i),
        yref: axisId("y", i),
        x: 0,
        y: 0,
        sizex: background.width,
        sizey: background.height,
        xanchor: "left",
        yanchor: "top",
        sizing: "stretch",
        layer: "below",
        opacity: 0.9,
      });
    }
  });
  return {
    ...layout,
    annotations,
    images,
    margin: { l: 10, r: 10, t: 60, b: 10 },
    font: FONT,
    plot_bgcolor: "white",
    paper_bgcolor: "white",
  };
}

/** Breaks a panel title into lines of at most `width` characters (plotly does not wrap). */
function wrap(text: string, width = 34): string {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(" ")) {
    if (cur && (cur + " " + word).length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines.join("<br>");
}

/** Figure size for `n` panels of the tissue's aspect ratio, plus room for legend/colour bar. */
function spatialSize(
  extent: { x0: number; x1: number; y0: number; y1: number },
  n: number,
  side: number,
): { width: number; height: number } {
  const panel = 300;
  const aspect = (extent.y1 - extent.y0) / Math.max(1e-9, extent.x1 - extent.x0);
  return {
    width: panel * n + side,
    height: Math.round(Math.min(700, Math.max(220, panel * aspect)) + 90),
  };
}

function extentOf(
  panels: { x: ArrayLike<number>; y: ArrayLike<number> }[],
  background?: Background,
  margin = 0.04,
) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of panels) {
    for (let i = 0; i < p.x.length; i++) {
      x0 = Math.min(x0, p.x[i]);
      x1 = Math.max(x1, p.x[i]);
      y0 = Math.min(y0, p.y[i]);
      y1 = Math.max(y1, p.y[i]);
    }
  }
  const mx = (x1 - x0) * margin || 1, my = (y1 - y0) * margin || 1;
  const e = { x0: x0 - mx, x1: x1 + mx, y0: y0 - my, y1: y1 + my };
  // Only the tissue's bounding box is shown even when the thumbnail is larger.
  if (background) {
    e.x0 = Math.max(0, e.x0);
    e.y0 = Math.max(0, e.y0);
    e.x1 = Math.min(background.width, e.x1);
    e.y1 = Math.min(background.height, e.y1);
  }
  return e;
}

export interface SpatialPanel {
  /** Panel title, e.g. "Measured" or "SpaHGC (r = 0.41)". */
  title: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * One gene's expression on the tissue, one panel per source (measured, then methods), on one
 * shared colour scale whose range spans every panel (robust: 1st–99th percentile), as Fig. 3.
 */
export function spatialExpressionFigure(o: {
  gene: string;
  panels: SpatialPanel[];
  background?: Background;
  /** Marker diameter in screen px (default 7). */
  spotSize?: number;
  colorscale?: string;
  /** Colour range; default: 1st–99th percentile over all panels. */
  range?: [number, number];
  scaleLabel?: string;
}): Figure {
  if (!o.panels.length) throw new RangeError("spatialExpressionFigure: no panels");
  const all = o.panels.flatMap((p) => Array.from(p.values)).filter(Number.isFinite).sort((a, b) =>
    a - b
  );
  const q = (f: number) =>
    all[Math.min(all.length - 1, Math.max(0, Math.round(f * (all.length - 1))))];
  const [cmin, cmax] = o.range ?? [q(0.01), q(0.99)];
  const data = o.panels.map((p, i) => ({
    type: "scatter",
    mode: "markers",
    name: p.title,
    x: Array.from(p.x),
    y: Array.from(p.y),
    xaxis: axisId("x", i),
    yaxis: axisId("y", i),
    marker: { color: Array.from(p.values), coloraxis: "coloraxis", size: o.spotSize ?? 7 },
    hovertemplate: `${o.gene}: %{marker.color:.3f}<extra>${p.title}</extra>`,
    showlegend: false,
  }));
  const extent = extentOf(o.panels, o.background);
  return {
    data,
    layout: {
      ...spatialPanels(
        o.panels.map((p) => p.title),
        extent,
        o.background,
      ),
      title: { text: o.gene, font: { ...FONT, size: 15 }, x: 0.01 },
      coloraxis: {
        colorscale: o.colorscale ?? "Viridis",
        cmin,
        cmax,
        colorbar: { title: { text: o.scaleLabel ?? "ln(1 + CPM)" }, thickness: 12, len: 0.8 },
      },
      ...spatialSize(extent, o.panels.length, 120),
    },
  };
}

/** What a prediction map needs of a run's test slice (`RunSlice` of eval/runs.ts has it). */
export interface PredictedSlice {
  test: string;
  spots: string[];
  genes: string[];
  /** spots × genes, row-major. */
  predicted: Float32Array;
  measured: Float32Array;
  pixel: { x: ArrayLike<number>; y: ArrayLike<number> };
}

/** The gene with the largest measured variance on a slice: a choice from the data alone. */
export function mostVariableGene(s: PredictedSlice): string {
  const G = s.genes.length, n = s.spots.length;
  let best = 0, bestVar = -Infinity;
  for (let g = 0; g < G; g++) {
    let a = 0, b = 0;
    for (let i = 0; i < n; i++) {
      const v = s.measured[i * G + g];
      a += v;
      b += v * v;
    }
    const variance = b / n - (a / n) ** 2;
    if (variance > bestVar) [best, bestVar] = [g, variance];
  }
  return s.genes[best];
}

/**
 * One gene measured and as each run predicted it on the same test slice, on one colour scale,
 * each panel titled with the run's Pearson r for that gene.
 */
export function predictionMapFigure(o: {
  gene: string;
  runs: { label: string; slice: PredictedSlice }[];
  background?: Background;
  /** Decimals of r in the titles (default 3). */
  digits?: number;
}): Figure {
  const first = o.runs[0].slice;
  const panel = (title: string, s: PredictedSlice, x: Float32Array): SpatialPanel => {
    const G = s.genes.length, g = s.genes.indexOf(o.gene);
    return {
      title,
      x: s.pixel.x,
      y: s.pixel.y,
      values: Float64Array.from(s.spots, (_, i) => x[i * G + g]),
    };
  };
  for (const r of o.runs) {
    if (!r.slice.genes.includes(o.gene)) {
      throw new RangeError(
        `gene ${o.gene} is not among ${r.label}'s ${r.slice.genes.length} genes`,
      );
    }
  }
  const r = (s: PredictedSlice) => {
    const v = pearsonColumn(
      s.predicted,
      s.measured,
      s.spots.length,
      s.genes.length,
      s.genes.indexOf(o.gene),
    );
    return Number.isNaN(v) ? "undefined" : v.toFixed(o.digits ?? 3);
  };
  return spatialExpressionFigure({
    gene: `${o.gene} — ${first.test}`,
    background: o.background,
    panels: [
      panel("measured", first, first.measured),
      ...o.runs.map((x) => panel(`${x.label} (r = ${r(x.slice)})`, x.slice, x.slice.predicted)),
    ],
  });
}

export interface ClusterPanel {
  title: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** A category per spot (cluster id or region name). */
  labels: (string | number | null)[];
  /** ARI against the reference, shown in the title when given. */
  ari?: number;
}

/**
 * Spot clusters on the tissue, one panel per source (reference labels, measured clusters,
 * predicted clusters …), categories coloured consistently within each panel, ARI in titles.
 */
export function clusterMapFigure(
  o: { title?: string; panels: ClusterPanel[]; background?: Background; spotSize?: number },
): Figure {
  const data: Record<string, unknown>[] = [];
  o.panels.forEach((p, i) => {
    const cats = [...new Set(p.labels.map((l) => (l === null ? "unlabelled" : String(l))))].sort();
    cats.forEach((c, ci) => {
      const idx = p.labels.flatMap((
        l,
        k,
      ) => ((l === null ? "unlabelled" : String(l)) === c ? [k] : []));
      data.push({
        type: "scatter",
        mode: "markers",
        name: c,
        legendgroup: `${i}:${c}`,
        legendgrouptitle: ci === 0 ? { text: p.title } : undefined,
        x: idx.map((k) => p.x[k]),
        y: idx.map((k) => p.y[k]),
        xaxis: axisId("x", i),
        yaxis: axisId("y", i),
        marker: {
          color: c === "unlabelled" ? "#bbbbbb" : CATEGORY_COLOURS[ci % CATEGORY_COLOURS.length],
          size: o.spotSize ?? 7,
        },
      });
    });
  });
  const titles = o.panels.map((
    p,
  ) => (p.ari === undefined ? p.title : `${p.title} (ARI ${p.ari.toFixed(3)})`));
  const extent = extentOf(o.panels, o.background);
  return {
    data,
    layout: {
      ...spatialPanels(titles, extent, o.background),
      title: o.title ? { text: o.title, font: { ...FONT, size: 15 }, x: 0.01 } : undefined,
      legend: { groupclick: "toggleitem", font: { ...FONT, size: 10 } },
      ...spatialSize(extent, o.panels.length, 190),
    },
  };
}

/** One method's PCC on one slice. */
export interface PccRow {
  method: string;
  slice: string;
  pcc: number;
}

function methodsInOrder(rows: { method: string }[]): string[] {
  return [...new Set(rows.map((r) => r.method))];
}

/** Per-slice PCC as grouped bars, one colour per method (Figs. S1–S3). */
export function pccBarFigure(rows: PccRow[], o: { title?: string; yLabel?: string } = {}): Figure {
  const slices = [...new Set(rows.map((r) => r.slice))];
  const data = methodsInOrder(rows).map((m, i) => {
    const by = new Map(rows.filter((r) => r.method === m).map((r) => [r.slice, r.pcc]));
    return {
      type: "bar",
      name: m,
      x: slices,
      y: slices.map((s) => by.get(s) ?? null),
      marker: { color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
      hovertemplate: `${m} %{x}: %{y:.4f}<extra></extra>`,
    };
  });
  return {
    data,
    layout: {
      barmode: "group",
      ...chartLayout(o.title),
      xaxis: { title: { text: "test slice" }, type: "category" },
      yaxis: { title: { text: o.yLabel ?? "PCC (mean over genes)" }, zeroline: true },
      width: Math.max(500, 60 * slices.length * Math.max(1, data.length / 2) + 200),
      height: 380,
      legend: { orientation: "h", y: -0.2 },
    },
  };
}

/** Distribution of per-slice PCC per method as boxes with every slice shown as a point. */
export function pccBoxFigure(
  rows: PccRow[],
  o: { title?: string; yLabel?: string; points?: boolean } = {},
): Figure {
  const data = methodsInOrder(rows).map((m, i) => {
    const rs = rows.filter((r) => r.method === m);
    return {
      type: "box",
      name: m,
      y: rs.map((r) => r.pcc),
      text: rs.map((r) => r.slice),
      boxpoints: o.points === false ? "outliers" : "all",
      jitter: 0.3,
      pointpos: 0,
      marker: { color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
      hovertemplate: "%{text}: %{y:.4f}<extra></extra>",
    };
  });
  return {
    data,
    layout: {
      ...chartLayout(o.title),
      yaxis: { title: { text: o.yLabel ?? "per-slice PCC" } },
      showlegend: false,
      width: Math.max(400, 110 * data.length + 150),
      height: 380,
    },
  };
}

/** One enriched term of one source (e.g. "predicted" / "measured"). */
export interface EnrichmentPoint {
  source: string;
  term: string;
  padj: number;
  overlap: number;
  setSize: number;
}

/**
 * Enrichment dot plot (S11): terms on y, −log10 adjusted p on x, dot size = overlap, one colour
 * per source; the `top` terms by best adjusted p across sources are shown.
 */
export function enrichmentDotFigure(
  points: EnrichmentPoint[],
  o: { title?: string; top?: number; q?: number } = {},
): Figure {
  const best = new Map<string, number>();
  for (const p of points) best.set(p.term, Math.min(best.get(p.term) ?? 1, p.padj));
  const terms = [...best.entries()].sort((a, b) => a[1] - b[1]).slice(0, o.top ?? 15).map((e) =>
    e[0]
  ).reverse();
  const keep = new Set(terms);
  const short = (t: string) => (t.length > 60 ? t.slice(0, 57) + "…" : t);
  const maxOverlap = Math.max(1, ...points.map((p) => p.overlap));
  const data: Record<string, unknown>[] = methodsInOrder(
    points.map((p) => ({ method: p.source })),
  ).map((src, i) => {
    const ps = points.filter((p) => p.source === src && keep.has(p.term));
    return {
      type: "scatter",
      mode: "markers",
      name: src,
      x: ps.map((p) => -Math.log10(Math.max(p.padj, 1e-300))),
      y: ps.map((p) => short(p.term)),
      text: ps.map((p) => `${p.overlap}/${p.setSize} genes`),
      marker: {
        size: ps.map((p) => 6 + 18 * Math.sqrt(p.overlap / maxOverlap)),
        color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length],
        opacity: 0.8,
      },
      hovertemplate: "%{y}<br>−log10 q %{x:.2f}<br>%{text}<extra>" + src + "</extra>",
    };
  });
  const shapes = o.q === undefined ? [] : [{
    type: "line",
    x0: -Math.log10(o.q),
    x1: -Math.log10(o.q),
    y0: 0,
    y1: 1,
    yref: "paper",
    line: { dash: "dot", color: "#888" },
  }];
  return {
    data,
    layout: {
      ...chartLayout(o.title),
      xaxis: { title: { text: "−log10 adjusted p" }, rangemode: "tozero" },
      yaxis: {
        type: "category",
        categoryorder: "array",
        categoryarray: terms.map(short),
        automargin: true,
      },
      shapes,
      width: 820,
      height: Math.max(300, 24 * terms.length + 140),
      legend: { orientation: "h", y: -0.15 },
    },
  };
}

/** Horizontal bars of −log10 adjusted p for the top terms of one source. */
export function enrichmentBarFigure(
  points: EnrichmentPoint[],
  o: { title?: string; top?: number } = {},
): Figure {
  const ps = [...points].sort((a, b) => a.padj - b.padj).slice(0, o.top ?? 15).reverse();
  return {
    data: [{
      type: "bar",
      orientation: "h",
      x: ps.map((p) => -Math.log10(Math.max(p.padj, 1e-300))),
      y: ps.map((p) => (p.term.length > 60 ? p.term.slice(0, 57) + "…" : p.term)),
      text: ps.map((p) => `${p.overlap}/${p.setSize}`),
      textposition: "outside",
      marker: { color: CATEGORY_COLOURS[4] },
    }],
    layout: {
      ...chartLayout(o.title),
      xaxis: { title: { text: "−log10 adjusted p" } },
      yaxis: { automargin: true, type: "category" },
      width: 820,
      height: Math.max(300, 24 * ps.length + 140),
    },
  };
}

/** Runtime and size of methods (S12): wall time and parameter count side by side. */
export function runtimeFigure(
  rows: { method: string; seconds: number; parameters?: number }[],
  o: { title?: string; timeLabel?: string } = {},
): Figure {
  const withParams = rows.some((r) => r.parameters !== undefined);
  const methods = rows.map((r) => r.method);
  const data: Record<string, unknown>[] = [{
    type: "bar",
    name: "wall time",
    x: methods,
    y: rows.map((r) => r.seconds),
    marker: { color: CATEGORY_COLOURS[4] },
    text: rows.map((r) => r.seconds.toFixed(1)),
    textposition: "outside",
    xaxis: "x",
    yaxis: "y",
  }];
  if (withParams) {
    data.push({
      type: "bar",
      name: "parameters",
      x: methods,
      y: rows.map((r) => r.parameters ?? null),
      marker: { color: CATEGORY_COLOURS[5] },
      xaxis: "x2",
      yaxis: "y2",
    });
  }
  return {
    data,
    layout: {
      ...chartLayout(o.title),
      xaxis: { domain: withParams ? [0, 0.46] : [0, 1], type: "category" },
      yaxis: { title: { text: o.timeLabel ?? "seconds" }, rangemode: "tozero" },
      ...(withParams
        ? {
          xaxis2: { domain: [0.54, 1], type: "category", anchor: "y2" },
          yaxis2: { title: { text: "trainable parameters" }, anchor: "x2", type: "log", dtick: 1 },
        }
        : {}),
      showlegend: false,
      width: withParams ? 900 : 520,
      height: 380,
    },
  };
}

/** One point of a parameter sweep: mean PCC (± SD over slices/seeds) at one value. */
export interface SweepPoint {
  parameter: string;
  value: number;
  pcc: number;
  std?: number;
  /** Series name when several are drawn (e.g. split or method). */
  series?: string;
}

/** Ablation / sensitivity curves: one panel per parameter (Q, K, α, β), PCC against its value. */
export function ablationCurveFigure(points: SweepPoint[], o: { title?: string } = {}): Figure {
  const params = [...new Set(points.map((p) => p.parameter))];
  const series = [...new Set(points.map((p) => p.series ?? "PCC"))];
  const n = params.length, gap = 0.1, w = (1 - gap * (n - 1)) / n;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {};
  params.forEach((param, i) => {
    series.forEach((s, si) => {
      const ps = points.filter((p) => p.parameter === param && (p.series ?? "PCC") === s)
        .sort((a, b) => a.value - b.value);
      if (!ps.length) return;
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: s,
        legendgroup: s,
        showlegend: i === 0,
        x: ps.map((p) => p.value),
        y: ps.map((p) => p.pcc),
        error_y: ps.some((p) => p.std !== undefined)
          ? { type: "data", array: ps.map((p) => p.std ?? 0), visible: true }
          : undefined,
        xaxis: axisId("x", i),
        yaxis: axisId("y", i),
        marker: { color: CATEGORY_COLOURS[si % CATEGORY_COLOURS.length] },
      });
    });
    layout[layoutKey("x", i)] = {
      domain: [i * (w + gap), i * (w + gap) + w],
      title: { text: param },
      anchor: axisId("y", i),
    };
    layout[layoutKey("y", i)] = {
      anchor: axisId("x", i),
      title: i === 0 ? { text: "PCC" } : undefined,
      matches: i === 0 ? undefined : "y",
    };
  });
  return {
    data,
    layout: {
      ...layout,
      ...chartLayout(o.title),
      width: 260 * n + 140,
      height: 340,
      legend: { orientation: "h", y: -0.25 },
    },
  };
}
