import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv, CsvError } from 'csv-parse/sync';
import { parseJson, WorkflowParseError, type JsonValue } from '../../engine/index.js';
import { BatchInputError } from './errors.js';

/** One `target=value` override: `6.text`, `<node title>.text`, or a bare input name such as `seed`. */
export type Override = readonly [target: string, value: JsonValue];

/** One row of a batch file: where it came from (for error messages and the manifest) and its overrides. */
export interface BatchRow {
  /** `batch.csv row 3 (line 4)`. */
  readonly label: string;
  readonly overrides: readonly Override[];
}

function isScalar(v: JsonValue): v is string | number | bigint | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** JSON Lines: one object per non-blank line, keys are override targets, values JSON scalars. */
export function parseJsonlRows(text: string, name: string): BatchRow[] {
  const rows: BatchRow[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const label = `${name} row ${rows.length + problems.length + 1} (line ${i + 1})`;
    let doc: JsonValue;
    try {
      doc = parseJson(line);
    } catch (e) {
      problems.push(`${label}: ${e instanceof WorkflowParseError ? e.message : String(e)}`);
      continue;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`${label}: expected an object of override -> value, got ${Array.isArray(doc) ? 'an array' : typeof doc}`);
      continue;
    }
    const overrides: Override[] = [];
    const bad: string[] = [];
    for (const [k, v] of Object.entries(doc)) {
      if (!k) bad.push('an empty key');
      else if (!isScalar(v)) bad.push(`'${k}' is not a string, number or boolean`);
      else overrides.push([k, v]);
    }
    if (bad.length) problems.push(`${label}: ${bad.join('; ')}`);
    else rows.push({ label, overrides });
  }
  if (problems.length) throw new BatchInputError(problems);
  return rows;
}

/**
 * CSV (RFC 4180) with a header row naming the override targets. Cells stay text (the engine's
 * validation converts them to each input's type); an empty cell leaves that input as it is.
 */
export function parseCsvRows(text: string, name: string, delimiter = ','): BatchRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, info: true, delimiter });
  } catch (e) {
    if (e instanceof CsvError) {
      const line = 'lines' in e && typeof e.lines === 'number' ? ` (line ${e.lines})` : '';
      throw new BatchInputError([`${name}${line}: ${e.message}`]);
    }
    throw e;
  }
  const rows: BatchRow[] = [];
  const problems: string[] = [];
  records.forEach(({ record, info }, i) => {
    const label = `${name} row ${i + 1} (line ${info.lines})`;
    const overrides: Override[] = [];
    for (const [k, v] of Object.entries(record)) {
      if (!k.trim()) {
        if (v !== '') problems.push(`${label}: a value under an empty column header`);
        continue;
      }
      if (v !== '') overrides.push([k.trim(), v]);
    }
    rows.push({ label, overrides });
  });
  if (problems.length) throw new BatchInputError(problems);
  return rows;
}

/** Reads `--batch <file>`: `.jsonl`/`.ndjson` as JSON Lines, `.csv` and `.tsv` as delimited text. */
export async function readBatchFile(file: string): Promise<BatchRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BatchInputError([`cannot read batch file ${file}: ${e instanceof Error ? e.message : String(e)}`]);
  }
  const name = path.basename(file);
  const ext = path.extname(file).toLowerCase();
  let rows: BatchRow[];
  if (ext === '.jsonl' || ext === '.ndjson') rows = parseJsonlRows(text, name);
  else if (ext === '.csv') rows = parseCsvRows(text, name);
  else if (ext === '.tsv') rows = parseCsvRows(text, name, '\t');
  else throw new BatchInputError([`${file}: unknown batch file type '${ext}' (use .jsonl, .csv or .tsv)`]);
  if (!rows.length) throw new BatchInputError([`${file}: no rows`]);
  return rows;
}
