/** Turns the app's JSON log lines into one short line each, so that a launcher's output reads beside its guide. */

const ROUTINE = new Set(['level', 'time', 'pid', 'hostname', 'app', 'msg']);
const LEVELS: Record<number, string> = { 40: 'WARN ', 50: 'ERROR ', 60: 'FATAL ' };

/** `  [source 12:00:00] WARN message key=value ...`; a line that is not JSON passes through prefixed. */
export function compactLogLine(source: string, line: string): string {
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(record)
      .filter(([key]) => !ROUTINE.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    const time = new Date(typeof record.time === 'number' ? record.time : Date.now()).toTimeString().slice(0, 8);
    const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? '') : '';
    return `  [${source} ${time}] ${level}${String(record.msg ?? '')} ${fields.join(' ')}\n`;
  } catch {
    return `  [${source}] ${line}\n`;
  }
}
