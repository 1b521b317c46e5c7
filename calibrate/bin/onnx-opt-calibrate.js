#!/usr/bin/env node
'use strict';
require('../calibrate.js').main().then((code) => { process.exitCode = code; });
