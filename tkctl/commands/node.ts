import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { isMap, isScalar, parseDocument } from 'yaml';
import { DeployError } from '../../components/errors.js';
import { CONFIG_NAMESPACE } from '../../providers/config.js';
import { dockerHostProblem, STACK_NAME_PATTERN } from '../../providers/docker/config.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { lastDeployments, type DeploymentRecord } from '../deploy-history.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { productionMarker } from '../production-marker.js';
import { openProject, pulumiError, readStackConfig, shortStackName, type ProjectWorkspace } from '../pulumi-workspace.js';
import { fillStackSecrets, stackExists } from '../stack-secrets.js';

export const NODE_HELP = `Usage: tkctl node add <name> --host ssh://user@host[:port] [--json]
       tkctl node list [--json]

One stack per maintainer node: a production stack of its own, on that maintainer's Docker host.
  add   creates the stack <name> from the prod template (Pulumi.prod.yaml) with its own
        docker.host, written to Pulumi.<name>.yaml, and generates its secrets as tkctl init
        does. Refuses a name that is already a stack, or whose Pulumi.<name>.yaml exists.
        Then: pulumi stack select <name> (or --stack <name>) and tkctl up. Commit
        Pulumi.<name>.yaml (its secrets are encrypted) so CI previews the node too.
  list  every node stack (tagged ${'trapperkeeper:node'}) with its host and last tkctl run

Options:
      --host <url>  add: the node's Docker engine over SSH, ssh://user@host or ssh://user@host:port
                    (a user in the host's docker group, with a key in your ssh-agent)
      --json        add: {"stack", "host", "file", "secrets"}; list: [{"stack", "host", ...}]
  -h, --help        this text`;

/** The Pulumi stack tag that marks a node stack (set by node add; set it by hand to adopt one). */
export const NODE_TAG = 'trapperkeeper:node';
export const NODE_TEMPLATE = 'Pulumi.prod.yaml';
const DOCKER_KEY = `${CONFIG_NAMESPACE}:docker`;
const HOST_EXAMPLE = 'ssh://deploy@alice.example.com';

export async function nodeCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'node', options: { ...JSON_OPTION, host: { type: 'string' } }, positionals: { min: 1, max: 2 } });
    if (values.help) return void line(io.stdout, NODE_HELP);
    const [action, name] = positionals;
    if (values.stack) throw new DeployError('tkctl node takes the stack name as its argument, not --stack', `tkctl node add ${values.stack} --host ${values.host ?? HOST_EXAMPLE}`);
    if (action === 'list') {
      if (name !== undefined) throw new DeployError(`tkctl node list takes no argument (got ${name})`, 'tkctl node list');
      return listNodes(io, values.json === true);
    }
    if (action !== 'add') throw new DeployError(`tkctl node: unknown action "${action}"`, `tkctl node add <name> --host ${HOST_EXAMPLE}, or tkctl node list`);
    if (!name) throw new DeployError('tkctl node add: the node\'s name is required', `tkctl node add alice --host ${HOST_EXAMPLE}`);
    return addNode(io, name, values.host, values.json === true);
  });
}

