import { join, resolve } from 'node:path';
import { resolveInside } from './serve-ui';

describe('resolveInside', () => {
  const root = resolve('/srv/web/dist');

  it('maps a URL path to a file under the root', () => {
    expect(resolveInside(root, 'assets/index-abc.js')).toBe(join(root, 'assets', 'index-abc.js'));
  });

  it('refuses paths that climb out of the root, encoded or not', () => {
    expect(resolveInside(root, '../package.json')).toBeNull();
    expect(resolveInside(root, '..%2F..%2Fpackage.json')).toBeNull();
    expect(resolveInside(root, 'assets/../../dist-other/x')).toBeNull();
  });

  it('refuses malformed escapes and NUL bytes', () => {
    expect(resolveInside(root, '%E0%A4%A')).toBeNull();
    expect(resolveInside(root, 'index.html%00.js')).toBeNull();
  });
});
