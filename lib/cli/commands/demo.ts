/** `spahgc demo`. */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../paths.ts";
import { type Command } from "../command.ts";
import { NOTEBOOK_RUN_OPTIONS, runNotebooks } from "./notebook_run.ts";

export const demoCommand: Command = {
  usage: "spahgc demo [--engine auto|jupyter|deno] [--profile quick|full] [--json]",
  summary: "the quick-start on the embedded synthetic data; outputs under figures/00_quickstart/",
  options: NOTEBOOK_RUN_OPTIONS,
  run(v) {
    return runNotebooks([join(PROJECT_ROOT, "notebooks", "00_quickstart.ipynb")], v);
  },
};
