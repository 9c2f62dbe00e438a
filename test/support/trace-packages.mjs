// A module loader hook for tests: writes every bare package specifier a process resolves to
// stderr as `tk-resolve <specifier>`, so a test can see which packages a command loads.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      "export async function resolve(specifier, context, next) { if (!/^(node:|\\.|\\/|file:|data:)/.test(specifier)) process.stderr.write('tk-resolve ' + specifier + '\\n'); return next(specifier, context); }",
    ),
);
