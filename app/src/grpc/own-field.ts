/**
 * Sets a field on an object built from untrusted input. Plain assignment is the fast path, but
 * assigning a key named "__proto__" would replace the object's prototype instead of adding a
 * field, so that one key becomes an ordinary own property.
 */
export function setOwnField<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
