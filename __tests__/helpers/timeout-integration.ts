import { jest } from '@jest/globals';

// A safety net for hung processes, not a performance assertion: a cold build with no caches
// (builder image, cargo from scratch) takes minutes on a small machine.
jest.setTimeout(15 * 60 * 1000);
