/**
 * A recognizer for the STIX 2.1 patterning language, a direct port of OASIS's ANTLR grammar
 * (`pattern_grammar/STIXPattern.g4` in oasis-open/cti-stix2-json-schemas, the grammar OASIS's
 * own pattern validator is generated from). The JSON schemas only say `pattern` is a string;
 * this says whether it parses. No npm package ships the grammar's parser, and generating one
 * needs the ANTLR tool (Java), so the rules are transcribed here, one function per rule, with
 * the grammar's left recursion written as loops. Returns the first problem, or undefined.
 */

type Token = { kind: string; text: string; at: number };

// Lexer rules, in the grammar's order of precedence (keywords before identifiers).
const LEXER: Array<[string, RegExp]> = [
  ['ws', /\s+/y],
  ['comment', /\/\*[\s\S]*?\*\/|\/\/[^\r\n]*/y],
  ['Timestamp', /t'\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z'/y],
  ['Hex', /h'([0-9a-fA-F]{2})*'/y],
  ['Binary', /b'([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'/y],
  ['String', /'(?:[^'\\]|\\'|\\\\)*'/y],
  ['Float', /[+-]?\d*\.\d+/y],
  ['Int', /[+-]?(0|[1-9]\d*)/y],
  ['Keyword', /(AND|OR|NOT|FOLLOWEDBY|LIKE|MATCHES|ISSUPERSET|ISSUBSET|EXISTS|LAST|IN|START|STOP|SECONDS|TIMES|WITHIN|REPEATS|true|false)(?![A-Za-z0-9_-])/y],
  ['IdentifierWithoutHyphen', /[a-zA-Z_][a-zA-Z0-9_]*(?![-A-Za-z0-9_])/y],
  ['IdentifierWithHyphen', /[a-zA-Z_][a-zA-Z0-9_-]*/y],
  ['Op', /<>|!=|>=|<=|==|=|>|<|\[|\]|\(|\)|:|,|\.|\*/y],
];

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < pattern.length) {
    let matched = false;
    for (const [kind, regex] of LEXER) {
      regex.lastIndex = at;
      const match = regex.exec(pattern);
      if (!match || match[0] === '') continue;
      if (kind !== 'ws' && kind !== 'comment') tokens.push({ kind: kind === 'Keyword' || kind === 'Op' ? match[0] : kind, text: match[0], at });
      at += match[0].length;
      matched = true;
      break;
    }
    if (!matched) throw new Error(`unexpected character ${JSON.stringify(pattern[at])} at ${at}`);
  }
  return tokens;
}

export function stixPatternProblem(pattern: string): string | undefined {
  let tokens: Token[];
  try {
    tokens = tokenize(pattern);
  } catch (error) {
    return (error as Error).message;
  }
  let i = 0;
  const peek = (offset = 0) => tokens[i + offset]?.kind;
  const fail = (what: string): never => {
    throw new Error(`expected ${what} at ${tokens[i]?.at ?? pattern.length}${tokens[i] ? ` (got ${JSON.stringify(tokens[i]!.text)})` : ' (end)'}`);
  };
  const expect = (...kinds: string[]): Token => (kinds.includes(peek() ?? '') ? tokens[i++]! : fail(kinds.join(' or ')));
  const accept = (kind: string) => (peek() === kind ? tokens[i++] : undefined);

  const ORDERABLE = ['Int', 'Float', 'String', 'Binary', 'Hex', 'Timestamp'];
  const PRIMITIVE = [...ORDERABLE, 'true', 'false'];

  // The grammar's left-recursive `x: x OP x | operand` rules, as loops: operand (OP operand)*.
  const chain = (operator: string, operand: () => void) => (): void => {
    operand();
    while (accept(operator)) operand();
  };
  // observationExpressions: FOLLOWEDBY over OR over AND over observationExpression.
  const observationExpressions: () => void = chain('FOLLOWEDBY', () => observationOr());
  const observationOr = chain('OR', () => observationAnd());
  const observationAnd = chain('AND', () => observationExpression());
  // comparisonExpression: OR over AND over propTest.
  const comparisonExpression: () => void = chain('OR', () => comparisonAnd());
  const comparisonAnd = chain('AND', () => propTest());
  function observationExpression(): void {
    if (accept('[')) {
      comparisonExpression();
      expect(']');
    } else {
      expect('(');
      observationExpressions();
      expect(')');
    }
    // Qualifiers, any number, in any order.
    for (;;) {
      if (accept('START')) {
        expect('Timestamp');
        expect('STOP');
        expect('Timestamp');
      } else if (accept('WITHIN')) {
        const n = expect('Int', 'Float');
        if (n.text.startsWith('-')) fail('a positive number');
        expect('SECONDS');
      } else if (accept('REPEATS')) {
        const n = expect('Int');
        if (n.text.startsWith('-')) fail('a positive integer');
        expect('TIMES');
      } else return;
    }
  }
  function propTest(): void {
    if (accept('(')) {
      comparisonExpression();
      expect(')');
      return;
    }
    if (peek() === 'EXISTS' || (peek() === 'NOT' && peek(1) === 'EXISTS')) {
      accept('NOT');
      expect('EXISTS');
      objectPath();
      return;
    }
    objectPath();
    accept('NOT');
    const op = expect('=', '==', '!=', '<>', '>', '<', '>=', '<=', 'IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET');
    if (['=', '==', '!=', '<>'].includes(op.kind)) expect(...PRIMITIVE);
    else if (['>', '<', '>=', '<='].includes(op.kind)) expect(...ORDERABLE);
    else if (op.kind === 'IN') {
      expect('(');
      if (!accept(')')) {
        expect(...PRIMITIVE);
        while (accept(',')) expect(...PRIMITIVE);
        expect(')');
      }
    } else expect('String');
  }
  function objectPath(): void {
    expect('IdentifierWithoutHyphen', 'IdentifierWithHyphen');
    expect(':');
    expect('IdentifierWithoutHyphen', 'String');
    for (;;) {
      if (accept('.')) expect('IdentifierWithoutHyphen', 'String');
      else if (peek() === '[' && ['Int', '*'].includes(peek(1) ?? '') && peek(2) === ']') i += 3;
      else return;
    }
  }

  try {
    observationExpressions();
    if (i < tokens.length) fail('the end of the pattern');
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}
