/**
 * CSV, written and read in one place. Tables go out through `toCsv`; gene-set exports and other
 * quoted CSV come in through `splitCsvLine`. (Embedding tables have their own exact-float writer
 * in `features/export.ts`, which says why.) Hand-written because the formats are small and RFC
 * 4180 quoting is all they need; the table issue moves tables to polars.
 */

/** Splits one CSV line with RFC 4180 quoting (fields may hold commas and doubled quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const csvField = (
  v: unknown,
) => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v));

/** CSV text of rows (header from the first row's keys; arrays joined by ';'). */
export function toCsv(rows: object[]): string {
  if (rows.length === 0) return "";
  const keys = Object.keys(rows[0]);
  return [
    keys.join(","),
    ...rows.map((r) =>
      keys.map((k) => {
        const v = (r as Record<string, unknown>)[k];
        return csvField(Array.isArray(v) ? v.join(";") : v);
      }).join(",")
    ),
  ].join("\n") + "\n";
}
