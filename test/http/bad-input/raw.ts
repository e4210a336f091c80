// A GET sent over a plain TCP socket, byte for byte, for the requests no HTTP client will send:
// non-ASCII bytes (Node's client refuses them), control characters, and a header given twice on
// two lines (clients join or refuse repeated headers). Everything else goes through supertest.
import { connect } from 'node:net';
import type { RunningApp } from '../harness';
import { addressOf } from '../running-app';

export interface RawReply {
  status: number;
  /** Lower-case names; the last value of a repeated header. */
  headers: Record<string, string | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the server sent; each test reads the fields it expects
  body: any;
}

/** A header line: a string of ASCII, or a Buffer for exact bytes. */
export type HeaderLine = string | Buffer;

const CRLF = Buffer.from('\r\n');

/** Sends one GET with exactly these header lines, and reads the answer until the server closes. */
export function rawGet(app: RunningApp, path: string, lines: HeaderLine[]): Promise<RawReply> {
  const { hostname, port } = addressOf(app);
  const head = Buffer.concat([
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`),
    ...lines.flatMap((line) => [typeof line === 'string' ? Buffer.from(line, 'ascii') : line, CRLF]),
    CRLF,
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(port, hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${hostname}:${port}${path}`)));
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
export const remaining = (r: { headers: Record<string, string | undefined> }): number | undefined => {
  const m = /;r=(\d+);/.exec(r.headers.ratelimit ?? '');
  return m === null ? undefined : Number(m[1]);
};
