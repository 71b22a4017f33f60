/**
 * PostgreSQL COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text
 * Format"): columns separated by tabs, rows by newlines, `\N` for null, and backslash escapes
 * for backslash, tab, newline and carriage return. Source ids come from untrusted tag blocks,
 * so every text value goes through here.
 */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export function copyNumber(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '\\N' : String(value);
}

/** A text[] literal (`{"a","b"}`) with array-level quoting, then COPY-level escaping. */
export function copyTextArray(values: readonly string[]): string {
  const literal = `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
  return copyText(literal);
}
