/**
 * Tables as files: CSV for machines, Markdown for people, and a manifest beside them
 * (`<name>.manifest.json`), written atomically. Shared by the CLI's analysis commands and the
 * notebooks. Tables are polars DataFrames (`lib/table/frame.ts`); rows are accepted too and
 * become one.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/files.ts";
import { asFrame, csvOf, type Frame, markdownOf } from "../table/frame.ts";
import { type Manifest, startManifest } from "./manifest.ts";

/** A Markdown table (numbers to `digits`), for terminals and pages. */
export function markdownTable(
  table: Frame | readonly object[],
  o: { columns?: string[]; digits?: number } = {},
): string {
  const df = asFrame(table);
  return markdownOf(o.columns ? df.select(...o.columns) : df, { digits: o.digits });
}

/** Writes `dir/<name>.csv`, `dir/<name>.md` (title, table, notes) and the manifest. */
export function exportTable(
  table: Frame | readonly object[],
  dir: string,
  name: string,
  o: {
    title?: string;
    columns?: string[];
    digits?: number;
    params?: Record<string, unknown>;
    notes?: string[];
  } = {},
): { files: string[]; manifest: Manifest } {
  const m = startManifest(name, o.params ?? {});
  Deno.mkdirSync(dir, { recursive: true });
  const all = asFrame(table);
  const df = o.columns ? all.select(...o.columns) : all;
  writeFileAtomic(join(dir, `${name}.csv`), csvOf(df));
  const md = [
    o.title ? `# ${o.title}\n` : "",
    markdownOf(df, { digits: o.digits }),
    ...(o.notes?.length ? ["", ...o.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
  writeFileAtomic(join(dir, `${name}.md`), md);
  const files = [`${name}.csv`, `${name}.md`];
  const manifest = m.finish(dir, files, o.notes ?? [], `${name}.manifest.json`);
  return { files: files.map((f) => join(dir, f)), manifest };
}
