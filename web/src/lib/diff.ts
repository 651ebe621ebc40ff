/** Line diff (longest common subsequence), enough for comparing two replies side by side. */

export type DiffLine = { op: 'same' | 'add' | 'del'; text: string };

export function diffSeq(x: readonly string[], y: readonly string[]): DiffLine[] {
  // Keep the table bounded: very long texts are compared as whole blocks.
  if (x.length * y.length > 4_000_000) {
    return x.join('') === y.join('')
      ? x.map((text) => ({ op: 'same', text }))
      : [
          ...x.map((text): DiffLine => ({ op: 'del', text })),
          ...y.map((text): DiffLine => ({ op: 'add', text })),
        ];
  }
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i]!;
    const below = lcs[i + 1]!;
    for (let j = m - 1; j >= 0; j--) {
      row[j] = x[i] === y[j] ? below[j + 1]! + 1 : Math.max(below[j]!, row[j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: 'same', text: x[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: 'del', text: x[i++]! });
    } else {
      out.push({ op: 'add', text: y[j++]! });
    }
  }
  while (i < n) out.push({ op: 'del', text: x[i++]! });
  while (j < m) out.push({ op: 'add', text: y[j++]! });
  return out;
}

export function diffLines(a: string, b: string): DiffLine[] {
  return diffSeq(a.split('\n'), b.split('\n'));
}

/** Word-level diff: words and the spaces between them are the units. */
export function diffWords(a: string, b: string): DiffLine[] {
  const tok = (s: string): string[] => s.split(/(\s+)/).filter((t) => t !== '');
  return diffSeq(tok(a), tok(b));
}
