// Lambda's FunctionName forms (its API reference, "Name formats"), parsed without a lookup.
import { describe, expect, it } from '@jest/globals';
import { functionArn, parseFunctionName } from '../../invoke/function-name.js';

describe('parseFunctionName', () => {
  it.each([
    ['my-function', { name: 'my-function', qualifier: undefined, region: undefined, account: undefined }],
    ['my-function:$LATEST', { name: 'my-function', qualifier: '$LATEST', region: undefined, account: undefined }],
    ['my_function.v2:live', { name: 'my_function.v2', qualifier: 'live', region: undefined, account: undefined }],
    ['123456789012:function:my-function', { name: 'my-function', qualifier: undefined, region: undefined, account: '123456789012' }],
    ['123456789012:function:my-function:7', { name: 'my-function', qualifier: '7', region: undefined, account: '123456789012' }],
    [
      'arn:aws:lambda:us-west-2:123456789012:function:my-function',
      { name: 'my-function', qualifier: undefined, region: 'us-west-2', account: '123456789012' },
    ],
    [
      'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-function:$LATEST',
      { name: 'my-function', qualifier: '$LATEST', region: 'us-gov-west-1', account: '123456789012' },
    ],
  ])('reads %s', (value, parts) => {
    expect(parseFunctionName(value)).toEqual(parts);
  });

  it.each(['', 'a/b', 'my function', 'arn:aws:lambda:us-west-2:123:function:short-account', 'arn:aws:s3:::bucket', 'name:qual:extra'])(
    'finds no function name in %j',
    (value) => {
      expect(parseFunctionName(value)).toBeUndefined();
    },
  );
});

describe('functionArn', () => {
  it('writes the ARN in the local account unless one is given, with the qualifier when there is one', () => {
    expect(functionArn('eu-west-1', 'f')).toBe('arn:aws:lambda:eu-west-1:000000000000:function:f');
    expect(functionArn('eu-west-1', 'f', '123456789012', '$LATEST')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST');
  });
});
