/**
 * predict's default output is tab-separated, one row per image. A field that would break a row or
 * be ambiguous to read back — it holds a control character (tab, newline, carriage return, …) or
 * a backslash, or it starts with a double quote — is written as a JSON string literal instead
 * (`"a\nb.png"`), so every row stays one line and a reader can tell the two forms apart: a field
 * starting with `"` is JSON (`JSON.parse` gives the name back), any other is the name as it is.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped.
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f\\]/;

export function tsvField(value: string): string {
  return NEEDS_ESCAPE.test(value) || value.startsWith('"') ? JSON.stringify(value) : value;
}

export function tsvRow(fields: readonly string[]): string {
  return fields.map(tsvField).join('\t');
}
