/** Chat messages as a thread: text, images, reasoning, tool calls and tool results. */
import type { ChatMessage } from '../lib/chat';

function prettyArgs(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

export function MessageBubble({ m }: { m: ChatMessage }) {
  return (
    <div className={`msg msg-${m.role}`} data-role={m.role}>
      <div className="msg-role">
        {m.role}
        {m.name ? ` · ${m.name}` : ''}
        {m.toolCallId ? ` · result of ${m.toolCallId}` : ''}
      </div>
      {m.reasoning && (
        <details className="msg-reasoning">
          <summary>Reasoning</summary>
          <div className="msg-text">{m.reasoning}</div>
        </details>
      )}
      {m.parts.map((p, i) =>
        p.kind === 'text' ? (
          <div key={i} className="msg-text">
            {p.text}
          </div>
        ) : p.kind === 'image' ? (
          <a key={i} href={p.url} target="_blank" rel="noreferrer noopener" className="msg-image">
            <img src={p.url} alt="image sent in the request" loading="lazy" />
          </a>
        ) : (
          <pre key={i} className="msg-other">
            {JSON.stringify(p.value, null, 2)}
          </pre>
        ),
      )}
      {m.toolCalls.map((c) => (
        <div key={c.id} className="msg-tool-call">
          <div className="msg-tool-name">
            <span className="tag">tool call</span> {c.name} <span className="muted">{c.id}</span>
          </div>
          <pre>{prettyArgs(c.arguments)}</pre>
        </div>
      ))}
      {m.parts.length === 0 && m.toolCalls.length === 0 && !m.reasoning && (
        <div className="muted">(empty)</div>
      )}
    </div>
  );
}

export function StatusBadge({ status, http }: { status: string; http?: number }) {
  return (
    <span className={`badge badge-${status}`} title={http !== undefined ? `HTTP ${http}` : undefined}>
      {status}
      {http !== undefined && status !== 'success' ? ` ${http}` : ''}
    </span>
  );
}
