/**
 * Executes notebooks headlessly and decides whether they succeeded by reading the executed
 * outputs, not the exit code: some Deno-kernel releases report a throwing cell as a success,
 * so a cell counts as failed when it has an `error` output, was never executed, or printed an
 * uncaught error to stderr; and each notebook may list strings its outputs must contain
 * (`metadata.spahgc.expect`), so a silently skipped computation fails too.
 *
 * Two engines:
 * - `jupyter`: `jupyter nbconvert --execute` with the Deno kernel (the real notebook path);
 * - `deno`: the code cells concatenated into a module and run with `deno run` — for machines
 *   without Jupyter; notebook code must therefore never require `Deno.jupyter`.
 */
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../io/files.ts";

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  outputs?: Array<Record<string, unknown>>;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown> & { spahgc?: { expect?: string[] } };
  nbformat: number;
  nbformat_minor: number;
}

export interface CellFailure {
  /** 0-based index among all cells. */
  cell: number;
  reason: string;
  source: string;
}

export interface NotebookResult {
  notebook: string;
  executed: string;
  engine: "jupyter" | "deno";
  ok: boolean;
  seconds: number;
  failures: CellFailure[];
  /** Expected strings not found in any output. */
  missing: string[];
  /** Set when a first run lost outputs without any failing cell and the notebook was run again. */
  retried?: string;
  /** Cells whose outputs nbconvert stopped waiting for (its "Timeout waiting for IOPub output"). */
  iopubTimeouts?: number;
}

/**
 * Seconds nbconvert waits, after a cell's reply, for the kernel to report idle (nbclient's
 * `iopub_timeout`). At its default of 4 s, nbclient moves on with only a warning and the cell's
 * output still to come is lost, a risk on a busy machine (the test suite runs notebooks beside
 * other tests on two cores); the wait ends as soon as the kernel reports idle, so a long limit
 * costs nothing when the kernel is on time. Not seen to fire here: the losses `SETTLE` prevents
 * happen with the kernel on time.
 */
const IOPUB_WAIT_SECONDS = 120;

/**
 * Appended to each code cell that ends in a statement for the nbconvert run, and gone from the
 * executed copy. Deno's kernel (2.9) can report a cell done before that cell's last outputs
 * reach nbconvert, which then drops them: a four-cell test notebook lost 8–9 of its 48 outputs
 * over 8 runs on an idle machine (display data and printed lines alike), still 2 with a
 * zero-delay pause at each cell's end, none with a 10 or 50 ms one; a twelve-cell one lost
 * outputs in 3 of 4 runs without a pause and none in 15 runs with this one. A cell ending in a
 * bare expression is left as it is: a pause would replace the value it shows (whose message the
 * kernel sends itself, and which can still go missing).
 */
const SETTLE = "\nawait new Promise((settle) => setTimeout(settle, 100));";
const endsInStatement = (source: string) => /[;}]\s*(\/\/[^\n]*)?\s*$/.test(source);

/** The notebook with `SETTLE` after each code cell that ends in a statement. */
function withSettle(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((c) =>
      c.cell_type === "code" && endsInStatement(src(c)) ? { ...c, source: src(c) + SETTLE } : c
    ),
  };
}

export interface RunOptions {
  /** Where the executed copy goes (default: figures/<name>/<name>.executed.ipynb). */
  outputDir?: string;
  engine?: "jupyter" | "deno" | "auto";
  /**
   * Per-cell timeout in seconds (jupyter engine); none = 30 min in the quick profile and no limit
   * in the full one, whose study cells train for hours.
   */
  timeoutSeconds?: number;
  /** Extra environment for the kernel (e.g. SPAHGC_PROFILE). */
  env?: Record<string, string>;
}

const src = (c: NotebookCell) => (Array.isArray(c.source) ? c.source.join("") : c.source);
const text = (v: unknown) => (Array.isArray(v) ? v.join("") : typeof v === "string" ? v : "");

