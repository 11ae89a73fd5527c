import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WalSync } from '../../server/wal-sync.js';
import { tempBase } from './helpers.js';

describe('WalSync', () => {
  it('syncs the file for every caller, concurrent ones included, and reopens a file that was missing', async () => {
    const file = path.join(tempBase('wal'), 'q.sqlite-wal');
    const w = new WalSync(file);
    await expect(w.sync()).rejects.toMatchObject({ code: 'ENOENT' });
    writeFileSync(file, 'frames');
    const order: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => w.sync().then(() => order.push(i))));
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await w.sync();
    await w.close();
  });
});
