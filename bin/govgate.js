#!/usr/bin/env node
// The CLI runs the compiled output; `npm install` builds it through the `prepare` script.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 70;
  },
);
