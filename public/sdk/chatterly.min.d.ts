// Types of chatterly.min.js: the same module as chatterly.js.
export * from './chatterly.js';
