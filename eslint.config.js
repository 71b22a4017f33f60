// Flat config: syntax-level TypeScript rules only. Type-aware linting is left to `tsc`,
// which `npm test` runs first; doing both doubles the cost on a 2-core CI machine.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.cache/', '.run/', 'charts/', 'crds/', 'grafana/**/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read environment variables only in pipeline/src/bin or operator/src/main via loadConfig().',
        },
      ],
    },
  },
  {
    // Composition roots, scripts and tests may read the environment.
    files: ['pipeline/src/bin/**', 'operator/src/main.ts', 'scripts/**', 'test/**', '**/*.test.ts', 'vitest.config.ts', 'bin/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
