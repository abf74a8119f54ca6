// Shared command-line addressing for the examples:
//   --vm-id GUID --service-id GUID   (Hyper-V style; any platform)
//   --cid N --port N                 (Linux vsock numbers)
'use strict';
const { parseArgs } = require('node:util');

const options = {
  'vm-id': { type: 'string' },
  'service-id': { type: 'string' },
  cid: { type: 'string' },
  port: { type: 'string' },
  message: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function number(text, name) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

/** Parses argv into { address, message, help }; address holds only what was given. */
function parseAddressArgs(argv) {
  const { values } = parseArgs({ args: argv, options, strict: true });
  const address = {};
  if (values['vm-id'] !== undefined) address.vmId = values['vm-id'];
  if (values['service-id'] !== undefined) address.serviceId = values['service-id'];
  if (values.cid !== undefined) address.cid = number(values.cid, 'cid');
  if (values.port !== undefined) address.port = number(values.port, 'port');
  return { address, message: values.message, help: values.help === true };
}

module.exports = { parseAddressArgs };
