// node --import ./register.mjs out/main/index.js: run the built Electron main process under plain
// Node with a recording stand-in for the 'electron' module.
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
