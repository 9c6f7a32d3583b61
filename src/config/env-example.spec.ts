import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARIABLES, EnvironmentVariables } from './env';

function exampleEntries(): Map<string, string> {
  const text = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
  const entries = text
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]);
  return new Map(entries);
}

describe('.env.example', () => {
  it('lists exactly the variables the app reads', () => {
    expect([...exampleEntries().keys()].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it('shows each variable with its real default', () => {
    const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
    for (const [name, value] of exampleEntries()) {
      expect(`${name}=${value}`).toBe(`${name}=${defaults[name] ?? ''}`);
    }
  });
});

describe('README configuration table', () => {
  function readmeRows(): Map<string, string> {
    const text = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const section = text.slice(text.indexOf('## Configuration'), text.indexOf('\n## ', text.indexOf('## Configuration') + 1));
    const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)];
    return new Map(rows.map(([, name, defaultCell]) => [name, defaultCell.trim()]));
  }

  it('lists exactly the variables the app reads', () => {
    expect([...readmeRows().keys()].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it('shows the real default of each variable', () => {
    const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
    for (const [name, cell] of readmeRows()) {
      const expected = defaults[name] === undefined || defaults[name] === '' ? '—' : `\`${defaults[name]}\``;
      expect(`${name}: ${cell}`).toBe(`${name}: ${expected}`);
    }
  });
});
