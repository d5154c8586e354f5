// lambdaEnvironment: which of the function's configured variables win over Lambda's.
import { describe, expect, it } from '@jest/globals';
import { lambdaEnvironment } from '../../invoke/lambda-environment.js';

const base = {
  functionName: 'fn',
  memorySize: 128,
  region: 'us-east-1',
  runtimeApi: '127.0.0.1:9001',
  handler: 'bootstrap',
  taskRoot: '/var/task',
  now: new Date('2024-03-05T23:59:59Z'),
};

describe('lambdaEnvironment', () => {
  it("uses Lambda's paths for code in /var/task and names the log stream by the UTC date", () => {
    const env = lambdaEnvironment({ ...base, configured: {} });
    expect(env.LAMBDA_TASK_ROOT).toBe('/var/task');
    expect(env.LD_LIBRARY_PATH).toBe('/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib');
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^2024\/03\/05\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_LAMBDA_LOG_GROUP_NAME).toBe('/aws/lambda/fn');
  });

  it('lets the configuration override the unreserved variables but never the reserved ones', () => {
    const env = lambdaEnvironment({
      ...base,
      configured: { TZ: 'Europe/Paris', PATH: '/opt/bin', AWS_REGION: 'mars-1', _HANDLER: 'x', LAMBDA_TASK_ROOT: '/elsewhere' },
    });
    expect(env).toMatchObject({
      TZ: 'Europe/Paris',
      PATH: '/opt/bin',
      AWS_REGION: 'us-east-1',
      _HANDLER: 'bootstrap',
      LAMBDA_TASK_ROOT: '/var/task',
    });
  });

  it('drops credentials and the keys Lambda leaves unset for a custom runtime, even when configured', () => {
    const env = lambdaEnvironment({
      ...base,
      configured: {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_SESSION_TOKEN: 'c',
        AWS_ACCESS_KEY: 'd',
        AWS_SECRET_KEY: 'e',
        AWS_SECURITY_TOKEN: 'f',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
        _X_AMZN_TRACE_ID: 'Root=1-x',
        KEEP: 'me',
      },
    });
    expect(Object.keys(env).filter((k) => /SECRET|SESSION|SECURITY|ACCESS_KEY|EXECUTION_ENV|TRACE_ID/.test(k))).toEqual([]);
    expect(env.KEEP).toBe('me');
  });
});