async function addNode(io: TkctlIo, name: string, host: string | undefined, json: boolean): Promise<void> {
  const nameProblem = nodeNameProblem(name);
  if (nameProblem) throw new DeployError(`tkctl node add: the name "${name}" ${nameProblem}`, `tkctl node add ${suggestName(name)} --host ${host ?? HOST_EXAMPLE}`);
  if (host === undefined) throw new DeployError('tkctl node add: --host is required (the node\'s Docker engine over SSH)', `tkctl node add ${name} --host ${HOST_EXAMPLE}`);
  const hostProblem = nodeHostProblem(host);
  if (hostProblem) {
    throw new DeployError(`tkctl node add: --host "${host}" ${hostProblem}; it must be ssh://user@host[:port]`, `tkctl node add ${name} --host ${HOST_EXAMPLE}  # or ssh://deploy@10.0.0.5:2222`);
  }

  const project = await openProject(io.cwd);
  const template = join(project.dir, NODE_TEMPLATE);
  if (!existsSync(template)) throw new DeployError(`No ${NODE_TEMPLATE} in ${project.dir}: node stacks are made from it`, `git checkout -- ${NODE_TEMPLATE}`);
  if (await stackExists(project, name)) {
    throw new DeployError(
      `Stack ${name} already exists; node add makes new stacks only`,
      `choose another name (tkctl node list shows the nodes), or change its host: pulumi config set --path docker.host ${host} -s ${name}`,
    );
  }
  const file = join(project.dir, `Pulumi.${name}.yaml`);
  if (existsSync(file)) {
    throw new DeployError(
      `Pulumi.${name}.yaml already exists, though this backend has no stack ${name}; node add will not overwrite it`,
      `choose another name, or, if the file is a leftover: rm Pulumi.${name}.yaml && tkctl node add ${name} --host ${host}`,
    );
  }

  progress(io, `writing Pulumi.${name}.yaml from ${NODE_TEMPLATE} with docker.host ${host}`);
  writeFileSync(file, nodeStackFile(readFileSync(template, 'utf8'), name, host));
  let created = false;
  try {
    progress(io, `creating stack ${name}`);
    await LocalWorkspace.createStack({ stackName: name, workDir: project.dir }, { pulumiCommand: project.workspace.pulumiCommand, envVars: project.workspace.envVars }).catch((error: unknown) => {
      throw pulumiError(`Cannot create stack ${name}`, error, 'pulumi login (or set PULUMI_BACKEND_URL), and PULUMI_CONFIG_PASSPHRASE for a passphrase backend');
    });
    created = true;
    await project.workspace.setTag(name, NODE_TAG, 'true').catch((error: unknown) => {
      throw pulumiError(`Cannot tag stack ${name} ${NODE_TAG}=true`, error, 'check the backend: pulumi stack tag ls -s <stack>');
    });
    const secrets = fillStackSecrets(io, project, name);
    const written = configuredHost(project, name);
    if (written !== host) throw new Error(`Pulumi.${name}.yaml has docker.host ${String(written)} after node add, not ${host}`);
    if (json) return writeJson(io, { stack: name, host, file: `Pulumi.${name}.yaml`, template: NODE_TEMPLATE, secrets });
    line(io.stdout, `node stack ${name} created: docker.host ${host}, config in Pulumi.${name}.yaml (from ${NODE_TEMPLATE}), ${Object.keys(secrets).length} secret(s) generated`);
    line(io.stdout, `next: pulumi stack select ${name} && tkctl up   (or tkctl up --stack ${name}); commit Pulumi.${name}.yaml`);
  } catch (error) {
    // All or nothing: a half-made node (a stack without secrets) would only confuse the retry.
    if (created) await project.workspace.removeStack(name, { force: true }).catch(() => undefined);
    rmSync(file, { force: true });
    throw error;
  }
}

interface NodeRow {
  stack: string;
  host: string | null;
  production: boolean;
  /** The stack file is missing in this checkout (another maintainer's node, not committed yet). */
  stackFile: boolean;
  lastRun: Pick<DeploymentRecord, 'command' | 'result' | 'startedAt' | 'release' | 'commit'> | null;
}

async function listNodes(io: TkctlIo, json: boolean): Promise<void> {
  const project = await openProject(io.cwd);
  const stacks = await project.workspace.listStacks().catch((error: unknown) => {
    throw pulumiError('Cannot list the stacks', error, 'pulumi login (or set PULUMI_BACKEND_URL), and PULUMI_CONFIG_PASSPHRASE for a passphrase backend');
  });
  const rows: NodeRow[] = [];
  for (const summary of stacks) {
    const stack = shortStackName(summary.name);
    const tags = await project.workspace.listTags(stack).catch((error: unknown) => {
      throw pulumiError(`Cannot read the tags of stack ${stack}`, error, `pulumi stack tag ls -s ${stack}`);
    });
    if (tags[NODE_TAG] !== 'true') continue;
    const stackFile = existsSync(join(project.dir, `Pulumi.${stack}.yaml`));
    const config = stackFile ? readStackConfig(project, stack) : new Map();
    const last = lastDeployments(io.cwd, stack, 1)[0];
    rows.push({
      stack,
      host: stackFile ? configuredHost(project, stack, config) ?? null : null,
      production: productionMarker(stack, config) !== undefined,
      stackFile,
      lastRun: last ? { command: last.command, result: last.result, startedAt: last.startedAt, release: last.release, commit: last.commit } : null,
    });
  }
  rows.sort((a, b) => (a.stack < b.stack ? -1 : 1));
  if (json) return writeJson(io, rows);
  if (rows.length === 0) return line(io.stdout, `no node stacks (tkctl node add <name> --host ${HOST_EXAMPLE} makes one)`);
  const width = Math.max(5, ...rows.map((row) => row.stack.length));
  const hostWidth = Math.max(4, ...rows.map((row) => (row.host ?? '').length));
  line(io.stdout, `${'STACK'.padEnd(width)}  ${'HOST'.padEnd(hostWidth)}  LAST TKCTL RUN`);
  for (const row of rows) {
    const host = row.host ?? (row.stackFile ? 'no docker.host' : `no Pulumi.${row.stack}.yaml here`);
    const last = row.lastRun ? `${row.lastRun.command} ${row.lastRun.result} ${row.lastRun.startedAt}${row.lastRun.release ? `, live ${row.lastRun.release}` : ''}` : '-';
    line(io.stdout, `${row.stack.padEnd(width)}  ${host.padEnd(hostWidth)}  ${last}${row.production ? '' : '  (not production)'}`);
  }
}