/** Inspects an executed notebook: failing cells and expected strings not found. */
export function checkExecuted(nb: Notebook): { failures: CellFailure[]; missing: string[] } {
  const failures: CellFailure[] = [];
  let all = "";
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== "code" || src(c).trim() === "") return;
    const fail = (reason: string) =>
      failures.push({ cell: i, reason, source: src(c).slice(0, 200) });
    if (c.execution_count === null || c.execution_count === undefined) {
      fail("cell was not executed");
    }
    for (const o of c.outputs ?? []) {
      if (o.output_type === "error") {
        fail(`${o.ename}: ${o.evalue}`);
      } else if (o.output_type === "stream") {
        const t = text(o.text);
        all += t;
        if (
          o.name === "stderr" &&
          /(^|\n)(Uncaught|error: Uncaught|TypeError:|ReferenceError:)/.test(t)
        ) {
          fail(`uncaught error on stderr: ${t.trim().split("\n")[0]}`);
        }
      } else {
        const data = (o.data ?? {}) as Record<string, unknown>;
        all += text(data["text/plain"]) + text(data["text/markdown"]) + text(data["text/html"]);
      }
    }
  });
  const missing = (nb.metadata.spahgc?.expect ?? []).filter((s) => !all.includes(s));
  return { failures, missing };
}

