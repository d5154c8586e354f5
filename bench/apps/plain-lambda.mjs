// The start-up benchmark's reference: the smallest useful cdktf app, plain JavaScript that Node
// runs as is (no TypeScript, no bundle, no cache check, no engine). It synthesizes an AWS provider
// and one LambdaFunction whose code is an existing zip. `node bin/run-ts.mjs main.ts` divided by
// this is what the project's own start costs on top of cdktf itself.
//
// Run it in a project folder: `node <repo>/bench/apps/plain-lambda.mjs`; it writes cdktf.out/
// there. The zip is SWEEP_BENCH_PLAIN_ZIP, by default dist/sweep-lambda.zip in the cwd.
//
// Only the submodules it uses are imported: the package root of @cdktf/provider-aws loads
// every resource of the provider (about 390 MB installed).
import * as path from 'node:path';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { App, TerraformStack } from 'cdktf';

const zip = path.resolve(process.env.SWEEP_BENCH_PLAIN_ZIP ?? path.join('dist', 'sweep-lambda.zip'));
const app = new App();
const stack = new TerraformStack(app, 'plain-lambda');
new AwsProvider(stack, 'aws', { region: 'us-east-1' });
new LambdaFunction(stack, 'function', {
  functionName: 'plain-lambda',
  role: 'arn:aws:iam::123456789012:role/plain-lambda',
  runtime: 'provided.al2023',
  handler: 'bootstrap',
  architectures: ['x86_64'],
  filename: zip,
  memorySize: 256,
  timeout: 30,
});
app.synth();
