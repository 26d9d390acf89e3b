// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const APPS = ['proxy', 'auth', 'extraction', 'pricing', 'ledger', 'api', 'cli', 'dashboard'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'compat/**', 'bench/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'libs never import apps' }] },
      ],
    },
  },
  {
    // Apps meet over the bus and the database, and share code through libs (by their @spendops/* name). The
    // launcher (apps/cli) composes the apps; tests that need several apps live in test/.
    files: ['apps/**/*.ts'],
    ignores: ['apps/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: APPS.flatMap((app) => [`**/${app}/src`, `**/${app}/src/**`]),
              message: 'apps never import other apps: use the bus, or move shared code to a lib',
            },
            { group: ['**/libs/**'], message: 'import a lib by its @spendops/<lib> name' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
