/**
 * `spahgc` — the command line for scripted use (`deno task spahgc <command> …`, or
 * `npm run -s spahgc -- …` for clean standard output). Every command is one module under
 * `commands/` declaring a typed option schema (`options.ts`); values are checked before the
 * command runs. Every command takes `--help`; commands that report take `--json` for one
 * machine-readable object on standard output (warnings go to standard error).
 */
import { DataError } from "../errors.ts";
import { type Command, Options, UsageError } from "./command.ts";
import { dataInfoCommand } from "./commands/data_info.ts";
import { dataFetchCommand } from "./commands/data_fetch.ts";
import { dataListCommand } from "./commands/data_list.ts";
import { dataExportHestCommand } from "./commands/data_export_hest.ts";
import { methodsCommand } from "./commands/methods.ts";
import { notebookCheckCommand } from "./commands/notebook_check.ts";
import { notebookRunCommand } from "./commands/notebook_run.ts";
import { reproduceCommand } from "./commands/reproduce.ts";
import { hvgCommand } from "./commands/hvg.ts";
import { graphCommand } from "./commands/graph.ts";
import { featuresCommand } from "./commands/features.ts";
import { trainCommand } from "./commands/train.ts";
import { evaluateCommand } from "./commands/evaluate.ts";
import { benchmarkCommand } from "./commands/benchmark.ts";
import { compareCommand } from "./commands/compare.ts";
import { clusterCommand } from "./commands/cluster.ts";
import { enrichCommand } from "./commands/enrich.ts";
import { sweepRunOneCommand } from "./commands/sweep_run_one.ts";
import { sweepStatusCommand } from "./commands/sweep_status.ts";
import { sweepCollectCommand } from "./commands/sweep_collect.ts";
import { sweepCommand } from "./commands/sweep.ts";
import { demoCommand } from "./commands/demo.ts";
import { hestBenchCommand } from "./commands/hest_bench.ts";

/** The commands, by the words that name them. */
export const COMMANDS: Record<string, Command> = {
  "data info": dataInfoCommand,
  "data fetch": dataFetchCommand,
  "data list": dataListCommand,
  "data export-hest": dataExportHestCommand,
  methods: methodsCommand,
  "notebook check": notebookCheckCommand,
  "notebook run": notebookRunCommand,
  reproduce: reproduceCommand,
  hvg: hvgCommand,
  graph: graphCommand,
  features: featuresCommand,
  train: trainCommand,
  evaluate: evaluateCommand,
  benchmark: benchmarkCommand,
  "hest-bench": hestBenchCommand,
  compare: compareCommand,
  cluster: clusterCommand,
  enrich: enrichCommand,
  "sweep run-one": sweepRunOneCommand,
  "sweep status": sweepStatusCommand,
  "sweep collect": sweepCollectCommand,
  sweep: sweepCommand,
  demo: demoCommand,
};

function help(): string {
  return [
    "spahgc — SpaHGC spatial gene expression inference (Deno/TypeScript)",
    "",
    "usage: deno task spahgc <command> [options]   (each command: --help)",
    "",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(14)} ${c.summary}`),
  ].join("\n");
}

function commandHelp(c: Command): string {
  return [
    `usage: ${c.usage}`,
    "",
    c.summary,
    "",
    ...Object.entries(c.options).map(([k, o]) => `  --${k.padEnd(12)} ${o.help}`),
    `  --${"help".padEnd(12)} this help`,
  ].join("\n");
}

export async function main(args: string[]): Promise<number> {
  const key = [args.slice(0, 2).join(" "), args[0]].find((k) => k in COMMANDS);
  if (!key) {
    if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
      console.log(help());
      return 0;
    }
    console.error(`unknown command '${args.slice(0, 2).join(" ")}'\n\n${help()}`);
    return 2;
  }
  const c = COMMANDS[key];
  const rest = args.slice(key.split(" ").length);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(commandHelp(c));
    return 0;
  }
  try {
    return await c.run(Options.parse(rest, c.options));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${commandHelp(c)}`);
      return 2;
    }
    if (e instanceof DataError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
