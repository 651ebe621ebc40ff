import { GatewayError } from '../common/errors';
import type { ChatCompletionRequest } from '../common/openai.types';
import type { ImageToTextConfig } from '../config/config.types';
import { chatRequest, deepFreeze, imagePart, textPart } from './__fixtures__/requests';
import { DEFAULT_IMAGE_PROMPT, hasImages, imageKey, ImageToTextService } from './image-to-text';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==';
const HTTP = 'https://images.example/cat.jpg';
const cfg: ImageToTextConfig = { model: 'vision' };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A describe callback that records its calls and answers "description of <url>". */
function recorder() {
  const calls: Array<{ url: string; prompt: string }> = [];
  const describe = async (url: string, prompt: string) => {
    calls.push({ url, prompt });
    return `description of ${url.slice(0, 30)}`;
  };
  return { calls, describe };
}

function metrics() {
  const counts = { hit: 0, miss: 0 };
  return { counts, metrics: { hit: () => void counts.hit++, miss: () => void counts.miss++ } };
}

const oneImage = (url: string): ChatCompletionRequest =>
  chatRequest([{ role: 'user', content: [textPart('what is it?'), imagePart(url)] }]);

describe('image_to_text', () => {
  it('hasImages finds image parts in any message', () => {
    expect(hasImages(oneImage(HTTP))).toBe(true);
    expect(hasImages(chatRequest([{ role: 'user', content: [textPart('no')] }]))).toBe(false);
    expect(hasImages(chatRequest([{ role: 'user', content: 'no' }]))).toBe(false);
  });

  it('keys a data URL by its content and any other URL by its string', () => {
    expect(imageKey('data:image/png;base64,QUJD')).toBe(imageKey('data:image/jpeg;base64,QUJD'));
    expect(imageKey('data:image/png;base64,QUJD')).not.toBe(imageKey('data:image/png;base64,QUJE'));
    expect(imageKey(HTTP)).toMatch(/^[0-9a-f]{64}$/);
    expect(imageKey(HTTP)).not.toBe(imageKey(`${HTTP}?v=2`));
  });

  it('replaces every image part in place, in every message, without mutating the request', async () => {
    const { calls, describe } = recorder();
    const req = deepFreeze(
      chatRequest([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [textPart('first'), imagePart(PNG), textPart('between'), imagePart(HTTP)] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [imagePart('https://images.example/dog.png')] },
      ]),
    );
    const before = structuredClone(req);
    const out = await new ImageToTextService({}).describeImages(req, cfg, describe);
    expect(out.messages).toEqual([
      { role: 'system', content: 'be brief' },
      {
        role: 'user',
        content: [
          textPart('first'),
          textPart(`[Image description: description of ${PNG.slice(0, 30)}]`),
          textPart('between'),
          textPart(`[Image description: description of ${HTTP.slice(0, 30)}]`),
        ],
      },
      { role: 'assistant', content: 'ok' },
      {
        role: 'user',
        content: [textPart('[Image description: description of https://images.example/dog.png]')],
      },
    ]);
    expect(out.messages[0]).toBe(req.messages[0]);
    expect(calls.map((c) => c.url)).toEqual([PNG, HTTP, 'https://images.example/dog.png']);
    expect(calls.every((c) => c.prompt === DEFAULT_IMAGE_PROMPT)).toBe(true);
    expect(req).toEqual(before);
  });

  it('returns the request itself when it has no images', async () => {
    const req = chatRequest([{ role: 'user', content: 'hi' }]);
    const { calls, describe } = recorder();
    expect(await new ImageToTextService({}).describeImages(req, cfg, describe)).toBe(req);
    expect(calls).toHaveLength(0);
  });

  it('passes the configured prompt to the vision call', async () => {
    const { calls, describe } = recorder();
    await new ImageToTextService({}).describeImages(
      oneImage(HTTP),
      { model: 'vision', prompt: 'Say it.' },
      describe,
    );
    expect(calls).toEqual([{ url: HTTP, prompt: 'Say it.' }]);
  });

  it('serves the second call from the cache, and counts hits and misses', async () => {
    const { calls, describe } = recorder();
    const { counts, metrics: m } = metrics();
    const svc = new ImageToTextService({ metrics: m });
    const first = await svc.describeImages(oneImage(PNG), cfg, describe);
    const second = await svc.describeImages(oneImage(PNG), cfg, describe);
    expect(calls).toHaveLength(1);
    expect(second).toEqual(first);
    expect(counts).toEqual({ hit: 1, miss: 1 });
  });

  it('keeps one cache per model and prompt', async () => {
    const { calls, describe } = recorder();
    const svc = new ImageToTextService({});
    await svc.describeImages(oneImage(PNG), cfg, describe);
    await svc.describeImages(oneImage(PNG), { model: 'vision', prompt: 'Other.' }, describe);
    await svc.describeImages(oneImage(PNG), { model: 'vision-2' }, describe);
    await svc.describeImages(oneImage(PNG), { model: 'vision-2' }, describe);
    expect(calls).toHaveLength(3);
  });

  it('evicts the least recently used description beyond cache_max', async () => {
    const { calls, describe } = recorder();
    const svc = new ImageToTextService({});
    const small: ImageToTextConfig = { model: 'vision', cache_max: 2 };
    for (const url of ['https://i/1', 'https://i/2', 'https://i/3', 'https://i/1']) {
      await svc.describeImages(oneImage(url), small, describe);
    }
    expect(calls.map((c) => c.url)).toEqual(['https://i/1', 'https://i/2', 'https://i/3', 'https://i/1']);
  });

  it('describes an image again once its cached description has expired', async () => {
    // the cache reads time from performance.now(); a controlled clock makes expiry exact
    let now = 1_000_000;
    const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
    // the cache keeps a reading for 1 ms of real time; let it lapse after each clock move
    const lapse = () => new Promise((resolve) => setTimeout(resolve, 5));
    try {
      const { calls, describe } = recorder();
      const svc = new ImageToTextService({});
      const short: ImageToTextConfig = { model: 'vision', cache_ttl_s: 60 };
      await svc.describeImages(oneImage(PNG), short, describe);
      now += 59_000;
      await lapse();
      await svc.describeImages(oneImage(PNG), short, describe);
      expect(calls).toHaveLength(1);
      now += 2_000;
      await lapse();
      await svc.describeImages(oneImage(PNG), short, describe);
      expect(calls).toHaveLength(2);
    } finally {
      clock.mockRestore();
    }
  });

  it('makes one vision call for identical images in flight at once', async () => {
    const pending = deferred<string>();
    let n = 0;
    const describe = () => {
      n++;
      return pending.promise;
    };
    const { counts, metrics: m } = metrics();
    const svc = new ImageToTextService({ metrics: m });
    const twice = chatRequest([{ role: 'user', content: [imagePart(PNG), imagePart(PNG)] }]);
    const a = svc.describeImages(twice, cfg, describe);
    const b = svc.describeImages(oneImage(PNG), cfg, describe);
    pending.resolve('a red square');
    const [outA, outB] = await Promise.all([a, b]);
    expect(n).toBe(1);
    expect(counts).toEqual({ hit: 2, miss: 1 });
    expect(outA.messages[0]?.content).toEqual([
      textPart('[Image description: a red square]'),
      textPart('[Image description: a red square]'),
    ]);
    expect(outB.messages[0]?.content).toEqual([
      textPart('what is it?'),
      textPart('[Image description: a red square]'),
    ]);
  });

  it('fails with a 502 GatewayError naming the model, and does not cache the failure', async () => {
    const svc = new ImageToTextService({});
    let n = 0;
    const failing = async () => {
      n++;
      throw new Error('upstream said: cannot see');
    };
    const err: unknown = await svc.describeImages(oneImage(PNG), cfg, failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, code: 'image_description_failed', type: 'api_error' });
    expect((err as GatewayError).message).toMatch(/image description via model `vision` failed.*cannot see/i);
    await expect(svc.describeImages(oneImage(PNG), cfg, failing)).rejects.toBeInstanceOf(GatewayError);
    expect(n).toBe(2);
    const { calls, describe } = recorder();
    const ok = await svc.describeImages(oneImage(PNG), cfg, describe);
    expect(calls).toHaveLength(1);
    expect(JSON.stringify(ok.messages)).toContain('[Image description: description of');
  });

  it.each<[number, string, string | null]>([
    [400, 'invalid_request_error', 'messages'],
    [503, 'api_error', null],
    [504, 'api_error', null],
  ])('keeps the status %s of a GatewayError from the describe callback', async (status, type, param) => {
    const svc = new ImageToTextService({});
    const refuses = async (): Promise<string> => {
      throw new GatewayError(status, 'Invalid image.');
    };
    const err = (await svc
      .describeImages(oneImage(PNG), cfg, refuses)
      .catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.toBody()).toEqual({
      error: {
        message: 'Image description via model `vision` failed: Invalid image.',
        type,
        param,
        code: 'image_description_failed',
      },
    });
    expect(err.status).toBe(status);
  });

  it('shares a failure with every caller waiting on the same image', async () => {
    const pending = deferred<string>();
    const svc = new ImageToTextService({});
    const a = svc.describeImages(oneImage(PNG), cfg, () => pending.promise);
    const b = svc.describeImages(oneImage(PNG), cfg, () => pending.promise);
    pending.reject(new Error('boom'));
    await expect(a).rejects.toMatchObject({ status: 502 });
    await expect(b).rejects.toMatchObject({ status: 502 });
  });

  it('turns a describe callback that throws at once into the same error', async () => {
    const svc = new ImageToTextService({});
    const throwsNow = (): Promise<string> => {
      throw new Error('no route for model');
    };
    await expect(svc.describeImages(oneImage(PNG), cfg, throwsNow)).rejects.toMatchObject({ status: 502 });
  });

  it('never leaks credentials from the failure into the message', async () => {
    const svc = new ImageToTextService({});
    const leaky = async () => {
      throw new Error(
        'request to https://up.example/v1?key=AIzaSECRET1 with Authorization: Bearer live-SECRET2 failed (sk-gw-SECRET3)',
      );
    };
    const err = (await svc
      .describeImages(oneImage(HTTP), cfg, leaky)
      .catch((e: unknown) => e)) as GatewayError;
    expect(err.message).not.toMatch(/SECRET/);
    expect(err.message).toContain('[redacted]');
  });
});
