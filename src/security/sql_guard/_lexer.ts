/**
 * A PostgreSQL lexer for screening, not parsing: it splits SQL text into
 * tokens the way the server would (PostgreSQL `scan.l`), so the detector's
 * rules never look inside string literals, quoted identifiers or comments.
 * It never throws: unterminated literals and comments become tokens with
 * `unterminated` set, because a broken quote is itself evidence.
 *
 * Linear in the input; no regular expression runs over unbounded input
 * except sticky, anchored ones.
 */

/** Token categories. */
export type TokenType =
  | "word" // keyword or unquoted identifier
  | "qident" // "quoted identifier" (also U&"...")
  | "string" // '...', E'...', B'...', X'...', N'...', U&'...', $tag$...$tag$
  | "number"
  | "param" // $1
  | "op" // operator run (+ - * / < > = ~ ! @ # % ^ & | ` ?)
  | "punct" // ( ) [ ] , ; : :: .
  | "line_comment"
  | "block_comment"
  | "other"; // anything else (\, {, }, NUL …)

/** One token. */
export interface Token {
  readonly type: TokenType;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
  /**
   * Words: lower-cased text. Quoted identifiers: body (case kept).
   * Strings and comments: the raw body between the delimiters.
   * Everything else: the text.
   */
  readonly value: string;
  /** String/identifier prefix: "", "e", "b", "x", "n", "u&", or the dollar tag (`$fn$`). */
  readonly prefix: string;
  /** A literal, quoted identifier or block comment that the input ended inside. */
  readonly unterminated: boolean;
  /** Whitespace immediately precedes this token (or it starts the input). */
  readonly spaceBefore: boolean;
}