/** What is wrong with a node's name, or undefined: it names a stack and its Docker objects. */
export function nodeNameProblem(name: string): string | undefined {
  if (!STACK_NAME_PATTERN.test(name)) return 'must be lowercase letters and digits separated by single ".", "_" or "-" (it names the stack and its Docker objects, tk-<name>-...)';
  if (/^pr-\d+$/.test(name)) return 'is a pull request stack\'s name (pr-<number> stacks belong to the PR workflow, which destroys them)';
  return undefined;
}

function suggestName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[._-]+$/g, '');
  return !cleaned || /^pr-\d+$/.test(cleaned) ? 'node-alice' : cleaned;
}

/** What is wrong with a node's --host, or undefined: ssh://user@host[:port] and nothing else. */
export function nodeHostProblem(host: string): string | undefined {
  if (!host.startsWith('ssh://')) return 'is not an ssh:// URL (a node is reached over SSH)';
  const docker = dockerHostProblem(host);
  if (docker) return `is not valid (${/\(([^)]*)\)$/.exec(docker)?.[1] ?? 'not a URL'})`;
  const url = new URL(host);
  if (!url.username) return 'names no user (the user ssh logs in as, in the host\'s docker group)';
  if (url.port === '0') return 'is not valid (port 0)';
  if (url.search || url.hash) return 'is not valid (a ? or # part)';
  return undefined;
}

/** The prod template's text as the node's stack file: its comments kept, its docker.host the node's. */
export function nodeStackFile(template: string, name: string, host: string): string {
  const doc = parseDocument(template);
  if (doc.errors.length > 0) throw new DeployError(`${NODE_TEMPLATE} is not valid YAML: ${doc.errors[0]!.message}`, `git diff ${NODE_TEMPLATE}`);
  const docker = doc.getIn(['config', DOCKER_KEY], true);
  if (!isMap(docker)) throw new DeployError(`${NODE_TEMPLATE} has no ${DOCKER_KEY} section to copy`, `git checkout -- ${NODE_TEMPLATE}`);
  docker.set('host', host);
  // The template's comments about itself (its header, the placeholder host) do not describe the node.
  const hostComment = ` This node's Docker engine (tkctl node add --host). Change: pulumi config set --path docker.host <ssh://...> -s ${name}`;
  const pair = docker.items.find((item) => isScalar(item.key) && item.key.value === 'host');
  if (docker.items[0] === pair) docker.commentBefore = hostComment;
  else if (pair && isScalar(pair.key)) pair.key.commentBefore = hostComment;
  const top = doc.contents;
  if (isMap(top) && top.items[0] && isScalar(top.items[0].key)) top.items[0].key.commentBefore = undefined;
  doc.commentBefore = [
    ` Stack "${name}": a maintainer's node, made by \`tkctl node add ${name} --host ${host}\` from ${NODE_TEMPLATE}.`,
    ' A production stack on its own Docker host, reached over SSH (a key in ssh-agent, for a user in the',
    ' host\'s docker group). Its secrets were generated by tkctl and are stored encrypted below.',
  ].join('\n');
  return doc.toString();
}

/** The stack's docker.host as its config says (Pulumi's view of Pulumi.<stack>.yaml). */
function configuredHost(project: ProjectWorkspace, stack: string, config = readStackConfig(project, stack)): string | undefined {
  const docker = config.get(DOCKER_KEY)?.value;
  if (!docker) return undefined;
  try {
    const host = (JSON.parse(docker) as { host?: unknown }).host;
    return typeof host === 'string' ? host : undefined;
  } catch {
    return undefined;
  }
}
