// One call of the official OpenAI Node SDK (installed by tests/e2e/test_node_sdk.py into NODE_SDK_DIR) against
// the service, with the SDK's default retries (maxRetries 2). Prints exactly one JSON line on stdout:
//   {"ok": true, "history_id": ..., "items": n, "attempts": [...]}
//   {"ok": false, "name": "APIError", "status": 502, "error": {...}, "attempts": [...]}
// Each attempt is one HTTP request the SDK sent: its x-stainless-retry-count header, and the status and
// x-should-retry header of its answer (or the name of the error that ended it, e.g. a timeout).
//
//   NODE_SDK_DIR=.cache/node-sdk node tests/node/call.mjs '{"baseURL": "http://127.0.0.1:5100/v1",
//     "apiKey": "<session id>", "timeout": 2000, "kind": "images", "body": {"prompt": "a cat"}}'
import { createRequire } from 'node:module';
import path from 'node:path';

const spec = JSON.parse(process.argv[2]);
const sdkDir = process.env.NODE_SDK_DIR;
if (!sdkDir) {
  throw new Error('NODE_SDK_DIR must name the folder where the openai package is installed');
}
const require = createRequire(path.join(path.resolve(sdkDir), 'package.json'));
const { OpenAI } = require('openai');

const attempts = [];
async function countedFetch(url, init) {
  const attempt = { retry_count: new Headers(init?.headers).get('x-stainless-retry-count') };
  attempts.push(attempt);
  try {
    const response = await fetch(url, init);
    attempt.status = response.status;
    attempt.should_retry = response.headers.get('x-should-retry');
    return response;
  } catch (err) {
    attempt.error = err?.name ?? String(err);
    throw err;
  }
}

const options = { baseURL: spec.baseURL, apiKey: spec.apiKey, fetch: countedFetch };
if (spec.timeout !== undefined) {
  options.timeout = spec.timeout; // milliseconds
}
const client = new OpenAI(options); // maxRetries left at its default (2)

let outcome;
try {
  if (spec.kind === 'chat') {
    const completion = await client.chat.completions.create(spec.body);
    outcome = { ok: true, history_id: completion.history_id ?? null, items: completion.choices.length };
  } else {
    const images = await client.images.generate(spec.body);
    outcome = { ok: true, history_id: images.history_id ?? null, items: images.data?.length ?? 0 };
  }
} catch (err) {
  outcome = {
    ok: false,
    name: err?.constructor?.name ?? 'Error',
    status: err?.status ?? null,
    error: err?.error ?? null,
    message: String(err?.message ?? err),
  };
}
process.stdout.write(JSON.stringify({ ...outcome, attempts }) + '\n');
