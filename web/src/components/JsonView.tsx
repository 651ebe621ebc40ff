/** A JSON tree that folds (per node, or all at once) and copies. */
import { useState, type ReactNode } from 'react';
import { pretty } from '../lib/format';
import { CopyButton } from './CopyButton';

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="j-null">null</span>;
  switch (typeof value) {
    case 'string':
      return <span className="j-str">{JSON.stringify(value)}</span>;
    case 'number':
      return <span className="j-num">{String(value)}</span>;
    case 'boolean':
      return <span className="j-bool">{String(value)}</span>;
    default:
      return <span>{String(value)}</span>;
  }
}

function Node({
  name,
  value,
  depth,
  open: openAt,
  last,
}: {
  name: string | null;
  value: unknown;
  depth: number;
  open: number;
  last: boolean;
}) {
  const [open, setOpen] = useState(depth < openAt);
  const label: ReactNode = name !== null ? <span className="j-key">{JSON.stringify(name)}: </span> : null;
  const comma = last ? '' : ',';
  if (typeof value !== 'object' || value === null) {
    return (
      <div className="j-line">
        {label}
        <Scalar value={value} />
        {comma}
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const entries: Array<[string, unknown]> = isArray
    ? value.map((v, i): [string, unknown] => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [o, c] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return (
      <div className="j-line">
        {label}
        {o}
        {c}
        {comma}
      </div>
    );
  }
  return (
    <div className="j-node">
      <div className="j-line">
        <button type="button" className="j-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? '▾' : '▸'}
        </button>
        {label}
        {o}
        {!open && (
          <button type="button" className="j-folded" onClick={() => setOpen(true)}>
            {isArray ? `${entries.length} items` : `${entries.length} keys`}
          </button>
        )}
        {!open && `${c}${comma}`}
      </div>
      {open && (
        <>
          <div className="j-children">
            {entries.map(([k, v], i) => (
              <Node
                key={k}
                name={isArray ? null : k}
                value={v}
                depth={depth + 1}
                open={openAt}
                last={i === entries.length - 1}
              />
            ))}
          </div>
          <div className="j-line">
            {c}
            {comma}
          </div>
        </>
      )}
    </div>
  );
}

export function JsonView({
  value,
  title,
  openDepth = 2,
}: {
  value: unknown;
  title?: string;
  openDepth?: number;
}) {
  const [depth, setDepth] = useState(openDepth);
  const [gen, setGen] = useState(0);
  const [raw, setRaw] = useState(false);
  const text = pretty(value);
  return (
    <section className="json-view">
      <header className="json-head">
        {title && <h3>{title}</h3>}
        <div className="json-tools">
          <button type="button" className="btn small" onClick={() => (setDepth(99), setGen(gen + 1))}>
            Expand all
          </button>
          <button type="button" className="btn small" onClick={() => (setDepth(1), setGen(gen + 1))}>
            Fold
          </button>
          <button type="button" className="btn small" onClick={() => setRaw(!raw)}>
            {raw ? 'Tree' : 'Raw'}
          </button>
          <CopyButton text={text} />
        </div>
      </header>
      {value === undefined || value === null ? (
        <p className="muted pad">Not stored.</p>
      ) : raw ? (
        <pre className="json-raw">{text}</pre>
      ) : (
        <div className="json-tree" key={gen}>
          <Node name={null} value={value} depth={0} open={depth} last />
        </div>
      )}
    </section>
  );
}
