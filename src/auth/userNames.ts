/**
 * User names that cannot pass for one another.
 *
 * - Names are stored and shown in NFKC (Unicode normalisation form KC, UAX #15): full-width
 *   `ａｌｉｃｅ` becomes `alice`, `ﬁ` becomes `fi`, so compatibility look-alikes collapse.
 * - Names are compared by {@link userNameKey}: NFKC, then case-folded, with the Turkish dotted and
 *   dotless i folded to plain `i` (`İstanbul`, `ISTANBUL` and `ıstanbul` are one name).
 * - A name must not mix scripts ({@link mixedScripts}): `Аlice` with a Cyrillic А is refused. The
 *   rule is UTS #39's "Highly Restrictive" level (https://www.unicode.org/reports/tr39/#Restriction_Level_Detection):
 *   one script, or Latin with the scripts a CJK language writes together (Han with Hiragana and
 *   Katakana, Han with Bopomofo, Han with Hangul), none of which can be confused with Latin.
 *   Digits, `_`, `-`, `.` and spaces belong to no script (Common) and go with any.
 */

/**
 * Scripts told apart: UAX #31's "Recommended Scripts" (https://www.unicode.org/reports/tr31/#Table_Recommended_Scripts),
 * the scripts in common modern use. A letter of any other script counts as script `Other`, so it
 * cannot be mixed with these either.
 */
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Armenian',
  'Georgian',
  'Hebrew',
  'Arabic',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Khmer',
  'Ethiopic',
  'Han',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Hangul',
] as const;

const SCRIPT_PATTERNS = SCRIPTS.map((name) => ({ name, pattern: new RegExp(`^\\p{Script=${name}}$`, 'u') }));
/** Script=Common (digits, punctuation, the Japanese long-vowel mark ー) and Script=Inherited (marks). */
const NEUTRAL = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/** Script sets a name may use together besides a single script (UTS #39, Highly Restrictive). */
const ALLOWED_COMBINATIONS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** The script of one character, or undefined when it belongs to none (Common or Inherited). */
function scriptOf(char: string): string | undefined {
  if (NEUTRAL.test(char)) return undefined;
  return SCRIPT_PATTERNS.find((s) => s.pattern.test(char))?.name ?? 'Other';
}

/** The scripts the characters of `name` belong to, in order of first use (Common/Inherited left out). */
export function scriptsOf(name: string): string[] {
  const scripts = new Set<string>();
  for (const char of name) {
    const script = scriptOf(char);
    if (script) scripts.add(script);
  }
  return [...scripts];
}

/**
 * The scripts `name` mixes when that is not allowed (e.g. `['Latin', 'Cyrillic']` for `Аlice`), or
 * undefined when the name keeps to one script or an allowed CJK combination.
 */
export function mixedScripts(name: string): string[] | undefined {
  const scripts = scriptsOf(name);
  if (scripts.length <= 1) return undefined;
  if (ALLOWED_COMBINATIONS.some((allowed) => scripts.every((s) => allowed.has(s)))) return undefined;
  return scripts;
}

/** The form a name is stored and shown in: NFKC, trimmed. */
export function normalizeUserName(name: string): string {
  return name.normalize('NFKC').trim();
}

/**
 * The key two names are equal by: NFKC, case-folded, Turkish i's unified. Lower-case and stable
 * under `toLowerCase()`, as the store's `nameKey` is.
 *
 * JavaScript has no case folding; upper-casing first and then lower-casing gives it for names
 * (`ß` → `SS` → `ss`, final `ς` → `Σ` → `σ`/`ς` by position, `ı` → `I` → `i`). `İ` lower-cases to
 * `i` plus U+0307 COMBINING DOT ABOVE, which is dropped.
 */
export function userNameKey(name: string): string {
  return normalizeUserName(name)
    .toUpperCase()
    .toLowerCase()
    .replace(/i\u0307/g, 'i')
    .normalize('NFKC');
}
