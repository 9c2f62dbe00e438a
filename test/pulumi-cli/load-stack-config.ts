/**
 * Runs the Pulumi program's config loader (loadStackConfig, what index.ts calls first) in a
 * process that receives the stack's config the way the nodejs language host hands it to a
 * program (PULUMI_NODEJS_STACK, PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS), and prints the outcome
 * as one JSON line: {"ok":true} or {"ok":false,"problems":[...]}.
 *
 *   node --import tsx test/pulumi-cli/load-stack-config.ts <project dir>
 */
import { ConfigError, loadStackConfig } from '../../providers/config.js';

const dir = process.argv[2] ?? process.cwd();
try {
  loadStackConfig({ dir, processEnv: {} });
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stdout.write(`${JSON.stringify({ ok: false, problems: error.problems })}\n`);
}
