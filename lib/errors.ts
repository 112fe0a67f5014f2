/**
 * Errors for bad input. Every message names the file and, where it applies, the line, spot and
 * gene, then says what was expected — a researcher should be able to fix the file from the
 * message alone.
 */

/** Where in an input the problem is. All fields optional; `file` is almost always set. */
export interface DataLocation {
  file?: string;
  /** 1-based line number in a text file. */
  line?: number;
  spot?: string;
  gene?: string;
}

/** Thrown for malformed, missing or inconsistent input data. */
export class DataError extends Error {
  readonly location: DataLocation;
  constructor(message: string, location: DataLocation = {}) {
    const where = [
      location.file,
      location.line !== undefined ? `line ${location.line}` : undefined,
      location.spot !== undefined ? `spot ${location.spot}` : undefined,
      location.gene !== undefined ? `gene ${location.gene}` : undefined,
    ].filter((s) => s !== undefined).join(", ");
    super(where ? `${where}: ${message}` : message);
    this.name = "DataError";
    this.location = location;
  }
}

/** A non-fatal note about the input (something made unique, dropped by design, …). */
export interface DataWarning {
  message: string;
  location: DataLocation;
}

/** Collects warnings; by default also prints them to stderr so nothing is dropped silently. */
export class WarningLog {
  readonly warnings: DataWarning[] = [];
  constructor(private readonly echo = true) {}
  warn(message: string, location: DataLocation = {}): void {
    this.warnings.push({ message, location });
    if (this.echo) {
      const where = location.file ? `${location.file}: ` : "";
      console.warn(`warning: ${where}${message}`);
    }
  }
}
