/** The fields shown on a person's line, in this order, when an event has them. */
const SHOWN_FIELDS = ['stack', 'release', 'slot', 'from', 'to', 'previous', 'snapshot', 'applied', 'images', 'lock', 'holder', 'reason', 'warning', 'error'] as const;

const LEVEL_MARKS: Record<number, string> = { 10: '·', 20: '·', 30: '✓', 40: '!', 50: '✗', 60: '✗' };

function shownValue(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((item) => shownValue(item) ?? '').join(', ');
  if (typeof value === 'object') return undefined;
  return String(value);
}

function seconds(durationMs: number): string {
  return durationMs < 10_000 ? `${(durationMs / 1000).toFixed(1)} s` : `${Math.round(durationMs / 1000)} s`;
}

/**
 * One deployment event (a pino JSON record) as the one line a person reads:
 * `10:15:02 ✓ health gate passed  slot=green release=0.3.0-… (4.6 s)`. Secrets are already
 * redacted by pino before a record gets here.
 */
export function formatDeployEventLine(record: Readonly<Record<string, unknown>>): string {
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const mark = LEVEL_MARKS[typeof record.level === 'number' ? record.level : 30] ?? '·';
  const message = typeof record.msg === 'string' && record.msg !== '' ? record.msg : String(record.event ?? '');
  const details = SHOWN_FIELDS.flatMap((field) => {
    const value = shownValue(record[field]);
    return value === undefined ? [] : [`${field}=${value}`];
  });
  const duration = typeof record.durationMs === 'number' ? ` (${seconds(record.durationMs)})` : '';
  return `${time} ${mark} ${message}${details.length > 0 ? `  ${details.join(' ')}` : ''}${duration}`;
}

/**
 * A pino destination that writes each record as one human-readable line to `output`, at once
 * (no buffering of its own, so nothing is lost when the process exits right after an event).
 * A line that is not JSON (it should not happen) is passed through as it is rather than lost.
 */
export function humanLineStream(output: NodeJS.WritableStream): { write(chunk: string): void } {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      let text = '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          text += `${formatDeployEventLine(JSON.parse(line) as Record<string, unknown>)}\n`;
        } catch {
          text += `${line}\n`;
        }
      }
      if (text !== '') output.write(text);
    },
  };
}
