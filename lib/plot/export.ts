/**
 * Figure output: notebook display as a MIME bundle, self-contained HTML (plotly.js inlined, so
 * the file opens offline years from now), and PNG/SVG rendered by plotly.js itself inside
 * headless Chromium (Debian's `chromium`, driven by playwright-core). Every exported figure gets
 * `<name>.manifest.json` beside it (evaluation.md, "Reporting").
 */
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { DataError } from "../errors.ts";
import { exists, writeFileAtomic } from "../io/files.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { type Manifest, startManifest } from "../provenance/manifest.ts";
import type { Figure } from "./figures.ts";
import { jupyterDisplay } from "../display.ts";

const PLOTLY_PATH = join(PROJECT_ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js");
let plotlySource: string | undefined;

function plotlyJs(): string {
  if (plotlySource === undefined) {
    if (!exists(PLOTLY_PATH)) {
      throw new DataError("plotly.js is not installed (run `npm run bootstrap`)", {
        file: PLOTLY_PATH,
      });
    }
    plotlySource = Deno.readTextFileSync(PLOTLY_PATH);
  }
  return plotlySource;
}

/** The plotly.js version bundled into HTML and used for rendering. */
export function plotlyVersion(): string {
  return JSON.parse(
    Deno.readTextFileSync(join(PROJECT_ROOT, "node_modules", "plotly.js-dist-min", "package.json")),
  ).version;
}

const escapeHtml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** `</script>` inside JSON would end the script element early. */
const scriptSafe = (json: string) => json.replaceAll("</", "<\\/");

/** A standalone HTML page showing the figure, with plotly.js inlined (no network needed). */
export function figureHtml(fig: Figure, title = "figure"): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<script>${plotlyJs()}</script></head>
<body style="margin:0;background:white">
<div id="figure"></div>
<script>
const fig = ${scriptSafe(JSON.stringify(fig))};
Plotly.newPlot("figure", fig.data, fig.layout, {responsive: true, displaylogo: false});
</script></body></html>
`;
}

/**
 * What a notebook shows: JupyterLab renders `application/vnd.plotly.v1+json` interactively;
 * other front ends fall back to `text/html` (the static SVG when one was rendered, else a note
 * naming the interactive file) and `text/plain`.
 */
export function figureMimeBundle(
  fig: Figure,
  o: { title?: string; svg?: string; htmlFile?: string } = {},
): Record<string, unknown> {
  const title = o.title ?? "figure";
  const fallback = o.svg
    ? `<div>${o.svg}</div>`
    : `<p><b>${escapeHtml(title)}</b> — interactive figure${
      o.htmlFile ? `: open <code>${escapeHtml(o.htmlFile)}</code>` : ""
    }</p>`;
  return {
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout },
    "text/html": fallback,
    "text/plain": `${title} (plotly figure, ${fig.data.length} traces)`,
  };
}

/** Shows a figure in a Deno Jupyter notebook; under `deno run` prints its plain-text line. */
export async function displayFigure(
  fig: Figure,
  o: { title?: string; svg?: string; htmlFile?: string } = {},
): Promise<void> {
  const bundle = figureMimeBundle(fig, o);
  const show = jupyterDisplay();
  if (show) await show(bundle, { raw: true });
  else console.log(bundle["text/plain"]);
}

/** Where Chromium is: $SPAHGC_CHROMIUM, else Debian's /usr/bin/chromium, else on PATH. */
export function chromiumPath(): string | null {
  const env = Deno.env.get("SPAHGC_CHROMIUM");
  if (env) {
    if (!exists(env)) {
      throw new DataError("SPAHGC_CHROMIUM names no file; expected the Chromium executable", {
        file: env,
      });
    }
    return env;
  }
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    if (exists(p)) return p;
  }
  return null;
}

let browser: Browser | undefined;
let page: Page | undefined;
let idle: ReturnType<typeof setTimeout> | undefined;

/**
 * The browser is a child process that keeps the program alive: close it after a few idle seconds,
 * so a script that forgets `closeRenderer()` still exits (the next render starts a new one).
 */
function closeWhenIdle(): void {
  if (idle !== undefined) clearTimeout(idle);
  idle = setTimeout(() => {
    idle = undefined;
    closeRenderer();
  }, 3000);
}

async function renderPage(): Promise<Page> {
  if (page) return page;
  const exe = chromiumPath();
  if (!exe) {
    throw new DataError(
      "PNG/SVG export needs Chromium: `sudo apt-get install chromium` (or set SPAHGC_CHROMIUM); HTML export works without it",
    );
  }
  // Flags: this machine's network is closed, so background services must not try to call out.
  browser = await chromium.launch({
    executablePath: exe,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  page = await browser.newPage();
  await page.setContent(`<html><body><div id="g"></div></body></html>`);
  await page.addScriptTag({ content: plotlyJs() });
  return page;
}

/** Closes the shared headless browser (call once at the end of a script; idempotent). */
export async function closeRenderer(): Promise<void> {
  if (idle !== undefined) clearTimeout(idle);
  idle = undefined;
  const b = browser;
  browser = undefined;
  page = undefined;
  await b?.close();
}

/**
 * Renders a figure with plotly.js's own `toImage` in headless Chromium: PNG bytes or SVG text,
 * at the layout's size (or `width`/`height`), PNG at `scale`× resolution.
 */
export async function renderFigure(
  fig: Figure,
  format: "png" | "svg",
  o: { width?: number; height?: number; scale?: number } = {},
): Promise<Uint8Array | string> {
  const p = await renderPage();
  const width = o.width ?? (fig.layout.width as number | undefined) ?? 700;
  const height = o.height ?? (fig.layout.height as number | undefined) ?? 450;
  const url = await p.evaluate(
    async ({ fig, format, width, height, scale }) => {
      // deno-lint-ignore no-explicit-any
      const P = (globalThis as any).Plotly;
      // Runs in the browser page, where `document` exists (Deno's type library lacks it).
      // deno-lint-ignore no-explicit-any
      const el = (globalThis as any).document.getElementById("g");
      await P.newPlot(el, fig.data, fig.layout, { staticPlot: true });
      const out = await P.toImage(el, { format, width, height, scale });
      P.purge(el);
      return out as string;
    },
    { fig, format, width, height, scale: o.scale ?? 2 },
  );
  closeWhenIdle();
  if (format === "svg") return decodeURIComponent(url.slice(url.indexOf(",") + 1));
  const b64 = url.slice(url.indexOf(",") + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export type FigureFormat = "html" | "png" | "svg" | "json";

export interface ExportedFigure {
  files: string[];
  manifest: Manifest;
  /** The SVG text when SVG was exported (for a notebook's static fallback). */
  svg?: string;
}

/**
 * Writes `dir/<name>.<format>` for each format (atomically) and `dir/<name>.manifest.json`:
 * what was plotted (`params`: data sources, slices, genes, settings), software, git commit.
 * `json` is the figure spec itself, for re-rendering elsewhere (e.g. Python plotly).
 */
export async function exportFigure(
  fig: Figure,
  dir: string,
  name: string,
  o: {
    formats?: FigureFormat[];
    title?: string;
    params?: Record<string, unknown>;
    notes?: string[];
    scale?: number;
  } = {},
): Promise<ExportedFigure> {
  const m = startManifest(name, o.params ?? {});
  Deno.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let svg: string | undefined;
  for (const format of o.formats ?? ["html", "png"]) {
    const file = `${name}.${format}`;
    const path = join(dir, file);
    if (format === "html") writeFileAtomic(path, figureHtml(fig, o.title ?? name));
    else if (format === "json") writeFileAtomic(path, JSON.stringify(fig) + "\n");
    else {
      const out = await renderFigure(fig, format, { scale: o.scale });
      if (typeof out === "string") svg = out;
      writeFileAtomic(path, out);
    }
    files.push(file);
  }
  m.manifest.software["plotly.js"] = plotlyVersion();
  const manifest = m.finish(dir, files, o.notes ?? [], `${name}.manifest.json`);
  return { files: files.map((f) => join(dir, f)), manifest, svg };
}

/**
 * The default export: HTML always, PNG too when Chromium is there (said in the manifest when it
 * is not), manifest beside; with `show`, also displayed in the notebook.
 */
export async function saveFigure(
  fig: Figure,
  dir: string,
  name: string,
  o: { params?: Record<string, unknown>; notes?: string[]; title?: string; show?: boolean } = {},
): Promise<string[]> {
  let png = false;
  try {
    png = chromiumPath() !== null;
  } catch {
    png = false;
  }
  const formats: FigureFormat[] = png ? ["html", "png"] : ["html"];
  const notes = png
    ? o.notes ?? []
    : [...o.notes ?? [], "PNG not rendered: Chromium not found (HTML only)"];
  const out = await exportFigure(fig, dir, name, {
    formats,
    params: o.params,
    notes,
    title: o.title,
  });
  if (o.show) await displayFigure(fig, { title: o.title ?? name, htmlFile: out.files[0] });
  return out.files;
}
