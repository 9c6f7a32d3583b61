import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/** The Node flags before `dist/main.js` in a command's words. */
function nodeFlags(words: string[]): string[] {
  expect(words[0]).toBe('node');
  return words.slice(1, words.indexOf('dist/main.js'));
}

describe('production start command', () => {
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
  const startProd = nodeFlags(scripts['start:prod'].split(/\s+/));

  it('caps the heap, so V8 does not size it from the machine memory', () => {
    expect(startProd).toContainEqual(expect.stringMatching(/^--max-old-space-size=\d+$/));
  });

  it('runs the image with the same Node flags as npm run start:prod', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    expect(nodeFlags(JSON.parse(cmd![1]) as string[])).toEqual(startProd);
  });
});
