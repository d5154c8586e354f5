/**
 * The `FunctionName` of Lambda's Invoke API, in every form Lambda accepts (its API reference,
 * "Name formats"): a name (`my-function`), a name with a qualifier (`my-function:v1`), a full ARN
 * (`arn:aws:lambda:us-west-2:123456789012:function:my-function`, optionally `:qualifier`), or a
 * partial ARN (`123456789012:function:my-function`). Pure: parsing only, no lookup.
 */

/** The account in ARNs made up locally, where there is no account. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The one version a local function has: Lambda's unpublished one. */
export const LATEST = '$LATEST';

export interface ParsedFunctionName {
  /** The function's name, without region, account or qualifier. */
  readonly name: string;
  readonly qualifier: string | undefined;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

// Lambda's own pattern for the parameter, split into its parts.
const FULL_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(\d{12}):function:([a-zA-Z0-9_.-]+)(?::([a-zA-Z0-9_$.-]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([a-zA-Z0-9_.-]+)(?::([a-zA-Z0-9_$.-]+))?$/;
const NAME = /^([a-zA-Z0-9_.-]+)(?::([a-zA-Z0-9_$.-]+))?$/;

/** The parts of a FunctionName, or undefined when it matches none of Lambda's forms. */
export function parseFunctionName(value: string): ParsedFunctionName | undefined {
  const full = FULL_ARN.exec(value);
  if (full) return { region: full[1], account: full[2], name: full[3]!, qualifier: full[4] };
  const partial = PARTIAL_ARN.exec(value);
  if (partial) return { region: undefined, account: partial[1], name: partial[2]!, qualifier: partial[3] };
  const plain = NAME.exec(value);
  if (plain) return { region: undefined, account: undefined, name: plain[1]!, qualifier: plain[2] };
  return undefined;
}

/** A function's ARN as Lambda writes it, with the qualifier when one was named. */
export function functionArn(region: string, name: string, account = LOCAL_ACCOUNT_ID, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
}
