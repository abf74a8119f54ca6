// GUID text <-> canonical form <-> Windows wire bytes.
import { invalidArgType, invalidArgValue } from '../errors';

const GUID_PATTERN = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** True for a GUID string in any case, with or without surrounding braces. */
export function isGuid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = GUID_PATTERN.exec(value);
  // Braces come in pairs or not at all.
  return match !== null && value.startsWith('{') === value.endsWith('}');
}

/**
 * Returns the canonical form of a GUID (lowercase, no braces).
 * Throws ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE naming `name`.
 */
export function parseGuid(value: unknown, name = 'guid'): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string (a GUID)', value);
  if (!isGuid(value)) {
    throw invalidArgValue(name, value, 'must be a GUID like "a42e7cda-d03f-480c-9cc2-a4de20abb878"');
  }
  return value.replace(/[{}]/g, '').toLowerCase();
}

/**
 * The 16 bytes of a GUID as Windows lays them out (SOCKADDR_HV, GUID struct):
 * Data1, Data2 and Data3 little-endian, Data4 as written.
 */
export function guidToBytes(guid: string): Uint8Array {
  const hex = parseGuid(guid).replace(/-/g, '');
  const text = Buffer.from(hex, 'hex');
  const out = new Uint8Array(16);
  out.set(text.subarray(0, 4).reverse(), 0);
  out.set(text.subarray(4, 6).reverse(), 4);
  out.set(text.subarray(6, 8).reverse(), 6);
  out.set(text.subarray(8, 16), 8);
  return out;
}

/** Inverse of guidToBytes: canonical GUID text from Windows wire bytes. */
export function guidFromBytes(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
    throw invalidArgType('bytes', 'a Uint8Array of length 16', bytes);
  }
  const b = Buffer.from(bytes);
  const hex = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8, 16),
  ]).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
