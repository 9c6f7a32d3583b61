import { writeFileSync } from 'node:fs';
import { readSchemaDir, renderSchemaIndex, SCHEMA_INDEX_PATH } from '../events/schema-codegen';

/** `npm run schemas:generate`: rewrites src/events/schemas/index.generated.ts from the JSON Schema files. */
function main(): void {
  const files = readSchemaDir();
  writeFileSync(SCHEMA_INDEX_PATH, renderSchemaIndex(files));
  console.log(`schemas: ${files.length} files → ${SCHEMA_INDEX_PATH}`);
}

try {
  main();
} catch (err) {
  console.error(`schemas: ${(err as Error).message}`);
  process.exit(1);
}
