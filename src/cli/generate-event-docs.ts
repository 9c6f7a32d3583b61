import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_DOCS_PATH, renderEventDocs } from '../events/event-docs';

/** `npm run docs:events`: rewrites docs/events.md from the event catalogue and its JSON Schemas. */
writeFileSync(join(__dirname, '../..', EVENT_DOCS_PATH), renderEventDocs());
console.log(`event docs → ${EVENT_DOCS_PATH}`);