// Character classes for ASCII (everything >= 0x80 is an identifier character,
// as in PostgreSQL's scan.l `ident_start`).
const SPACE = 1;
const IDENT_START = 2;
const DIGIT = 3;
const OP = 4; // scan.l `op_chars`: + - * / < > = ~ ! @ # % ^ & | ` ?
const PUNCT = 5; // ( ) [ ] , ; : .
const CLASS = new Uint8Array(128);
for (const c of " \t\n\v\f\r") CLASS[c.charCodeAt(0)] = SPACE;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = CLASS[c + 0x20] = IDENT_START;
CLASS[0x5f] = IDENT_START;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
for (const c of "+-*/<>=~!@#%^&|`?") CLASS[c.charCodeAt(0)] = OP;
for (const c of "()[],;:.") CLASS[c.charCodeAt(0)] = PUNCT;
// Characters that let a multi-character operator end in + or - (scan.l).
const OP_SPECIAL = /[~!@#%^&|`?]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

function classOf(c: number): number {
  return c < 0x80 ? CLASS[c] : c !== c ? 0 : IDENT_START; // NaN (past the end) → 0
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isIdentChar(c: number): boolean {
  const k = classOf(c);
  return k === IDENT_START || k === DIGIT || c === 0x24;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Split `text` into tokens (comments included, whitespace dropped). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  let space = true;

  const push = (
    type: TokenType,
    start: number,
    end: number,
    value: string,
    prefix = "",
    unterminated = false,
  ) => {
    out.push({ type, start, end, value, prefix, unterminated, spaceBefore: space });
    space = false;
  };

  // Reads a quoted run starting at the opening quote `q`; returns [end, terminated].
  const quoted = (q: number, quote: number, backslash: boolean): [number, boolean] => {
    let j = q + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (backslash && c === 0x5c) {
        j += 2;
        continue;
      }
      if (c === quote) {
        if (text.charCodeAt(j + 1) === quote) {
          j += 2;
          continue;
        }
        return [j + 1, true];
      }
      j++;
    }
    return [n, false];
  };

  const literal = (start: number, q: number, prefix: string) => {
    const quote = text.charCodeAt(q);
    const [end, ok] = quoted(q, quote, prefix === "e");
    const body = text.slice(q + 1, ok ? end - 1 : end);
    push(quote === 0x22 ? "qident" : "string", start, end, body, prefix, !ok);
    i = end;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    const cls = classOf(c);
    if (cls === SPACE) {
      space = true;
      i++;
      continue;
    }
    const start = i;
    if (c === 0x2d && next === 0x2d) { // -- line comment
      let j = text.indexOf("\n", i + 2);
      if (j < 0) j = n;
      push("line_comment", start, j, text.slice(i + 2, j));
      i = j;
    } else if (c === 0x2f && next === 0x2a) { // /* block comment */, nested as in PostgreSQL
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        const a = text.charCodeAt(j);
        const b = text.charCodeAt(j + 1);
        if (a === 0x2f && b === 0x2a) {
          depth++;
          j += 2;
        } else if (a === 0x2a && b === 0x2f) {
          depth--;
          j += 2;
        } else j++;
      }
      const open = depth > 0;
      push("block_comment", start, j, text.slice(i + 2, open ? n : j - 2), "", open);
      i = j;
    } else if (c === 0x27 || c === 0x22) { // 'string' or "identifier"
      literal(start, i, "");
    } else if (c === 0x24) { // $1, $tag$…$tag$, or a stray $
      if (isDigit(next)) {
        let j = i + 1;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
        push("param", start, j, text.slice(start, j));
        i = j;
        continue;
      }
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(text);
      if (m) {
        const tag = m[0];
        const bodyStart = i + tag.length;
        const close = text.indexOf(tag, bodyStart);
        const end = close < 0 ? n : close + tag.length;
        push("string", start, end, text.slice(bodyStart, close < 0 ? n : close), tag, close < 0);
        i = end;
      } else {
        push("other", start, i + 1, "$");
        i++;
      }
    } else if (cls === IDENT_START) {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      const word = text.slice(i, j).toLowerCase();
      const after = text.charCodeAt(j);
      if (after === 0x27 && (word === "e" || word === "b" || word === "x" || word === "n")) {
        literal(start, j, word);
      } else if (
        word === "u" && after === 0x26 &&
        (text.charCodeAt(j + 1) === 0x27 || text.charCodeAt(j + 1) === 0x22)
      ) {
        literal(start, j + 1, "u&");
      } else {
        push("word", start, j, word);
        i = j;
      }
    } else if (cls === DIGIT || (c === 0x2e && isDigit(next))) {
      let j = i;
      const radix = c === 0x30 ? text[i + 1]?.toLowerCase() : undefined;
      if ((radix === "x" || radix === "o" || radix === "b") && isHexDigit(text.charCodeAt(i + 2))) {
        j = i + 2;
        while (j < n && (isHexDigit(text.charCodeAt(j)) || text.charCodeAt(j) === 0x5f)) j++;
      } else {
        while (j < n && (isDigit(text.charCodeAt(j)) || text.charCodeAt(j) === 0x5f)) j++;
        if (text.charCodeAt(j) === 0x2e && text.charCodeAt(j + 1) !== 0x2e) {
          j++;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
        }
        const e = text.charCodeAt(j);
        if (e === 0x65 || e === 0x45) {
          let k = j + 1;
          const sign = text.charCodeAt(k);
          if (sign === 0x2b || sign === 0x2d) k++;
          if (isDigit(text.charCodeAt(k))) {
            j = k;
            while (j < n && isDigit(text.charCodeAt(j))) j++;
          }
        }
      }
      push("number", start, j, text.slice(start, j).toLowerCase());
      i = j;
    } else if (cls === OP) {
      let j = i;
      while (j < n && classOf(text.charCodeAt(j)) === OP) {
        // A comment start ends the operator (scan.l).
        if (j > i && (text.startsWith("--", j) || text.startsWith("/*", j))) break;
        j++;
      }
      let op = text.slice(i, j);
      // scan.l: a multi-character operator cannot end in + or - unless it
      // contains one of OP_SPECIAL, so `=-1` is `=` then `-1`.
      if (op.length > 1 && /[+-]$/.test(op) && !OP_SPECIAL.test(op)) {
        while (op.length > 1 && /[+-]$/.test(op)) op = op.slice(0, -1);
        j = i + op.length;
      }
      push("op", start, j, op);
      i = j;
    } else if (cls === PUNCT) {
      const len = c === 0x3a && next === 0x3a ? 2 : 1;
      push("punct", start, i + len, text.slice(i, i + len));
      i += len;
    } else {
      const len = c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
      push("other", start, i + len, text.slice(i, i + len));
      i += len;
    }
  }
  return out;
}
