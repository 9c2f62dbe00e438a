import { parseRuleInput, RuleValidationError, type NewRule } from '../rules/validate.js';
import { formToRuleInput, issueField, type FormIssue, type RuleFormState } from './rule-form.js';

/**
 * The editor form to a validated rule, or every problem placed on the field it concerns:
 * the form's own issues (unreadable path, non-number) first, then the validator's for the
 * fields the form did not already flag, so one submit reports everything at once.
 */
export function validateRuleForm(form: RuleFormState): { rule: NewRule } | { issues: FormIssue[] } {
  const { input, issues } = formToRuleInput(form);
  try {
    const rule = parseRuleInput(input);
    if (issues.length === 0) return { rule };
  } catch (error) {
    if (!(error instanceof RuleValidationError)) throw error;
    const flagged = new Set(issues.map((issue) => issue.field));
    for (const issue of error.issues) {
      const field = issueField(issue.path);
      if (!flagged.has(field)) issues.push({ field, message: issue.message });
    }
  }
  return { issues };
}
