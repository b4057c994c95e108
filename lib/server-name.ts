import { z } from "zod";

/** Letters, digits, "-", "_", "." — safe as a file name, a label value and a command-line word. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export const ServerName = z
  .string()
  .regex(NAME_PATTERN, "expected letters, digits, '-', '_' or '.', not starting with '-' or '.'");
