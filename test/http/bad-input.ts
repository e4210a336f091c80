// Bad input and abuse: every odd caller key a client can send, and every garbage a `key` or
// `cost` function can return, has one defined answer on Express, Fastify and Koa. Requests go
// over a plain TCP socket, byte for byte, since fetch refuses non-ASCII and joins repeated headers.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { AdapterHarness, AppSpec, LimitOptions, RunningApp } from './contract';
import { suiteApps } from './suite-apps';

interface RawReply {
  status: number;
  /** Lower-case names; the last value of a repeated header. */
  headers: Record<string, string>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A header line: a string of ASCII, or a Buffer for exact bytes. */
type HeaderLine = string | Buffer;

const SLOW = 1 / 3600;
const CRLF = Buffer.from('\r\n');

/** Sends one GET with exactly these header lines, and reads the answer until the server closes. */
function rawGet(app: RunningApp, path: string, lines: HeaderLine[]): Promise<RawReply> {
  const { hostname, port } = new URL(app.url);
  const head = Buffer.concat([
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`),
    ...lines.flatMap((line) => [typeof line === 'string' ? Buffer.from(line, 'ascii') : line, CRLF]),
    CRLF,
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${app.url}${path}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseReply(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err);
      }
    });
    socket.write(head);
  });
}

function parseReply(text: string): RawReply {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let payload = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    for (let at = 0; ; ) {
      const eol = payload.indexOf('\r\n', at);
      const size = parseInt(payload.slice(at, eol), 16);
      if (!(size > 0)) break;
      out += payload.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    payload = out;
  }
  let body: unknown = payload;
  try {
    body = JSON.parse(payload);
  } catch {
    // not JSON: keep the text
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

/** Whole tokens left in the route's bucket, from the RateLimit header; undefined without one. */
const remaining = (r: RawReply): number | undefined => {
  const m = /;r=(\d+);/.exec(r.headers.ratelimit ?? '');
  return m === null ? undefined : Number(m[1]);
};

export function runBadInputContract(harness: AdapterHarness): void {
  describe(`bad input: ${harness.name}`, () => {
    const suite = suiteApps(harness, `bad-${harness.name}`);

    /** One limited route on its own path, so buckets never leak between tests. */
    const single = async (limit: LimitOptions, extra: Partial<AppSpec> = {}) => {
      const { app, path } = await suite.single(limit, extra, `/b${randomBytes(3).toString('hex')}`);
      return { app, path, get: (...lines: HeaderLine[]) => rawGet(app, path, lines) };
    };

    /** Every way of sending no usable key: each is treated exactly like sending none. */
    const KEYLESS: [string, HeaderLine[]][] = [
      ['no key header at all', []],
      ['an empty X-API-Key', ['X-API-Key:']],
      ['an X-API-Key of blanks', ['X-API-Key:    ']],
      ['X-API-Key given twice', ['X-API-Key: alpha', 'X-API-Key: beta']],
      ['X-API-Key given twice with one value', ['X-API-Key: alpha', 'X-API-Key: alpha']],
      ['X-API-Key given twice, one line empty', ['X-API-Key:', 'X-API-Key: alpha']],
      ['X-API-Key given twice beside a good Bearer token', ['X-API-Key: alpha', 'X-API-Key: beta', 'Authorization: Bearer gamma']],
      ['Authorization: Bearer with no token', ['Authorization: Bearer']],
      ['Authorization: Bearer and blanks', ['Authorization: Bearer   ']],
      ['Authorization: Bearer with two tokens', ['Authorization: Bearer a b']],
      ['Authorization: Basic', ['Authorization: Basic dXNlcjpwYXNz']],
      ['Authorization given twice', ['Authorization: Bearer alpha', 'Authorization: Bearer beta']],
    ];

    test("every keyless request is limited by client IP, all in the one IP bucket ('ip', the default)", async () => {
      const { get } = await single({ capacity: KEYLESS.length, refillPerSecond: SLOW });
      const seen = [];
      for (const [label, lines] of KEYLESS) {
        const r = await get(...lines);
        seen.push([label, r.status, remaining(r)]);
      }
      expect(seen).toEqual(KEYLESS.map(([label], i) => [label, 200, KEYLESS.length - 1 - i]));
      const over = await get('X-API-Key: alpha', 'X-API-Key: beta');
      expect([over.status, over.headers['retry-after']]).toEqual([429, '3600']);
      // The keys that were named are untouched: each still has its own full bucket.
      for (const k of ['alpha', 'beta', 'gamma']) expect(remaining(await get(`X-API-Key: ${k}`))).toBe(KEYLESS.length - 1);
      // "alpha, beta" on one line is one (odd) key of its own, not either of the two.
      expect(remaining(await get('X-API-Key: alpha, beta'))).toBe(KEYLESS.length - 1);
    });

    test("every keyless request answers 401 under onMissingKey 'reject', with no bucket touched", async () => {
      const { get } = await single({ capacity: 1, refillPerSecond: SLOW, onMissingKey: 'reject' });
      for (const [label, lines] of KEYLESS) {
        const r = await get(...lines);
        expect([label, r.status, r.headers['www-authenticate'], r.headers.ratelimit]).toEqual([label, 401, 'Bearer', undefined]);
        expect(r.body).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
      expect((await get('Authorization: Bearer alpha')).status).toBe(200);
      expect((await get('X-API-Key: alpha')).status).toBe(429); // the same key either way
    });

    test('an empty X-API-Key falls through to a Bearer token', async () => {
      const { get } = await single({ capacity: 2, refillPerSecond: SLOW });
      expect(remaining(await get('X-API-Key:', 'Authorization: Bearer alpha'))).toBe(1);
      expect(remaining(await get('X-API-Key: alpha'))).toBe(0);
      expect(remaining(await get())).toBe(1); // the IP bucket is another
    });

    test('an 8000-character key works, and only its hash reaches Redis', async () => {
      const { get } = await single({ capacity: 1, refillPerSecond: SLOW });
      const long = `${randomBytes(8).toString('hex')}${'k'.repeat(7984)}`;
      expect((await get(`X-API-Key: ${long}`)).status).toBe(200);
      expect((await get(`Authorization: Bearer ${long}`)).status).toBe(429);
      expect((await get(`X-API-Key: ${long.slice(0, -1)}`)).status).toBe(200);
      const keys = await suite.pool.keys(`${suite.prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(k).toMatch(/:\{[A-Za-z0-9_-]{22}\}$/);
        expect(k).not.toContain(long.slice(0, 16));
      }
    });

    test('headers past the server limit (a 20000-character key): 431 from Node, before the limiter', async () => {
      const { get } = await single({ capacity: 2, refillPerSecond: SLOW });
      const r = await get(`X-API-Key: ${'k'.repeat(20_000)}`);
      expect(r.status).toBe(431);
      expect(r.headers.ratelimit).toBeUndefined();
      expect(remaining(await get())).toBe(1); // nothing was taken from the IP bucket either
    });

    test('non-ASCII bytes: the latin1 string Node parses is just a key, byte for byte', async () => {
      const { get } = await single({ capacity: 1, refillPerSecond: SLOW });
      const utf8 = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from('ключ-é-🔑', 'utf8')]);
      const latin1 = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from([0xe9])]); // é as one byte
      const utf8E = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from('é', 'utf8')]); // é as two
      expect((await get(utf8)).status).toBe(200);
      expect((await get(utf8)).status).toBe(429); // the same bytes are the same caller
      expect((await get(latin1)).status).toBe(200);
      expect((await get(utf8E)).status).toBe(200); // other bytes, another caller
      expect((await get(latin1)).status).toBe(429);
      expect(remaining(await get())).toBe(0); // and none of them was the IP bucket
    });

    test('control characters in a key: 400 from Node, before the limiter', async () => {
      const { get } = await single({ capacity: 2, refillPerSecond: SLOW });
      for (const byte of [0x00, 0x01, 0x7f]) {
        const r = await get(Buffer.concat([Buffer.from('X-API-Key: a'), Buffer.from([byte]), Buffer.from('b')]));
        expect([byte, r.status, r.headers.ratelimit]).toEqual([byte, 400, undefined]);
      }
      expect(remaining(await get())).toBe(1);
    });

    test('a key function that returns garbage: a clear error through the framework, never a pass', async () => {
      const KEYS: Record<string, unknown> = { object: { id: 1 }, number: 42, zero: 0, boolean: true, array: ['k'], nan: NaN };
      const { get } = await single({
        capacity: 2,
        refillPerSecond: SLOW,
        key: (req) => {
          const which = harness.header(req, 'x-case')!;
          return (which === 'good' ? 'k' : which === 'none' ? null : KEYS[which]) as string;
        },
      });
      const expected: Record<string, string> = { object: 'an object', number: '42', zero: '0', boolean: 'true', array: 'an array of 1', nan: 'NaN' };
      for (const which of Object.keys(KEYS)) {
        const r = await get(`X-Case: ${which}`);
        expect([which, r.status, r.body?.handledBy]).toEqual([which, 500, 'framework']);
        expect(r.body.message).toBe(
          `tokenbucket: the \`key\` function must return a string (or undefined for none); got ${expected[which]}.`,
        );
      }
      expect(remaining(await get('X-Case: good'))).toBe(1); // nothing was taken by the failures
      expect(remaining(await get('X-Case: none'))).toBe(1); // null is "no key": the IP bucket
      expect((await get('X-Case: good')).status).toBe(200);
      expect((await get('X-Case: good')).status).toBe(429);
    });

    test('a cost function that returns garbage: a clear error through the framework, never a pass', async () => {
      const COSTS: Record<string, unknown> = {
        nan: NaN,
        infinity: Infinity,
        'minus-infinity': -Infinity,
        negative: -1,
        string: '1',
        undefined: undefined,
        null: null,
        object: { cost: 1 },
      };
      const { get } = await single({
        capacity: 2,
        refillPerSecond: SLOW,
        cost: (req) => {
          const which = harness.header(req, 'x-case')!;
          return (which === 'good' ? 1 : COSTS[which]) as number;
        },
      });
      const expected: Record<string, string> = {
        nan: 'NaN',
        infinity: 'Infinity',
        'minus-infinity': '-Infinity',
        negative: '-1',
        string: '"1"',
        undefined: 'undefined',
        null: 'null',
        object: 'an object',
      };
      for (const which of Object.keys(COSTS)) {
        const r = await get('X-API-Key: k', `X-Case: ${which}`);
        expect([which, r.status, r.body?.handledBy]).toEqual([which, 500, 'framework']);
        expect(r.body.message).toBe(`tokenbucket: option \`cost\` must be a finite number >= 0; got ${expected[which]}.`);
      }
      expect(remaining(await get('X-API-Key: k', 'X-Case: good'))).toBe(1); // nothing was taken by the failures
      expect((await get('X-API-Key: k', 'X-Case: good')).status).toBe(200);
      expect((await get('X-API-Key: k', 'X-Case: good')).status).toBe(429);
    });

    test('a huge finite cost is 413, not an error and not a pass', async () => {
      const { get } = await single({ capacity: 2, refillPerSecond: SLOW, cost: () => Number.MAX_VALUE });
      const r = await get('X-API-Key: k');
      expect([r.status, r.headers['retry-after'], remaining(r)]).toEqual([413, undefined, 2]);
    });
  });
}
