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
