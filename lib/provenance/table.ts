/**
 * Tables as files: CSV for machines, Markdown for people, and a manifest beside them
 * (`<name>.manifest.json`), written atomically. Shared by the CLI's analysis commands and the
 * notebooks.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/files.ts";
import { toCsv } from "../io/csv.ts";
import { type Manifest, startManifest } from "./manifest.ts";

type Row = Record<string, unknown>;

const cell = (v: unknown, digits: number): string => {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) !== 0 && Math.abs(v) < 10 ** -digits
      ? v.toExponential(2)
      : v.toFixed(digits);
  }
  if (Array.isArray(v)) return v.join(", ");
  return v === null || v === undefined ? "" : String(v).replaceAll("|", "\\|");
};

/** A Markdown table of rows (columns from the first row unless given), numbers to `digits`. */
export function markdownTable(
  rows: Row[],
  o: { columns?: string[]; digits?: number } = {},
): string {
  if (!rows.length) return "_(no rows)_\n";
  const cols = o.columns ?? Object.keys(rows[0]);
  const digits = o.digits ?? 4;
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === "number" || r[c] == null));
  return [
    `| ${cols.join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c], digits)).join(" | ")} |`),
  ].join("\n") + "\n";
}

/** Writes `dir/<name>.csv`, `dir/<name>.md` (title, table, notes) and the manifest. */
export function exportTable(
  rows: Row[],
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
  const cols = o.columns;
  const projected = cols ? rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]]))) : rows;
  writeFileAtomic(join(dir, `${name}.csv`), toCsv(projected));
  const md = [
    o.title ? `# ${o.title}\n` : "",
    markdownTable(projected, { digits: o.digits }),
    ...(o.notes?.length ? ["", ...o.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
  writeFileAtomic(join(dir, `${name}.md`), md);
  const files = [`${name}.csv`, `${name}.md`];
  const manifest = m.finish(dir, files, o.notes ?? [], `${name}.manifest.json`);
  return { files: files.map((f) => join(dir, f)), manifest };
}
