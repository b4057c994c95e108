/** Letters, digits, "-", "_", "." — safe as a file name, a label value and a command-line word. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/**
 * Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: a name holding
 * one could start a line of its own in a plain-text mail or a log. Refused in names read from data.
 */
export const CONTROL_CHARACTER = /[\p{Cc}\u2028\u2029]/u;
