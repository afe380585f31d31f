#!/usr/bin/env node
// The CLI, bundled into one file by `npm run build` (which `npm install` runs through `prepare`).
import "../dist/trade-exec.mjs"
