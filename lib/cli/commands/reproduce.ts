/** `spahgc reproduce`. */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../paths.ts";
import { type Command } from "../command.ts";
import { UsageError } from "../options.ts";
import { NOTEBOOK_RUN_OPTIONS, runNotebooks } from "./notebook_run.ts";

export const reproduceCommand: Command = {
  usage:
    "spahgc reproduce [--only NAME[,NAME…]] [--profile quick|full] [--engine auto|jupyter|deno] [--json]",
  summary:
    "execute the paper notebooks headlessly (quick-start first), tables and figures to figures/NAME/; stops at the first failing cell",
  options: {
    only: { type: "string", help: "comma-separated notebook names (default: all in notebooks/)" },
    ...NOTEBOOK_RUN_OPTIONS,
  },
  async run(v) {
    const dir = join(PROJECT_ROOT, "notebooks");
    const all = [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
      .map((e) => e.name.replace(/\.ipynb$/, ""))
      .sort((
        a,
        b,
      ) => (a === "00_quickstart" ? -1 : b === "00_quickstart" ? 1 : a.localeCompare(b)));
    const only = v.list("only") ?? all;
    const unknown = only.filter((n) => !all.includes(n));
    if (unknown.length) {
      throw new UsageError(`unknown notebook(s) ${unknown.join(", ")} (have: ${all.join(", ")})`);
    }
    return await runNotebooks(only.map((n) => join(dir, `${n}.ipynb`)), v);
  },
};
