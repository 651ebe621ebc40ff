import { chatRequest, deepFreeze } from './__fixtures__/requests';
import { applyDefaults, applyOverrides, dropParams } from './params';

describe('defaults, overrides, drop_params', () => {
  const base = () => deepFreeze(chatRequest([{ role: 'user', content: 'q' }], { temperature: 0.2 }));

  it('defaults set parameters only when absent', () => {
    const out = applyDefaults(base(), { temperature: 1, top_p: 0.5 });
    expect(out).toMatchObject({ temperature: 0.2, top_p: 0.5 });
  });

  it('overrides always set parameters', () => {
    const out = applyOverrides(base(), { temperature: 1, seed: 7 });
    expect(out).toMatchObject({ temperature: 1, seed: 7 });
  });

  it('drop_params removes the listed parameters but never model or messages', () => {
    const out = dropParams(base(), ['temperature', 'user', 'model', 'messages']);
    expect(out).toEqual({ model: 'm', messages: [{ role: 'user', content: 'q' }] });
  });

  it('never mutates its input, and returns it when there is nothing to do', () => {
    const req = base();
    const before = structuredClone(req);
    applyDefaults(req, { top_p: 1 });
    applyOverrides(req, { temperature: 1 });
    dropParams(req, ['temperature']);
    expect(req).toEqual(before);
    expect(applyDefaults(req, { temperature: 9 })).toBe(req);
    expect(applyOverrides(req, {})).toBe(req);
    expect(dropParams(req, ['absent'])).toBe(req);
  });
});
