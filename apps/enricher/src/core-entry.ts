/**
 * dist/core.js of the bundle: the bundle's own copy of @x/core, the one its commands and its
 * shipped plugins use. Plugins from outside get it too (src/core-hooks.ts), so a process has one core.
 */
export * from '@x/core';
