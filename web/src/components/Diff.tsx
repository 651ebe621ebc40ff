/** Inline diff rendering: removed text struck through in red, added text in green. */
import { diffLines, diffWords, type DiffLine } from '../lib/diff';

function Pieces({ parts, joiner }: { parts: DiffLine[]; joiner: string }) {
  return (
    <>
      {parts.map((p, i) => (
        <span key={i} className={`d-${p.op}`}>
          {p.text}
          {joiner}
        </span>
      ))}
    </>
  );
}

export function TextDiff({
  before,
  after,
  mode = 'words',
}: {
  before: string;
  after: string;
  mode?: 'words' | 'lines';
}) {
  if (before === after) return <p className="muted same-note">No difference.</p>;
  const parts = mode === 'words' ? diffWords(before, after) : diffLines(before, after);
  return (
    <pre className="diff" data-testid="diff">
      <Pieces parts={parts} joiner={mode === 'lines' ? '\n' : ''} />
    </pre>
  );
}
