/**
 * `spahgc` — the command line for scripted use (`deno task spahgc <command> …`).
 * Every command takes `--help`; commands that report take `--json` for one machine-readable
 * object on standard output (warnings go to standard error).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { DATASETS, fetchDataset, loadDataset, PROJECT_ROOT } from "../data/registry.ts";
import { summarizeDataset, summaryMarkdown } from "../data/summary.ts";
import { runNotebook } from "../notebook/runner.ts";

interface Command {
  usage: string;
  summary: string;
  options: Record<string, { type: "string" | "boolean"; help: string }>;
  run(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<number>;
}

const json = (o: unknown) => console.log(JSON.stringify(o, null, 2));

const COMMANDS: Record<string, Command> = {
  "data info": {
    usage: "spahgc data info <dataset> [--data-dir DIR] [--slices A1,B1] [--json]",
    summary:
      "per slice: patient, spots after the join, genes, total counts, image and labels present",
    options: {
      "data-dir": {
        type: "string",
        help: "data directory (default: $SPAHGC_DATA_DIR, data/, ../shared/data)",
      },
      slices: { type: "string", help: "comma-separated subset of slices" },
      json: { type: "boolean", help: "one JSON object on stdout" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const log = new WarningLog(true);
      const ds = await loadDataset(name, {
        dataDir: v["data-dir"] as string | undefined,
        slices: v.slices ? String(v.slices).split(",") : undefined,
        log,
      });
      const sum = summarizeDataset(ds);
      if (v.json) {
        json({
          dataset: sum.dataset,
          slices: sum.slices.map(({ labelSets: _, ...s }) => s),
          warnings: log.warnings.length,
        });
      } else {
        console.log(summaryMarkdown(sum));
        console.log(
          `\nsource: ${ds.provenance.source}\nlocation: ${ds.provenance.location}\nwarnings: ${log.warnings.length}`,
        );
      }
      return 0;
    },
  },
  "data fetch": {
    usage: "spahgc data fetch <dataset> [--data-dir DIR] [--json]",
    summary: "obtain a dataset from its public source into data/ (or says where to put it)",
    options: {
      "data-dir": { type: "string", help: "where to put it (default: data/)" },
      json: { type: "boolean", help: "JSON output" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const msg = await fetchDataset(
        name,
        (v["data-dir"] as string | undefined) ?? join(PROJECT_ROOT, "data"),
      );
      v.json ? json({ dataset: name, result: msg }) : console.log(msg);
      return 0;
    },
  },
  "data list": {
    usage: "spahgc data list [--json]",
    summary: "the datasets the registry knows and how to obtain them",
    options: { json: { type: "boolean", help: "JSON output" } },
    run(_p, v) {
      if (v.json) json(DATASETS);
      else {for (const d of DATASETS) {
          console.log(
            `${d.name.padEnd(12)} ${d.description}\n${"".padEnd(12)} source: ${d.source}`,
          );
        }}
      return Promise.resolve(0);
    },
  },
  "notebook run": {
    usage:
      "spahgc notebook run <notebook.ipynb>… [--engine auto|jupyter|deno] [--profile quick|full] [--json]",
    summary: "execute notebooks headlessly; fails on any cell error or missing expected output",
    options: {
      engine: {
        type: "string",
        help: "jupyter (nbconvert + Deno kernel), deno (deno run), auto (default)",
      },
      profile: {
        type: "string",
        help: "parameter profile passed as SPAHGC_PROFILE (default quick)",
      },
      json: { type: "boolean", help: "JSON output" },
    },
    async run(paths, v) {
      if (!paths.length) throw new UsageError("missing <notebook.ipynb>");
      const results = [];
      for (const p of paths) {
        const r = await runNotebook(p, {
          engine: (v.engine as "auto" | "jupyter" | "deno" | undefined) ?? "auto",
          env: {
            SPAHGC_PROFILE: (v.profile as string | undefined) ?? Deno.env.get("SPAHGC_PROFILE") ??
              "quick",
          },
        });
        results.push(r);
        if (!v.json) {
          console.log(
            `${r.ok ? "ok  " : "FAIL"} ${p} (${r.engine}, ${
              r.seconds.toFixed(1)
            } s) → ${r.executed}`,
          );
          for (const f of r.failures) {
            console.log(`  cell ${f.cell}: ${f.reason}\n    ${f.source.split("\n")[0]}`);
          }
          for (const m of r.missing) console.log(`  expected output not found: ${m}`);
        }
        if (!r.ok) break;
      }
      if (v.json) json(results);
      return results.every((r) => r.ok) ? 0 : 1;
    },
  },
  demo: {
    usage: "spahgc demo [--engine auto|jupyter|deno]",
    summary: "the quick-start on the embedded synthetic data; outputs under figures/00_quickstart/",
    options: { engine: { type: "string", help: "notebook engine (default auto)" } },
    run(_p, v) {
      return COMMANDS["notebook run"].run(
        [join(PROJECT_ROOT, "notebooks", "00_quickstart.ipynb")],
        v,
      );
    },
  },
};

class UsageError extends Error {}

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
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...c.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${commandHelp(c)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(c));
    return 0;
  }
  try {
    return await c.run(
      parsed.positionals,
      parsed.values as Record<string, string | boolean | undefined>,
    );
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
