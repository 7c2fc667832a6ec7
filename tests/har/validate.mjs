// Validates HAR files against the HAR 1.2 JSON schema with har-validator (ajv + har-schema).
// Usage: node validate.mjs FILE...   Prints one line per file; exits 1 if any is invalid.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const validate = require('har-validator');

let bad = 0;
for (const file of process.argv.slice(2)) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`INVALID ${file}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  try {
    await validate.har(data);
    console.log(`ok ${file} (${data.log.entries.length} entries)`);
  } catch (e) {
    bad++;
    const errors = (e.errors || [e]).map((x) => `${x.dataPath ?? ''} ${x.message}`).join('; ');
    console.log(`INVALID ${file}: ${errors}`);
  }
}
process.exit(bad ? 1 : 0);
