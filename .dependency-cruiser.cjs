/**
 * The layering of the toolkit, checked by `npm run lint:layers` (part of `npm test`):
 * components/ is the target-independent release pipeline and knows no target; providers/ holds
 * each target (the Pulumi resources and the implementation of the pipeline's ports) and may
 * use components/, never the other way round.
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
      name: 'release-process-loads-no-pulumi-sdk',
      comment:
        'pulumi up starts the release process (providers/release-cli.ts) for every release and rollback; the Pulumi SDKs take seconds to load, so it must not reach them at run time (providers/target-runtimes.ts, not providers/targets.ts)',
      severity: 'error',
      from: { path: '^providers/release-cli\\.ts$' },
      to: { path: 'node_modules/@pulumi/', reachable: true },
    },
    {
      name: 'no-circular',
      comment: 'modules of the toolkit do not import each other in a circle',
      severity: 'error',
      from: { path: '^(components|providers)/' },
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
