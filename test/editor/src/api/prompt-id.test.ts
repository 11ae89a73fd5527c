import { describe, expect, it } from 'vitest';
import { newPromptId } from '../../../../editor/src/api/prompt-id.js';

describe('newPromptId', () => {
  it('makes distinct version-4 UUIDs the server accepts as prompt ids', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newPromptId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
