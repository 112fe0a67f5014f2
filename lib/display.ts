/**
 * Showing output: rich under Deno's Jupyter kernel, plain text under `deno run`. Used by the
 * notebooks and by figure export alike, so it sits below both.
 */

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
