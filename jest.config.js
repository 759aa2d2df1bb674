// ESM + ts-jest: run with NODE_OPTIONS=--experimental-vm-modules (see package.json "test").
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  setupFiles: ['<rootDir>/__tests__/helpers/quiet-sdk-node-notice.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
  verbose: true
}
