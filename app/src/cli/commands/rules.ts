import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { createRule, deleteRule, editRule, listRules } from '../../db/rules.js';
import { DEFAULT_TENANT_ID } from '../../db/types.js';
import { UserError } from '../../errors.js';
import { describeRulesPlan, planRulesApply } from '../../rules/apply-plan.js';
import { evaluateRule } from '../../rules/evaluate.js';
import { parseRulesFile, serializeRules } from '../../rules/rules-file.js';
import { parseRuleInput } from '../../rules/validate.js';
import { loadCommandConfig, withDatabase } from '../context.js';

function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`Cannot read the ${what} ${path}: ${(error as Error).message}`, 'check the path');
  }
}

function parseDocument(text: string, path: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new UserError(`${path} is neither valid YAML nor JSON: ${(error as Error).message}`, 'fix the syntax at the position given');
  }
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('Rules as code: export, apply and test rules');

  rules
    .command('export')
    .description("Write the tenant's rules as YAML (to stdout, or --output)")
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (options: { output?: string }, command: Command) => {
      const config = loadCommandConfig(command);
      await withDatabase(config, async (db) => {
        const text = serializeRules(await listRules(db, DEFAULT_TENANT_ID));
        if (options.output) writeFileSync(options.output, text);
        else process.stdout.write(text);
      });
    });

  rules
    .command('apply')
    .description('Make the database match a rules file (rules keyed by name); prints what it creates, changes and removes')
    .requiredOption('-f, --file <file>', 'rules file (YAML or JSON, as written by `rules export`)')
    .option('--dry-run', 'print the plan and change nothing')
    .action(async (options: { file: string; dryRun?: boolean }, command: Command) => {
      const config = loadCommandConfig(command);
      const desired = parseRulesFile(readInputFile(options.file, 'rules file'), options.file);
      await withDatabase(config, async (db) => {
        const plan = planRulesApply(await listRules(db, DEFAULT_TENANT_ID), desired);
        process.stdout.write(`${describeRulesPlan(plan)}\n`);
        if (options.dryRun) {
          process.stdout.write('dry run: nothing changed\n');
          return;
        }
        for (const rule of plan.remove) await deleteRule(db, DEFAULT_TENANT_ID, rule.ruleId);
        for (const { current, desired: next } of plan.change) await editRule(db, DEFAULT_TENANT_ID, current.ruleId, next);
        for (const rule of plan.create) await createRule(db, DEFAULT_TENANT_ID, rule);
        const changed = plan.create.length + plan.change.length + plan.remove.length;
        process.stdout.write(changed === 0 ? 'nothing to change\n' : `applied ${changed} change(s)\n`);
      });
    });

  rules
    .command('test')
    .description('Evaluate one rule against one JSON payload with the server\'s evaluator')
    .requiredOption('--rule <file>', 'one rule, YAML or JSON (the rules file format of a single rule)')
    .requiredOption('--payload <file>', 'the event payload, JSON')
    .action((options: { rule: string; payload: string }) => {
      const document = parseDocument(readInputFile(options.rule, 'rule file'), options.rule);
      const single =
        document && typeof document === 'object' && 'rules' in document && Array.isArray(document.rules) && document.rules.length === 1
          ? (document.rules[0] as unknown)
          : document;
      const rule = parseRuleInput(single);
      let payload: unknown;
      try {
        payload = JSON.parse(readInputFile(options.payload, 'payload file'));
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new UserError(`${options.payload} is not valid JSON: ${(error as Error).message}`, 'fix the payload file');
      }
      // The sample rate decides whether a sensor evaluates at all; a test always evaluates.
      const result = evaluateRule({ orGroups: rule.orGroups, sampleRate: 1 }, payload);
      process.stdout.write(`${JSON.stringify({ matched: result.matched, error: result.error })}\n`);
      process.stderr.write(`${JSON.stringify({ decidedBy: result.trace }, null, 2)}\n`);
    });
}
