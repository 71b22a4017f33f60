/**
 * PostgreSQL array literals (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO), the
 * text form of a `bigint[]`, `text[]`... parameter: one string per column of a whole batch,
 * unpacked by `unnest($1::bigint[], $2::text[], ...)` in one statement. One string per column
 * is far fewer values for the driver to encode than one parameter (or COPY field) per value,
 * and needs no temp table.
 */

/**
 * `{a,b,c}` from elements already in their array-literal form. Joined rather than concatenated:
 * `+=` leaves two cons strings per element (the driver flattens them later, another copy), ~90
 * bytes of heap per element against ~50.
 */
export function arrayLiteral(elements: readonly string[]): string {
  return `{${elements.join(',')}}`;
}

/**
 * `{1,2.5,NULL}`: numbers as JavaScript prints them (shortest round-trip form); null and non-finite
 * as NULL. `pick` reads the number from each item, so a column of rows needs no array of its own.
 */
export function numberArray<T>(items: readonly T[], pick: (item: T) => number | null): string {
  const parts = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = pick(items[i]!);
    parts[i] = v === null || !Number.isFinite(v) ? 'NULL' : String(v);
  }
  return arrayLiteral(parts);
}

const needsEscape = /["\\]/;

/**
 * One element of a text array, always double-quoted (so `NULL`, empty strings, braces, commas
 * and blanks are plain text), with `"` and `\` backslash-escaped. Source ids come from untrusted
 * tag blocks, so every text value goes through here.
 */
export function quoteElement(value: string): string {
  return needsEscape.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

/** `{"a","b"}` */
export function textArray(values: readonly string[]): string {
  return arrayLiteral(values.map(quoteElement));
}
