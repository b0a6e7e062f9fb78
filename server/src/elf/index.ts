export * from './constants.js';
export * from './errors.js';
export * from './file.js';
export * from './relocations.js';
export * from './symbols.js';
export * from './view.js';
