import { Testing } from 'cdktf';

/**
 * cdktf's jest matchers (toHaveResourceWithProperties, ...), registered on jest's global expect,
 * with their types declared for `expect` from @jest/globals.
 */
Testing.setupJest();

declare module 'expect' {
  interface Matchers<R> {
    toHaveResource(resourceType: unknown): R;
    toHaveResourceWithProperties(resourceType: unknown, properties: Record<string, unknown>): R;
    toHaveDataSourceWithProperties(dataSourceType: unknown, properties: Record<string, unknown>): R;
    toHaveProviderWithProperties(providerType: unknown, properties: Record<string, unknown>): R;
  }
}
