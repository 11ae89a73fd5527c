import type { ValidationResult } from '../engine/index.js';

/** Human-readable lines for every validation error: node id, class, input and reason. */
export function formatValidationErrors(v: ValidationResult): string[] {
  const lines: string[] = [];
  if (v.error && Object.keys(v.node_errors).length === 0) lines.push(`${v.error.message}${v.error.details ? `: ${v.error.details}` : ''}`);
  else if (v.error) lines.push(v.error.message);
  for (const [id, ne] of Object.entries(v.node_errors)) {
    for (const e of ne.errors) {
      const input = e.extra_info.input_name ? ` input '${e.extra_info.input_name}'` : '';
      lines.push(`  node ${id} (${ne.class_type || '?'})${input}: ${e.message}${e.details && e.details !== e.extra_info.input_name ? ` [${e.details}]` : ''}`);
    }
  }
  return lines;
}
