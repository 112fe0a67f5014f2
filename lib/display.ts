/**
 * Showing output: rich under Deno's Jupyter kernel, plain text under `deno run`. Used by the
 * notebooks and by figure export alike, so it sits below both.
 */
import { asFrame, type Frame, markdownOf } from "./table/frame.ts";

/** The Deno kernel's `display`, or undefined outside `deno jupyter`. */
export function jupyterDisplay(): ((bundle: unknown, opts: unknown) => Promise<void>) | undefined {
  // Outside the kernel `Deno.jupyter` is a getter that throws, so probe it.
  try {
    // deno-lint-ignore no-explicit-any
    const jupyter = (Deno as any).jupyter;
    return jupyter?.display?.bind(jupyter);
  } catch {
    return undefined;
  }
}

/** Shows Markdown: rich output under the Jupyter kernel, plain text under `deno run`. */
export async function display(markdown: string): Promise<void> {
  const show = jupyterDisplay();
  if (show) await show({ "text/markdown": markdown, "text/plain": markdown }, { raw: true });
  else console.log(markdown);
}

/**
 * Shows a table with an optional title. Under the kernel the DataFrame renders as polars renders
 * itself (its `Symbol.for("Jupyter.display")` bundle: an HTML table and a data-resource JSON),
 * with the Markdown form as its plain-text fallback; under `deno run` the Markdown is printed.
 */
export async function displayTable(
  table: Frame | readonly object[],
  o: { title?: string; digits?: number } = {},
): Promise<void> {
  const df = asFrame(table);
  const md = markdownOf(df, { digits: o.digits ?? 3 });
  const show = jupyterDisplay();
  if (!show) {
    console.log(o.title ? `### ${o.title}\n\n${md}` : md);
    return;
  }
  if (o.title) await display(`### ${o.title}`);
  const rich = (df as unknown as Record<symbol, () => Record<string, unknown>>)[
    Symbol.for("Jupyter.display")
  ]?.() ?? {};
  await show({ ...rich, "text/plain": md }, { raw: true });
}
