/** RFC 4180 fields: quoted only when they hold a comma, quote or line break. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: (string | number)[]): string {
  return values.map(csvField).join(',');
}
