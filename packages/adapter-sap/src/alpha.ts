// ALPHA conversion of all-numeric keys (order numbers, materials, batches) between SAP's internal
// zero-padded form and the external form people and the canonical model use.

const DIGITS = /^\d+$/;
const LEADING_ZEROS = /^0+(?=\d)/;

/**
 * ALPHA input conversion: pad an all-numeric value with leading zeros to the property's MaxLength
 * (SAP's internal form, as BAPIs and IDocs want it). Other values are returned unchanged.
 *
 * @param value - the external value, e.g. `1000123`
 * @param maxLength - the property's MaxLength from the EDMX, e.g. 12
 * @returns the internal value, e.g. `000001000123`
 * @example
 * ```ts
 * alphaToInternal("1000123", 12); // "000001000123"
 * ```
 */
export function alphaToInternal(value: string, maxLength: number): string {
  return DIGITS.test(value) && value.length < maxLength ? value.padStart(maxLength, "0") : value;
}

/**
 * ALPHA output conversion: strip the leading zeros of an all-numeric value (one zero is kept
 * when the value is all zeros, so the result is never empty). Other values are returned unchanged.
 *
 * @param value - the internal value, e.g. `000001000123`
 * @returns the external value, e.g. `1000123`
 * @example
 * ```ts
 * alphaToExternal("000001000123"); // "1000123"
 * ```
 */
export function alphaToExternal(value: string): string {
  return DIGITS.test(value) ? value.replace(LEADING_ZEROS, "") : value;
}
