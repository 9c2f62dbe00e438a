import { Command, Option } from 'commander';
import { DEFAULT_DATA_DIR, LOG_LEVELS } from '../config/defaults.js';
import { BUILD_INFO } from '../version.js';
import { registerApiKeysCommand } from './commands/api-keys.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerRulesCommand } from './commands/rules.js';
import { registerSensorApiCommand } from './commands/sensor-api.js';
import { registerStartCommand } from './commands/start.js';
import { registerUsersCommand } from './commands/users.js';
import { registerVersionCommand } from './commands/version.js';
import { registerWebUiCommand } from './commands/web-ui.js';
import { exitWithError } from './exit.js';

const program = new Command('trapperkeeper')
  .description('TrapperKeeper: rule-based data observability server')
  .version(BUILD_INFO.version, '-V, --version-number', 'print the version number')
  .option('--data-dir <dir>', `data directory; SQLite lives here by default (env TK_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
  .option('--db-url <url>', 'database URL: sqlite://path, postgres://..., mysql://... (env TK_DATABASE_URL)')
  .addOption(new Option('--log-level <level>', 'log level (env TK_LOG_LEVEL)').choices(LOG_LEVELS))
  .option('--config <file>', 'read this TOML file instead of the default locations (env TK_CONFIG_FILE)')
  .showHelpAfterError();

registerSensorApiCommand(program);
registerWebUiCommand(program);
registerMigrateCommand(program);
registerVersionCommand(program);
registerRulesCommand(program);
registerUsersCommand(program);
registerApiKeysCommand(program);
registerStartCommand(program);

program.parseAsync(process.argv).catch(exitWithError);
