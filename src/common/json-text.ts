/** A text parsed as JSON when it is JSON (`json: true`), else the text itself as the value. */
export function jsonOrText(text: string): { value: unknown; json: boolean } {
  try {
    return { value: JSON.parse(text) as unknown, json: true };
  } catch {
    return { value: text, json: false };
  }
}