function have(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Installs the Deno kernelspec for Jupyter if it is missing (idempotent). */
export function ensureDenoKernel(): void {
  const list = new Deno.Command("jupyter", {
    args: ["kernelspec", "list", "--json"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const specs = list.success
    ? JSON.parse(new TextDecoder().decode(list.stdout)).kernelspecs ?? {}
    : {};
  if (!("deno" in specs)) {
    const r = new Deno.Command(Deno.execPath(), {
      args: ["jupyter", "--install"],
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    if (!r.success) {
      throw new Error(`deno jupyter --install failed: ${new TextDecoder().decode(r.stderr)}`);
    }
  }
}

/** True when `jupyter nbconvert` is available. */
export function jupyterAvailable(): boolean {
  return have("jupyter", ["nbconvert", "--version"]);
}

/** Runs a notebook headlessly; never throws for cell errors (see `ok` and `failures`). */
export async function runNotebook(path: string, opts: RunOptions = {}): Promise<NotebookResult> {
  const first = await runNotebookOnce(path, opts);
  // Seen here: the Deno kernel occasionally reports a cell's completion before its display output
  // reaches nbconvert, so the output is lost although the cell ran without error. When nothing
  // failed and only expected outputs are missing, run once more, and say so.
  if (first.engine === "jupyter" && first.failures.length === 0 && first.missing.length > 0) {
    const second = await runNotebookOnce(path, opts);
    const why = first.iopubTimeouts
      ? ` (nbconvert stopped waiting for output ${first.iopubTimeouts} time(s))`
      : "";
    return {
      ...second,
      seconds: first.seconds + second.seconds,
      retried: `first run lost output(s): ${first.missing.join("; ")}${why}`,
    };
  }
  return first;
}

async function runNotebookOnce(path: string, opts: RunOptions): Promise<NotebookResult> {
  const nbPath = resolve(path);
  const name = basename(nbPath).replace(/\.ipynb$/, "");
  const root = resolve(dirname(nbPath), "..");
  const outDir = resolve(opts.outputDir ?? join(root, "figures", name));
  Deno.mkdirSync(outDir, { recursive: true });
  const executed = join(outDir, `${name}.executed.ipynb`);
  const engine = opts.engine === "deno" || (opts.engine !== "jupyter" && !jupyterAvailable())
    ? "deno"
    : "jupyter";
  const env = { ...opts.env, NO_COLOR: "1" };
  const t0 = performance.now();
  let nb: Notebook;
  let iopubTimeouts = 0;
  if (engine === "jupyter") {
    ensureDenoKernel();
    const tmpName = `${name}.executing-${Deno.pid}.ipynb`;
    // Beside the original, so the kernel starts in the notebook's folder; not *.ipynb, so
    // listings of notebooks never see it.
    const original: Notebook = JSON.parse(Deno.readTextFileSync(nbPath));
    const input = join(dirname(nbPath), `.${name}.settle-${Deno.pid}.json`);
    Deno.writeTextFileSync(input, JSON.stringify(withSettle(original)));
    const r = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--allow-errors",
        "--ExecutePreprocessor.kernel_name=deno",
        // nbconvert's -1 is "no limit".
        `--ExecutePreprocessor.timeout=${
          opts.timeoutSeconds ?? (opts.env?.SPAHGC_PROFILE === "full" ? -1 : 1800)
        }`,
        `--ExecutePreprocessor.iopub_timeout=${IOPUB_WAIT_SECONDS}`,
        "--output-dir",
        outDir,
        "--output",
        tmpName,
        input,
      ],
      cwd: dirname(nbPath),
      env,
      stdout: "piped",
      stderr: "piped",
    }).output().finally(() => Deno.removeSync(input));
    iopubTimeouts = new TextDecoder().decode(r.stderr).split("Timeout waiting for IOPub output")
      .length - 1;
    const tmp = join(outDir, tmpName);
    try {
      nb = JSON.parse(Deno.readTextFileSync(tmp));
    } catch {
      return {
        notebook: nbPath,
        executed,
        engine,
        ok: false,
        seconds: (performance.now() - t0) / 1000,
        failures: [{
          cell: -1,
          reason: `nbconvert failed: ${
            new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3).join(" | ")
          }`,
          source: "",
        }],
        missing: [],
      };
    }
    // The executed copy shows the cells as written.
    nb.cells.forEach((c, i) => (c.source = original.cells[i].source));
    writeFileAtomic(executed, JSON.stringify(nb, null, 1));
    Deno.removeSync(tmp);
  } else {
    nb = JSON.parse(Deno.readTextFileSync(nbPath));
    nb = await runWithDeno(nb, nbPath, env);
    writeFileAtomic(executed, JSON.stringify(nb, null, 1));
  }
  const { failures, missing } = checkExecuted(nb);
  return {
    notebook: nbPath,
    executed,
    engine,
    ok: failures.length === 0 && missing.length === 0,
    seconds: (performance.now() - t0) / 1000,
    failures,
    missing,
    ...(iopubTimeouts ? { iopubTimeouts } : {}),
  };
}

/**
 * The `deno` engine: all code cells in one module, each wrapped so its output is captured and
 * attributed to it; stops at the first throwing cell as Jupyter would with errors not allowed.
 */
async function runWithDeno(
  nb: Notebook,
  nbPath: string,
  env: Record<string, string>,
): Promise<Notebook> {
  const marker = `__CELL_${crypto.randomUUID().slice(0, 8)}__`;
  const code = nb.cells.map((c, i) =>
    c.cell_type === "code" ? `console.log("${marker}${i}");\n${src(c)}\n` : ""
  ).join("\n");
  const script = join(dirname(nbPath), `.${basename(nbPath)}.${Deno.pid}.run.ts`);
  Deno.writeTextFileSync(script, code);
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      cwd: dirname(nbPath),
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    const err = new TextDecoder().decode(r.stderr);
    const parts = out.split(new RegExp(`${marker}(\\d+)\\n`));
    const byCell = new Map<number, string>();
    for (let k = 1; k < parts.length; k += 2) byCell.set(Number(parts[k]), parts[k + 1]);
    const ran = [...byCell.keys()];
    const last = ran.length ? Math.max(...ran) : -1;
    if (last < 0 && !r.success) {
      // The module failed before any cell ran (a syntax or import error): report it on the first code cell.
      const first = nb.cells.findIndex((c) => c.cell_type === "code");
      const line = err.split("\n").find((l) => /error/i.test(l)) ?? err.trim().split("\n")[0] ??
        "failed";
      return {
        ...nb,
        cells: nb.cells.map((c, i) =>
          i === first
            ? {
              ...c,
              execution_count: 1,
              outputs: [{
                output_type: "error",
                ename: "Error",
                evalue: `notebook code did not compile or load: ${line}`,
                traceback: err.split("\n"),
              }],
            }
            : c
        ),
      };
    }
    let count = 0;
    const cells = nb.cells.map((c, i) => {
      if (c.cell_type !== "code") return c;
      if (!byCell.has(i)) return { ...c, execution_count: null, outputs: [] };
      const outputs: Array<Record<string, unknown>> = [{
        output_type: "stream",
        name: "stdout",
        text: byCell.get(i),
      }];
      if (i === last && !r.success) {
        const line = err.split("\n").find((l) => l.startsWith("error:")) ??
          err.trim().split("\n")[0] ?? "failed";
        outputs.push({
          output_type: "error",
          ename: "Error",
          evalue: line.replace(/^error: (Uncaught )?/, ""),
          traceback: err.split("\n"),
        });
      }
      return { ...c, execution_count: ++count, outputs };
    });
    return { ...nb, cells };
  } finally {
    Deno.removeSync(script);
  }
}

/** The code cells of a notebook as one TypeScript module (what `--engine deno` runs). */
export function notebookModule(nb: Notebook): string {
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => src(c)).join("\n\n");
}

/** Type errors of one notebook: Deno's diagnostics, with the notebook's name in place of the temp file. */
export interface NotebookCheck {
  path: string;
  ok: boolean;
  errors: string[];
}

/**
 * Type-checks and lints notebooks: each notebook's code cells as one module beside it (so its
 * relative imports resolve), all checked by one `deno check` (the library is checked once) and
 * one `deno lint` (the project's rules), the temporary modules removed afterwards. Deno's Jupyter kernel does not type-check, and `deno run` does not
 * either, so without this a type error in a notebook would only show as a wrong result.
 *
 * @example
 * ```ts
 * const bad = (await checkNotebooks(["notebooks/table2_graph_ablation.ipynb"])).filter((c) => !c.ok);
 * ```
 */
export async function checkNotebooks(paths: string[]): Promise<NotebookCheck[]> {
  const modules = paths.map((p) => {
    const path = resolve(p);
    const nb = JSON.parse(Deno.readTextFileSync(path)) as Notebook;
    const module = join(dirname(path), `.${basename(path)}.${Deno.pid}.check.ts`);
    Deno.writeTextFileSync(module, notebookModule(nb));
    // First module line of each code cell (cells are joined by one blank line), to name the cell.
    const starts: { cell: number; line: number }[] = [];
    let line = 1;
    nb.cells.forEach((c, i) => {
      if (c.cell_type !== "code") return;
      starts.push({ cell: i, line });
      line += src(c).split("\n").length + 1;
    });
    return { path: p, module, starts };
  });
  const cellOf = (m: (typeof modules)[number], line: number) =>
    [...m.starts].reverse().find((x) => x.line <= line) ?? m.starts[0];
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...modules.map((m) => m.module)],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    let checks: NotebookCheck[];
    if (r.success) checks = modules.map((m) => ({ path: m.path, ok: true, errors: [] }));
    else {
      const text = new TextDecoder().decode(r.stderr) // NO_COLOR: no escape codes
        .split("\n").filter((l) => !/^Check /.test(l)).join("\n");
      const diagnostics = text.split(/\n\s*\n/).filter((d) => d.trim());
      checks = modules.map((m) => {
        // Each diagnostic ends "at file:///…/.NAME.ipynb.PID.check.ts:L:C": say the cell instead.
        const at = new RegExp(
          `(?:file://)?${m.module.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)`,
          "g",
        );
        const errors = diagnostics.filter((d) => d.includes(basename(m.module))).map((d) =>
          d.replace(at, (_, l: string, col: string) => {
            const s = cellOf(m, Number(l));
            return `${m.path}, cell ${s.cell + 1} line ${Number(l) - s.line + 1}:${col}`;
          }).trim()
        );
        return { path: m.path, ok: errors.length === 0, errors };
      });
      // A failure no notebook owns (an error in the library they import) fails them all.
      if (!checks.some((c) => !c.ok)) {
        return checks.map((c) => ({ ...c, ok: false, errors: [text.trim()] }));
      }
    }
    // Lint, with the project's rules (deno.json), each finding named by notebook, cell and line.
    const lint = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--json", ...modules.map((m) => m.module)],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const report = JSON.parse(new TextDecoder().decode(lint.stdout) || "{}") as {
      diagnostics?: {
        filename: string;
        code: string;
        message: string;
        range: { start: { line: number; col: number } };
      }[];
    };
    return checks.map((c, i) => {
      const m = modules[i];
      const found = (report.diagnostics ?? []).filter((d) =>
        d.filename.endsWith(basename(m.module))
      )
        .map((d) => {
          const s = cellOf(m, d.range.start.line);
          return `lint ${d.code}: ${d.message}\n    at ${m.path}, cell ${s.cell + 1} line ${
            d.range.start.line - s.line + 1
          }:${d.range.start.col + 1}`;
        });
      return { ...c, ok: c.ok && found.length === 0, errors: [...c.errors, ...found] };
    });
  } finally {
    for (const m of modules) Deno.removeSync(m.module);
  }
}
