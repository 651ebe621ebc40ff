import { useState } from 'react';
import { copyText } from '../lib/format';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'ok' | 'fail' | null>(null);
  return (
    <button
      type="button"
      className="btn small"
      onClick={() => {
        copyText(text).then(
          () => setDone('ok'),
          () => setDone('fail'),
        );
        window.setTimeout(() => setDone(null), 1500);
      }}
    >
      {done === 'ok' ? 'Copied' : done === 'fail' ? 'Copy failed' : label}
    </button>
  );
}
