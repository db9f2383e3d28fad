// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
// The plugin from source (`npm run lint` runs eslint under tsx): the project lints itself
// with its own recommended config, which must report nothing.
import asyncsafe from './src/eslint/index.ts'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/api/**', 'test/consumer/**', '.tmp/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  asyncsafe.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Library code deliberately checks values the types say cannot occur (eager validation of JS callers).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/class-literal-property-style': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/consistent-type-definitions': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/prefer-for-of': 'off',
      // Typed arrays and indexed access under noUncheckedIndexedAccess in hot paths.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Rules compare ESTree `type` strings: the plugin has no runtime import of
    // @typescript-eslint/utils (whose AST_NODE_TYPES enum this rule wants).
    files: ['src/eslint/**'],
    rules: { '@typescript-eslint/no-unsafe-enum-comparison': 'off' },
  },
  {
    // Tests, benchmarks and scripts create these hazards on purpose: they release guards by
    // hand to exercise release and dispose, block the loop to provoke stalls, and detach
    // promises to observe interleavings; scripts are CLIs where blocking I/O is fine.
    // src/ and examples/ get the whole recommended config.
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      'asyncsafe/require-using': 'off',
      'asyncsafe/no-blocking-in-async': 'off',
    },
  },
  {
    files: ['test/**'],
    rules: { 'asyncsafe/no-floating-detached': 'off' },
  },
  {
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
)
