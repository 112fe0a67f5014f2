/** `spahgc notebook check`. */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../paths.ts";
import { checkNotebooks } from "../../notebook/runner.ts";
import { type Command, json } from "../command.ts";

export const notebookCheckCommand: Command = {
  usage: "spahgc notebook check [<notebook.ipynb>…] [--json]",
  summary:
    "type-check notebooks' code (all of notebooks/ by default); errors name the notebook and cell",
  options: { json: { type: "boolean", help: "JSON output" } },
  async run(v) {
    const paths = v.positionals;
    const nbs = paths.length ? paths : [...Deno.readDirSync(join(PROJECT_ROOT, "notebooks"))]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
      .map((e) => join(PROJECT_ROOT, "notebooks", e.name)).sort();
    const checks = await checkNotebooks(nbs);
    if (v.flag("json")) json(checks);
    else {
      for (const c of checks) {
        console.log(`${c.ok ? "ok  " : "FAIL"} ${c.path}`);
        for (const e of c.errors) console.log(e.replace(/^/gm, "  "));
      }
    }
    return checks.every((c) => c.ok) ? 0 : 1;
  },
};
