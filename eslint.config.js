// Lint: strict type-aware rules from the style guide, and the import boundaries
// (apps → libs only; libs never import apps; no app imports another; no deep lib imports).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const apps = ['scheduler', 'notifier', 'password-sync', 'directory-source', 'console', 'cli'];
const deepLibImport = { group: ['@idm/*/*'], message: 'Import a lib through its package name only (its index.ts).' };

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', 'deploy/**', 'examples/**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      'no-restricted-imports': ['error', { patterns: [deepLibImport] }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [deepLibImport, { group: ['**/apps/**'], message: 'Libs never import apps.' }] }],
    },
  },
  ...apps.map((app) => ({
    files: [`apps/${app}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepLibImport,
            { group: ['**/libs/**'], message: 'Import libs by package name (@idm/<lib>).' },
            ...apps
              .filter((a) => a !== app)
              .map((other) => ({
                group: [`**/${other}/**`, `**/apps/${other}*`],
                message: 'Apps never import each other: talk through events.',
              })),
          ],
        },
      ],
    },
  })),
  {
    // The example stands for a service in another repository: the public contracts only.
    files: ['examples/**/*.ts'],
    ignores: ['examples/**/*.int-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [deepLibImport, { group: ['@idm/*', '!@idm/contracts'], message: 'An example subscriber uses only @idm/contracts.' }] },
      ],
    },
  },
);
