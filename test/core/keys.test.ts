// keyHeaders over Node's rawHeaders (every line of a repeated header kept apart, names in any
// case), and the Bearer token's exact shape.
import { apiKeyFromHeaders, keyHeaders } from '@tokenbucket/core/adapter';
import { apiKeyOf } from '../../packages/core/src/http/keys';

describe('keyHeaders from rawHeaders', () => {
  test('X-API-Key and Authorization lines in any case, each kept apart; other headers ignored', () => {
    const rawHeaders = ['Host', 'x', 'X-Api-Key', 'first', 'x-forward', 'same length as x-api-key', 'AUTHORIZATION', 'Bearer a', 'x-api-key', 'second'];
    rawHeaders.push('Authorisation', 'Bearer not-read', 'authorization', 'Bearer b');
    expect(keyHeaders({ headers: {}, rawHeaders })).toEqual({ 'x-api-key': ['first', 'second'], authorization: ['Bearer a', 'Bearer b'] });
  });

  test('neither header: both undefined, so no key', () => {
    const headers = keyHeaders({ headers: { 'x-api-key': 'from headers' }, rawHeaders: ['Host', 'x', 'Accept', '*/*'] });
    expect(headers).toEqual({ 'x-api-key': undefined, authorization: undefined });
    expect(apiKeyFromHeaders(headers)).toBeUndefined();
  });

  test('one line each: the key, and a repeated X-API-Key is no key', () => {
    expect(apiKeyFromHeaders(keyHeaders({ headers: {}, rawHeaders: ['x-api-key', 'k1'] }))).toBe('k1');
    expect(apiKeyFromHeaders(keyHeaders({ headers: {}, rawHeaders: ['x-api-key', 'k1', 'X-API-KEY', 'k2'] }))).toBeUndefined();
    expect(apiKeyFromHeaders(keyHeaders({ headers: {}, rawHeaders: ['Authorization', 'Bearer t1'] }))).toBe('t1');
  });

  test('a name without its value (an odd-length list) is not read', () => {
    expect(keyHeaders({ headers: {}, rawHeaders: ['Host', 'x', 'x-api-key'] })).toEqual({ 'x-api-key': undefined, authorization: undefined });
  });
});

describe("apiKeyOf: the request path's one-pass reading", () => {
  // Every case is checked against the two-step reading (keyHeaders, then apiKeyFromHeaders).
  const cases: [string, string[]][] = [
    ['none', ['Host', 'x', 'Accept', '*/*']],
    ['X-API-Key', ['x-api-key', 'k1']],
    ['X-API-Key in another case, padded', ['X-Api-Key', '  k1 ']],
    ['X-API-Key repeated', ['x-api-key', 'k1', 'X-API-KEY', 'k2']],
    ['X-API-Key repeated, Authorization once', ['x-api-key', 'k1', 'x-api-key', 'k2', 'authorization', 'Bearer t']],
    ['X-API-Key blank, Bearer token', ['x-api-key', '   ', 'Authorization', 'Bearer t1']],
    ['Bearer token', ['AUTHORIZATION', 'Bearer  t1 ']],
    ['Authorization repeated', ['authorization', 'Bearer a', 'Authorization', 'Bearer b']],
    ['Authorization not Bearer', ['authorization', 'Basic abc']],
    ['a name without its value', ['Host', 'x', 'x-api-key']],
    ['same lengths, other names', ['x-forward', 'a', 'authorisation', 'Bearer t']],
  ];
  test.each(cases)('%s', (_name, rawHeaders) => {
    const req = { headers: {}, rawHeaders };
    expect(apiKeyOf(req)).toBe(apiKeyFromHeaders(keyHeaders(req)));
  });

  test('without rawHeaders: headersDistinct, else headers, as keyHeaders reads them', () => {
    expect(apiKeyOf({ headers: { 'x-api-key': 'h' }, headersDistinct: { 'x-api-key': ['d'] } })).toBe('d');
    expect(apiKeyOf({ headers: { 'x-api-key': 'h' } })).toBe('h');
    expect(apiKeyOf({ headers: {}, headersDistinct: { 'x-api-key': ['d1', 'd2'] } })).toBeUndefined();
  });
});

describe('the Bearer token', () => {
  test.each([
    ['Bearer after another word', 'Token Bearer abc', undefined],
    ['several spaces before the token', 'Bearer   abc', 'abc'],
    ['a tab before the token', 'Bearer\tabc', 'abc'],
    ['a comma after the token', 'Bearer abc,def', undefined],
    ['text after the token', 'Bearer abc;x', 'abc;x'],
    ['surrounding whitespace', '  Bearer abc \t', 'abc'],
  ])('%s', (_label, authorization, expected) => {
    expect(apiKeyFromHeaders({ authorization })).toBe(expected);
  });
});
