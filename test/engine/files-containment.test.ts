import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { containedLexicalPath, containedPath, containedPathAsync, CounterNaming, PathEscapeError, splitPrefix } from '../../engine/index.js';
import { tempDir } from '../fixtures/temp-dir.js';

/** root/ with a real subfolder and file, links that stay inside, and links to `outside/`. */
function layout() {
  const base = tempDir('lf-contain-');
  const root = path.join(base, 'output');
  const outside = path.join(base, 'elsewhere');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'sub', 'a.png'), 'a');
  writeFileSync(path.join(outside, 'secret.png'), 'secret');
  symlinkSync(outside, path.join(root, 'link_dir'));
  symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'link_in.png'));
  symlinkSync(path.join(root, 'sub'), path.join(root, 'inner_link'));
  symlinkSync(path.join(root, 'sub', 'a.png'), path.join(root, 'alias.png'));
  symlinkSync(path.join(base, 'nowhere'), path.join(root, 'dangling'));
  return { base, root, outside };
}

const ESCAPES = ['../x.png', '/etc/passwd', 'sub/../../x', 'link_dir', 'link_dir/secret.png', 'link_dir/new/deeper/pwn.png', 'link_in.png', 'dangling/x.png', 'a\0b'];
const INSIDE = ['', 'sub', 'sub/a.png', 'sub/not-yet/x.png', 'new/folder/x.png', 'inner_link/a.png', 'alias.png', 'sub/./a.png'];

describe('containedPath: the real path must stay inside the folder', () => {
  it('refuses lexical escapes and symlinks out of the folder, sync and async alike', async () => {
    const { root } = layout();
    for (const sub of ESCAPES) {
      expect(() => containedPath(root, sub), sub).toThrow(PathEscapeError);
      await expect(containedPathAsync(root, sub), sub).rejects.toThrow(PathEscapeError);
    }
  });

  it('accepts names inside, links that stay inside, and names not created yet; returns the lexical path', async () => {
    const { root } = layout();
    for (const sub of INSIDE) {
      expect(containedPath(root, sub), sub).toBe(path.resolve(root, sub));
      expect(await containedPathAsync(root, sub), sub).toBe(path.resolve(root, sub));
    }
  });

  it('allows a folder that is itself a symlink, and a folder that does not exist yet', () => {
    const { base, root } = layout();
    const linkedRoot = path.join(base, 'linked-output');
    symlinkSync(root, linkedRoot);
    expect(containedPath(linkedRoot, 'sub/a.png')).toBe(path.join(linkedRoot, 'sub/a.png'));
    expect(() => containedPath(linkedRoot, 'link_dir/x.png')).toThrow(PathEscapeError);
    expect(containedPath(path.join(base, 'missing', 'root'), 'a/b.png')).toBe(path.join(base, 'missing', 'root', 'a/b.png'));
  });

  it('never names the server folder in its message', () => {
    const { root } = layout();
    try {
      containedPath(root, 'link_dir/secret.png');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain(root);
    }
  });

  it('model folders stay lexical: a symlinked model folder is allowed, `..` is not', () => {
    const { root } = layout();
    expect(containedLexicalPath(root, 'link_dir')).toBe(path.join(root, 'link_dir'));
    expect(() => containedLexicalPath(root, '../x')).toThrow(PathEscapeError);
  });
});

describe('output naming follows the same rule', () => {
  it("refuses filename_prefix 'link_dir/pwn' and creates nothing outside", async () => {
    const { root, outside } = layout();
    expect(() => splitPrefix(root, 'link_dir/pwn')).toThrow(PathEscapeError);
    expect(() => splitPrefix(root, 'link_dir/new/pwn')).toThrow(PathEscapeError);
    const naming = new CounterNaming({ output: root, temp: root });
    await expect(naming.reserve({ type: 'output', prefix: 'link_dir/new/pwn', extension: 'png', count: 1, nodeId: '1' })).rejects.toThrow(PathEscapeError);
    expect(readdirSync(outside)).toEqual(['secret.png']);
    const ok = await naming.reserve({ type: 'output', prefix: 'inner_link/fine', extension: 'png', count: 1, nodeId: '1' });
    expect(ok[0]!.path).toBe(path.join(root, 'inner_link', 'fine_00001_.png'));
    expect(existsSync(path.join(root, 'sub'))).toBe(true);
  });
});
