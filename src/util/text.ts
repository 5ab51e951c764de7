/** Free text that reaches generated code or one-line outputs (names, rule texts). */

/** Control characters and Unicode line and paragraph separators: what could end a comment or a line. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
const BREAKS_A_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;

/**
 * Free text (a schema, policy, model or registry name, a rule's text) made safe for a `//` comment of generated code:
 * every control character and line separator becomes a space, so no text can end its comment and be read as code
 * (a schema named `"x\n/*"` once commented out a dataset circuit's rules: test/attack-refactor.test.ts).
 */
export function commentText(text: string): string {
  return text.replace(BREAKS_A_LINE, ' ');
}

/** The first control character or line separator of `text`, for errors that refuse such names, or undefined. */
export function lineBreakingCharacter(text: string): { index: number; codePoint: string } | undefined {
  const match = new RegExp(BREAKS_A_LINE.source, 'u').exec(text);
  return match
    ? { index: match.index, codePoint: `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` }
    : undefined;
}
