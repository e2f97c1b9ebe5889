// Plain-text tables drawn with box-drawing rules, and numbers with thousands separators.

/** A table column: its header and how its cells line up. */
export interface Column {
  readonly header: string;
  readonly align: 'left' | 'right';
}

/** An integer with comma thousands separators: 693962 → "693,962" (rounded, locale-independent). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 && Math.round(n) !== 0 ? `-${digits}` : digits;
}

/** A cell padded to `width` on the side its column asks for. */
function pad(text: string, width: number, align: Column['align']): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/** A horizontal rule from its left, junction and right pieces. */
function rule(widths: readonly number[], left: string, mid: string, right: string): string {
  return left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
}

/** One row of cells between vertical bars. */
function row(cells: readonly string[], widths: readonly number[], aligns: readonly Column['align'][]): string {
  return `│ ${cells.map((c, i) => pad(c, widths[i], aligns[i])).join(' │ ')} │`;
}

/**
 * A boxed table: header row, a rule, then `rows` (each with one cell per column). Cells must
 * already be single-line strings; missing cells print empty.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const filled = rows.map((r) => columns.map((_, i) => r[i] ?? ''));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...filled.map((r) => r[i].length)));
  return [
    rule(widths, '┌', '┬', '┐'),
    row(columns.map((c) => c.header), widths, columns.map(() => 'left')),
    rule(widths, '├', '┼', '┤'),
    ...filled.map((r) => row(r, widths, columns.map((c) => c.align))),
    rule(widths, '└', '┴', '┘'),
  ].join('\n');
}
