/**
 * The layering of the toolkit, checked by `npm run lint:layers` (part of `npm test`):
 * components/ is the target-independent release pipeline and knows no target; providers/ holds
 * each target (the Pulumi resources and the implementation of the pipeline's ports) and may
 * use components/, never the other way round; tkctl/ (the operator CLI) sits on top of both.
 */
module.exports = {
  forbidden: [
    {
      name: 'components-know-no-target',
      comment: 'components/ must not import providers/: a target implements the ports in components/release/ports.ts instead',
      severity: 'error',
      from: { path: '^components/' },
      to: { path: '^providers/' },
    },
    {
      name: 'components-do-not-import-the-program',
      comment: 'components/ must not import the Pulumi program (index.ts)',
      severity: 'error',
      from: { path: '^components/' },
      to: { path: '^index\\.ts$' },
    },
    {
      name: 'nothing-imports-the-operator-cli',
      comment: 'tkctl/ is the outermost layer: it may use providers/ and components/, never the other way round',
      severity: 'error',
      from: { path: '^(components|providers)/' },
      to: { path: '^tkctl/' },
    },
    {
      name: 'no-circular',
      comment: 'modules of the toolkit do not import each other in a circle',
      severity: 'error',
      from: { path: '^(components|providers|tkctl)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^app/' },
  },
};
