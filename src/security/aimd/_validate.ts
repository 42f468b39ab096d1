// Option checks shared by the AIMD limiter and the load monitor. Private to
// this folder. Failures are SecurityError("SECURITY_INVALID_INPUT") so a bad
// config slice is reported with the option's name.

import { SecurityError } from "../../errors.ts";

function invalid(owner: string, name: string, value: number, rule: string): SecurityError {
  return new SecurityError(
    "SECURITY_INVALID_INPUT",
    `Cannot create ${owner}: ${name} ${value} must be ${rule}`,
  );
}

/** A finite number > 0. */
export function positive(owner: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw invalid(owner, name, value, "a finite number above 0");
  }
  return value;
}

/** A finite number ≥ 0. */
export function nonNegative(owner: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw invalid(owner, name, value, "a finite number ≥ 0");
  }
  return value;
}

/** An integer ≥ 1. */
export function positiveInt(owner: string, name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalid(owner, name, value, "an integer ≥ 1");
  }
  return value;
}

/** A number > 0, Infinity allowed (a disabled threshold). */
export function threshold(owner: string, name: string, value: number): number {
  if (Number.isNaN(value) || value <= 0) {
    throw invalid(owner, name, value, "above 0 (Infinity disables it)");
  }
  return value;
}

/** A number in the open or closed unit interval, as asked. */
export function fraction(
  owner: string,
  name: string,
  value: number,
  open: { readonly low: boolean; readonly high: boolean },
): number {
  const lowOk = open.low ? value > 0 : value >= 0;
  const highOk = open.high ? value < 1 : value <= 1;
  if (!Number.isFinite(value) || !lowOk || !highOk) {
    const rule = `in ${open.low ? "(" : "["}0, 1${open.high ? ")" : "]"}`;
    throw invalid(owner, name, value, rule);
  }
  return value;
}

/** Throw unless `low <= high`. */
export function ordered(
  owner: string,
  lowName: string,
  low: number,
  highName: string,
  high: number,
): void {
  if (low > high) {
    throw new SecurityError(
      "SECURITY_INVALID_INPUT",
      `Cannot create ${owner}: ${lowName} ${low} exceeds ${highName} ${high}`,
    );
  }
}
