// A test that expects TokenBucketWarnings takes them here instead of letting Node print them: the
// output of a passing run stays empty, and the test can say which warnings it expected.

export interface SeenWarning {
  code: unknown;
  message: string;
}

/**
 * From now until `restore()`, the TokenBucketWarnings emitted are collected in `warnings` and not
 * printed; any other warning goes on to Node as usual.
 */
export function captureTokenBucketWarnings(): { warnings: SeenWarning[]; restore(): void } {
  const warnings: SeenWarning[] = [];
  const original = process.emitWarning;
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: unknown, ...rest: unknown[]) => {
    const o = options as { type?: string; code?: unknown } | undefined;
    if (o?.type === 'TokenBucketWarning') warnings.push({ code: o.code, message: String(warning) });
    else (original as (...args: unknown[]) => void).call(process, warning, options, ...rest);
  }) as typeof process.emitWarning);
  return { warnings, restore: () => spy.mockRestore() };
}
