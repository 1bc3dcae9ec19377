/**
 * A local, deliberately pessimistic token estimate (countTokens would be a network call per
 * job): about 4 characters per token for Latin script, 2 for other alphabets (Cyrillic,
 * Greek, Arabic, Devanagari, ...), 1 for CJK, kana and Hangul, where one character is
 * often a whole token or more.
 */
function charCost(code: number): number {
  if (code <= 0x024f) return 0.25; // ASCII and Latin extensions
  if (
    (code >= 0x2e80 && code <= 0x9fff) || // CJK radicals, kana, CJK ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK compatibility ideographs
    code >= 0x10000 // astral planes: emoji, CJK extensions, historic scripts
  ) {
    return 1;
  }
  return 0.5;
}

export function estimateTokens(text: string): number {
  let cost = 0;
  for (const ch of text) cost += charCost(ch.codePointAt(0)!);
  return Math.ceil(cost);
}

// A sentence ends at . ! ? … (or their CJK forms), maybe followed by closing quotes/brackets.
const SENTENCE_END = /[.!?…。！？][)"'’”»]*(?=\s|$)|[。！？]/g;

export interface Budgeted {
  text: string;
  truncated: boolean;
  estimated_tokens: number;
}

/**
 * Cuts `text` to at most `maxTokens` (by the estimate above), at the last sentence end that
 * keeps at least half of the allowed text, else at the last word boundary, else hard.
 */
export function fitToBudget(text: string, maxTokens: number): Budgeted {
  const full = estimateTokens(text);
  if (full <= maxTokens) return { text, truncated: false, estimated_tokens: full };

  // Longest prefix (in whole code points) within the budget.
  let cost = 0;
  let end = 0;
  for (const ch of text) {
    const next = cost + charCost(ch.codePointAt(0)!);
    if (next > maxTokens) break;
    cost = next;
    end += ch.length;
  }
  const prefix = text.slice(0, end);

  let cut = -1;
  for (const m of prefix.matchAll(SENTENCE_END)) cut = m.index + m[0].length;
  if (cut < prefix.length / 2) {
    // The prefix may already end at a word boundary (the next character is a space).
    const space = /\s/.test(text[end] ?? "") ? prefix.length : prefix.search(/\s\S*$/);
    cut = space > 0 ? space : prefix.length;
  }
  const kept = prefix.slice(0, cut).trimEnd();
  return { text: kept, truncated: true, estimated_tokens: estimateTokens(kept) };
}
