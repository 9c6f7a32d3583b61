import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES } from './catalogue';
import { EVENT_DOCS_PATH, renderEventDocs } from './event-docs';

describe('docs/events.md', () => {
  it('is up to date with the catalogue and schemas (run `npm run docs:events` after changing an event)', () => {
    expect(readFileSync(join(__dirname, '../..', EVENT_DOCS_PATH), 'utf8')).toBe(renderEventDocs());
  });

  it('documents every event type with its schema fields and an example', () => {
    const docs = renderEventDocs();
    for (const type of EVENT_TYPES) expect(docs).toContain(`## ${type}\n`);
    expect(docs).toContain('| `amount` | number | yes |');
  });
});
