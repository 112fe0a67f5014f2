/**
 * Reading CSV that users hand us, line by line. Tables the project writes go out through polars
 * (`csvOf` in lib/table/frame.ts) and are read back with `pl.readCSV`; this reader stays
 * hand-written for inputs (g:Profiler GO exports) because polars' CSV reader accepts ragged rows
 * without a word — it truncates extra fields and pads missing ones with null — and a malformed
 * input line must be refused by its number, not silently reshaped.
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
