import { jest } from '@jest/globals';

// Unit tests run no Docker and no servers: one that takes this long is stuck.
jest.setTimeout(20_000);
