import type { PendingMigrationsReport } from './pending-migrations.js';

/**
 * The pending-migrations report for a PR comment: errors first (they fail the check), then the
 * SQL of each pending migration in a fenced block, then one warning per destructive statement
 * naming its file and line.
 */
export function renderPendingMarkdown(report: PendingMigrationsReport): string {
  const out: string[] = [];
  const base = `\`${report.base}\` (${report.baseCommit.slice(0, 12)})`;
  out.push(`### Pending migrations`, '');
  if (report.problems.length > 0) {
    out.push(`**Errors** (\`trapperkeeper migrate\` would refuse these):`, '');
    for (const problem of report.problems) out.push(`- \`${problem.file}\`: ${problem.message}. Fix: ${problem.fix}.`);
    out.push('');
  }
  if (report.pending.length === 0) {
    out.push(`No pending migrations in ${report.dialects.join(', ') || 'any dialect'} relative to ${base}.`);
    return `${out.join('\n')}\n`;
  }
  out.push(`${report.pending.length} migration file(s) new relative to ${base}; the next release applies them before it switches traffic.`, '');
  for (const migration of report.pending) {
    const fence = fenceFor(migration.sql);
    out.push(`#### \`${migration.file}\``, '', `${fence}sql`, migration.sql.replace(/\r\n/g, '\n').replace(/\n$/, ''), fence, '');
  }
  const warnings = report.pending.flatMap((migration) => migration.findings.map((finding) => ({ migration, finding })));
  if (warnings.length === 0) {
    out.push('No destructive statements found.');
  } else {
    out.push(`**Destructive statements** (${warnings.length}): the release still serving runs on the migrated schema until the switch.`, '');
    for (const { migration, finding } of warnings) {
      out.push(`- :warning: \`${migration.file}:${finding.line}\` ${finding.rule}: \`${finding.summary}\`: ${finding.risk}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The same for a terminal: one line per file, warning and error. */
export function renderPendingText(report: PendingMigrationsReport): string {
  const out: string[] = [];
  for (const problem of report.problems) out.push(`error: ${problem.message}`, `  fix: ${problem.fix}`);
  if (report.pending.length === 0) out.push(`no pending migrations relative to ${report.base} (${report.baseCommit.slice(0, 12)})`);
  for (const migration of report.pending) {
    out.push(`pending: ${migration.file}`);
    for (const finding of migration.findings) out.push(`  warning: ${migration.file}:${finding.line} ${finding.rule}: ${finding.summary}: ${finding.risk}`);
  }
  return `${out.join('\n')}\n`;
}

/** A backtick fence longer than any backtick run in the text, so the SQL cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}
