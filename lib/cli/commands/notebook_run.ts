/** `spahgc notebook run`. */
import { runNotebook } from "../../notebook/runner.ts";
import { type Command, json } from "../command.ts";
import { type Options, type OptionSchema, UsageError } from "../options.ts";

const ENGINES = ["auto", "jupyter", "deno"] as const;

/** The options every notebook-running command has. */
export const NOTEBOOK_RUN_OPTIONS = {
  engine: {
    type: "string",
    choices: ENGINES,
    help: "jupyter (nbconvert + Deno kernel), deno (deno run), auto (default)",
  },
  profile: {
    type: "string",
    choices: ["quick", "full"],
    help: "parameter profile passed as SPAHGC_PROFILE (default: $SPAHGC_PROFILE, else quick)",
  },
  json: { type: "boolean", help: "JSON output" },
} satisfies OptionSchema;

/** Runs notebooks in order, stopping at the first that fails; prints a line each (or JSON). */
export async function runNotebooks(paths: string[], v: Options): Promise<number> {
  const results = [];
  for (const p of paths) {
    const r = await runNotebook(p, {
      engine: v.choice("engine", ENGINES, "auto"),
      env: { SPAHGC_PROFILE: v.str("profile") ?? Deno.env.get("SPAHGC_PROFILE") ?? "quick" },
    });
    results.push(r);
    if (!v.flag("json")) {
      console.log(
        `${r.ok ? "ok  " : "FAIL"} ${p} (${r.engine}, ${r.seconds.toFixed(1)} s) → ${r.executed}`,
      );
      for (const f of r.failures) {
        console.log(`  cell ${f.cell}: ${f.reason}\n    ${f.source.split("\n")[0]}`);
      }
      for (const m of r.missing) console.log(`  expected output not found: ${m}`);
      if (r.retried) console.log(`  note: ran twice — ${r.retried}`);
    }
    if (!r.ok) break;
  }
  if (v.flag("json")) json(results);
  return results.every((r) => r.ok) ? 0 : 1;
}

export const notebookRunCommand: Command = {
  usage:
    "spahgc notebook run <notebook.ipynb>… [--engine auto|jupyter|deno] [--profile quick|full] [--json]",
  summary: "execute notebooks headlessly; fails on any cell error or missing expected output",
  options: NOTEBOOK_RUN_OPTIONS,
  run(v) {
    if (!v.positionals.length) throw new UsageError("missing <notebook.ipynb>");
    return runNotebooks(v.positionals, v);
  },
};
