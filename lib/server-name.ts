/** Letters, digits, "-", "_", "." — safe as a file name, a label value and a command-line word. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/**
 * Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: a name holding
 * one could start a line of its own in a plain-text mail or a log. Refused in names read from data.
 * The ranges are those of \p{Cc}, written out: compiling \p{…} loads Unicode tables, which every
 * sensor run would pay for (it checks its samples' names).
 */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
