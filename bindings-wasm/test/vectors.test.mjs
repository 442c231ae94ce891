// Every golden vector file in tests/vectors/ runs in place (never copied)
// against the WASM build (shared runner: js/test-support/vectors.mjs).
import kp from '../pkg/node.js';
import { vectorTests } from '../../js/test-support/vectors.mjs';

vectorTests(kp, 'wasm');
