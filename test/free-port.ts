/** The tests' ports: jepsen-lite's picker (below the ephemeral range, reserved across files). */
export { freePort, freePortBlock } from '../jepsen-lite/runner/free-port.js';
