/**
 * The 6 digits of an authenticator code as typed or pasted ("123 456" is how many apps show it),
 * or null when it cannot be one: the server counts a wrong code towards the account's lockout.
 */
export function otpCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '')
  return /^\d{6}$/.test(digits) ? digits : null
}
