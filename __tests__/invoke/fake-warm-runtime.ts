// A stand-in `bootstrap` that serves invocations in a loop, as a real runtime does, for the tests
// of warm environments, the pool and the Invoke API: a Node.js script run by this Node binary
// through its #! line. It answers with what proves reuse (its pid, how many events it has served)
// and with the label of the code version it was built from (hot reload). The event says what
// else to do:
// - {"log": ["a", "b"]}: print those lines on stdout first; {"stderr": "x"}: one on stderr;
// - {"sleepMs": N}: take N ms;
// - {"fail": "message"}: report a function error {"errorType": "Boom", "errorMessage": message};
// - {"exit": N}: exit with code N without answering; {"hang": true}: never answer.
// FAKE_INIT_LOG (configured environment) is printed during init, FAKE_INIT_SLEEP_MS makes init
// take that long, and FAKE_INIT_ERROR makes it fail with Runtime.ConfigInvalid and that message.
import type { CodeSource } from '../../invoke/function-code.js';
import { fakeMetadata } from './fake-runtime.js';
import { makeZip } from './zip-fixtures.js';

export function warmRuntime(label: string): string {
  return `#!${process.execPath}
const http = require('node:http');
const LABEL = ${JSON.stringify(label)};
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = (method, path, body, headers) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: '/2018-06-01/runtime/' + path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  if (process.env.FAKE_INIT_LOG) console.log(process.env.FAKE_INIT_LOG);
  if (process.env.FAKE_INIT_SLEEP_MS) await sleep(Number(process.env.FAKE_INIT_SLEEP_MS));
  if (process.env.FAKE_INIT_ERROR) {
    const report = JSON.stringify({ errorType: 'Runtime.ConfigInvalid', errorMessage: process.env.FAKE_INIT_ERROR });
    await call('POST', 'init/error', report, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ConfigInvalid' });
    process.exit(1);
  }
  let count = 0;
  for (;;) {
    const next = await call('GET', 'invocation/next');
    if (next.status !== 200) process.exit(1);
    count += 1;
    const id = next.headers['lambda-runtime-aws-request-id'];
    const parsed = JSON.parse(next.body);
    const event = typeof parsed === 'object' && parsed !== null ? parsed : {};
    for (const line of event.log || []) console.log(line);
    if (event.stderr) console.error(event.stderr);
    if (event.sleepMs) await sleep(event.sleepMs);
    if (event.exit !== undefined) process.exit(event.exit);
    // An interval keeps the process up: a promise that never settles would not.
    if (event.hang) await new Promise(() => setInterval(() => {}, 1000));
    if (event.fail) {
      const report = JSON.stringify({ errorType: 'Boom', errorMessage: event.fail });
      await call('POST', 'invocation/' + id + '/error', report, { 'Lambda-Runtime-Function-Error-Type': 'Boom' });
      continue;
    }
    const answer = {
      label: LABEL,
      requestId: id,
      pid: process.pid,
      count,
      event: parsed,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      arn: next.headers['lambda-runtime-invoked-function-arn'],
      clientContext: next.headers['lambda-runtime-client-context'] || null,
      taskRoot: process.env.LAMBDA_TASK_ROOT,
    };
    await call('POST', 'invocation/' + id + '/response', JSON.stringify(answer));
  }
})();
`;
}

/** The answer of a successful invocation of {@link warmRuntime}. */
export interface WarmAnswer {
  readonly label: string;
  readonly requestId: string;
  readonly pid: number;
  readonly count: number;
  readonly event: unknown;
  readonly functionName: string;
  readonly arn: string;
  readonly clientContext: string | null;
  readonly taskRoot: string;
}

/** The builder image "this machine's configuration" names in these tests: never the metadata's own tag. */
export const CONFIGURED_BUILDER_IMAGE = 'sweep-builder:configured-here';

/** A zip of {@link warmRuntime} written by `write`, with metadata that runs it on this machine. */
export function warmCode(write: (name: string, bytes: Uint8Array) => string, label: string): CodeSource {
  return {
    zipPath: write(`${label}.zip`, makeZip({ bootstrap: warmRuntime(label) })),
    metadata: fakeMetadata(),
    builderImage: CONFIGURED_BUILDER_IMAGE,
  };
}
